"""After the records: the phases a load reports, and statistics refreshed in proportion to the load."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest

from beacon.store.sqlite import SqliteStore
from ingest import cli, console
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import DATA

SLICE = DATA / "vcf" / "1000g_grch37" / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"
SMALL = Path(__file__).resolve().parents[1] / "data" / "vcf" / "multiallelic_indel_needs_trim.vcf"


def statistics(db: Path) -> tuple[int, int, int]:
    """(records rows, the row count the planner's statistics give them, indexes present)."""
    with sqlite3.connect(db) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM records").fetchone()
        (stat,) = conn.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'records_by_dataset'").fetchone()
        (indexes,) = conn.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'index'").fetchone()
    return int(rows), int(str(stat).split()[0]), int(indexes)


async def test_a_load_into_an_empty_store_builds_its_indexes_and_a_small_one_keeps_them(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SqliteStore(db)
    await store.open()
    first: list[str] = []
    second: list[str] = []
    try:
        await load_vcf([SLICE], VcfOptions("big", "GRCh37", sites_only=True), store, phase=first.append)
        await load_vcf([SMALL], VcfOptions("small", "GRCh37"), store, phase=second.append)
    finally:
        await store.close()
    assert first == ["building indexes", "analysing", "switching"]
    # A few records into a store of thousands: indexes kept, statistics adjusted by the load's rows.
    assert second == ["analysing", "switching"]
    rows, planned, indexes = await asyncio.to_thread(statistics, db)
    assert planned == rows
    assert indexes >= 10


async def test_a_load_larger_than_the_store_drops_the_indexes_on_the_way(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    phases: list[str] = []
    try:
        await load_vcf([SMALL], VcfOptions("small", "GRCh37"), store)
        await load_vcf([SLICE], VcfOptions("big", "GRCh37", sites_only=True), store, phase=phases.append)
    finally:
        await store.close()
    assert phases == ["building indexes", "analysing", "switching"]


def test_the_cli_prints_the_phases_of_a_load_that_takes_a_while(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "_PHASES_AFTER_S", 0.0)  # as if the load had run long enough
    bff = Path(__file__).resolve().parents[1] / "data" / "bff" / "two_individuals"
    assert cli.main(["bff", str(bff), "--dataset", "p", "--store", f"sqlite:///{tmp_path / 's.db'}"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" (")[0] for line in lines] == ["building indexes", "analysing", "switching"]
    assert all(re.fullmatch(r"[a-z ]+ \(\d+\.\d s\)", line) for line in lines)


def test_a_quick_load_off_a_terminal_prints_no_phases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bff = Path(__file__).resolve().parents[1] / "data" / "bff" / "two_individuals"
    assert cli.main(["bff", str(bff), "--dataset", "q", "--store", f"sqlite:///{tmp_path / 's.db'}"]) == 0
    assert capsys.readouterr().err == ""
