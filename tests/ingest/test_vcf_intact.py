"""Plain gzip inputs are read to their end beside the load; a cut one never replaces what the store holds."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from beacon.model.plan import Query
from beacon.store.sqlite import SqliteStore
from ingest.errors import InputError
from ingest.vcf.intact import IntactCheck
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import DATA

BGZF = DATA / "vcf" / "1000g_grch37" / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"
CUT_MESSAGE = "the compressed data is damaged or cut short"


def _plain(tmp_path: Path, name: str, kept: float = 1.0) -> Path:
    """The BGZF file as plain gzip, its first `kept` share of compressed bytes."""
    data = gzip.compress(gzip.decompress(BGZF.read_bytes()))
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * kept)])
    return path


def test_the_verdict_names_the_cut_file_and_passes_whole_ones(tmp_path: Path) -> None:
    whole, cut = _plain(tmp_path, "whole.vcf.gz"), _plain(tmp_path, "cut.vcf.gz", 0.3)
    IntactCheck([BGZF, whole]).verdict()
    check = IntactCheck([whole, cut])
    with pytest.raises(InputError, match=f"^cut.vcf.gz: {CUT_MESSAGE}"):
        check.verdict()


@pytest.mark.parametrize("kept", [0.3, 0.6, 0.99])
@pytest.mark.parametrize("in_child", [False, True], ids=["parsed here", "parsed in a child"])
async def test_a_cut_plain_gzip_leaves_the_stored_part_as_it_was(tmp_path: Path, kept: float, in_child: bool) -> None:
    whole = await asyncio.to_thread(_plain, tmp_path, "whole.vcf.gz")
    damaged = await asyncio.to_thread(_plain, tmp_path, "cut.vcf.gz", kept)
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        options = VcfOptions("v", "GRCh37", sites_only=True)
        before = await load_vcf([whole], options, store, parse_in_child=in_child)
        with pytest.raises(InputError, match=f"^cut.vcf.gz: {CUT_MESSAGE}"):
            await load_vcf([damaged], options, store, parse_in_child=in_child)
        assert await store.count_by_dataset(Query("g_variants", ("v",))) == {"v": before.variants_written}
        assert before.variants_written > 0
    finally:
        await store.close()


async def test_a_cut_that_htslib_reads_without_an_error_is_refused_before_the_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """htslib may end a cut plain gzip as if it were whole: the parse then succeeds and only the read to
    the end tells (here it says so of a whole file), before the store switches the part in."""
    whole = await asyncio.to_thread(_plain, tmp_path, "whole.vcf.gz")
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        options = VcfOptions("v", "GRCh37", sites_only=True)
        await load_vcf([BGZF], options, store, parse_in_child=False)
        before = await store.count_by_dataset(Query("g_variants", ("v",)))

        def cut(path: Path) -> None:
            msg = f"{path.name}: {CUT_MESSAGE} (simulated)"
            raise InputError(msg)

        monkeypatch.setattr("ingest.vcf.intact.check_intact", cut)
        phases: list[str] = []
        with pytest.raises(InputError, match=f"^whole.vcf.gz: {CUT_MESSAGE}"):
            await load_vcf([whole], options, store, parse_in_child=False, phase=phases.append)
        assert phases == []  # refused after the inserts, before any index build or switch
        assert await store.count_by_dataset(Query("g_variants", ("v",))) == before
    finally:
        await store.close()
