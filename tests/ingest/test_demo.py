"""The demo cohort: deterministic, internally consistent, valid against the official model, and loadable."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.cli import main as beacon_main
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.demo import DATASET_ID, generate_demo
from tests.conftest import AiohttpClient, fetch, make_config


def read(directory: Path, name: str) -> list[dict[str, Any]]:
    with gzip.open(directory / f"{name}.json.gz") as handle:
        records: list[dict[str, Any]] = json.load(handle)
    return records


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out, individuals=120)
    return out


def test_same_seed_gives_byte_identical_files(demo_dir: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path, individuals=120)
    for path in sorted(demo_dir.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_records_reference_each_other(demo_dir: Path) -> None:
    people = {i["id"] for i in read(demo_dir, "individuals")}
    samples = {b["id"]: b["individualId"] for b in read(demo_dir, "biosamples")}
    runs = {r["id"]: r for r in read(demo_dir, "runs")}
    assert len(people) == 120
    assert set(samples.values()) == people
    assert all(r["biosampleId"] in samples and r["individualId"] == samples[r["biosampleId"]] for r in runs.values())
    for analysis in read(demo_dir, "analyses"):
        assert runs[analysis["runId"]]["biosampleId"] == analysis["biosampleId"]
    variants = read(demo_dir, "genomicVariations")
    assert len({v["variantInternalId"] for v in variants}) == len(variants) == 150
    for v in variants:
        assert v["caseLevelData"]
        assert {c["biosampleId"] for c in v["caseLevelData"]} <= set(samples)


async def test_every_record_loads_without_rejection(demo_dir: Path, tmp_path: Path) -> None:
    report = await load_bff(demo_dir, DATASET_ID, None)
    assert report.problems == []
    assert report.counts == {
        "datasets": 1,
        "cohorts": 1,
        "individuals": 120,
        "biosamples": 120,
        "runs": 120,
        "analyses": 120,
        "g_variants": 150,
    }


async def test_the_demo_beacon_answers_clinical_questions(
    demo_dir: Path, tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    store = SqliteStore(tmp_path / "demo.db")
    await store.open()
    await load_bff(demo_dir, DATASET_ID, store, assembly="GRCh38")
    await store.close()
    client: TestClient[Any, Any] = await aiohttp_client(create_app(make_config(f"sqlite:///{tmp_path / 'demo.db'}")))
    variants = read(demo_dir, "genomicVariations")
    brca2 = sum(1 for v in variants if "BRCA2" in v["molecularAttributes"]["geneIds"])
    doc = await fetch(client, "GET", "/api/g_variants", params={"geneId": "BRCA2", "requestedGranularity": "count"})
    assert doc["responseSummary"]["numTotalResults"] == brca2 > 0
    seizures = sum(
        1
        for i in read(demo_dir, "individuals")
        if any(f["featureType"]["id"] == "HP:0001250" and not f.get("excluded") for f in i["phenotypicFeatures"])
    )
    doc = await fetch(
        client, "GET", "/api/individuals", params={"filters": "HP:0001250", "requestedGranularity": "count"}
    )
    assert doc["responseSummary"]["numTotalResults"] == seizures > 0


def test_beacon_demo_command_loads_once_then_is_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    args = ["demo", "--store", f"sqlite:///{tmp_path / 'b.db'}", "--out", str(tmp_path / "bff"), "--individuals", "30"]
    assert beacon_main(args) == 0
    assert "demo dataset demo-cohort loaded" in capsys.readouterr().out
    assert beacon_main(args) == 0
    assert "demo dataset demo-cohort unchanged" in capsys.readouterr().out
