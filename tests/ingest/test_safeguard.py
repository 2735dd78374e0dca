"""A load never replaces a dataset with less than the steward meant (ingest/safeguard.py), on both backends.

Each case loads a good version, then a version that would lose it, and compares the previous
version's catalog entry (digest, counts, load time) and its records before and after.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster

from beacon.model.plan import Query
from beacon.store.base import DatasetInfo, Store
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.errors import InputError, LoadRefused
from ingest.phenopackets.load import PhenopacketOptions, load_phenopackets
from ingest.safeguard import RejectLimit
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import new_mongo_source

DATA = Path(__file__).resolve().parents[1] / "data"
COLLECTIONS = ("datasets", "individuals", "biosamples", "g_variants")


@pytest.fixture(autouse=True)
def blockbuster(blockbuster: BlockBuster) -> None:
    """Loads run in the ingest CLI, where the MongoDB backend consumes the record stream on the event
    loop by design (there is no server to keep answering): blocking calls are allowed here."""
    blockbuster.deactivate()


Loader = Callable[[Path, Store, dict[str, Any]], Awaitable[object]]
Inputs = Callable[[Path], tuple[Path, Path]]


@asynccontextmanager
async def opened(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    store: Store = SqliteStore(tmp_path / "store.db") if backend == "sqlite" else new_mongo_source("guard").store()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


Snapshot = tuple[list[DatasetInfo], list[list[str]]]


async def snapshot(store: Store, dataset: str) -> Snapshot:
    """The dataset's catalog entry and the record ids of each collection, to compare before and after."""
    infos = [info for info in await store.datasets() if info.id == dataset]
    records = [
        sorted(d.get("id") or d.get("variantInternalId") or "" for d in await store.find(Query(c, (dataset,))))
        for c in COLLECTIONS
    ]
    return (infos, records)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- the three loaders, each with a good input and one whose every record is rejected -------------


async def bff(path: Path, store: Store, kw: dict[str, Any]) -> object:
    return await load_bff(path, "ds", store, **kw)


async def vcf(path: Path, store: Store, kw: dict[str, Any]) -> object:
    return await load_vcf([path], VcfOptions("ds", "GRCh37"), store, parse_in_child=False, **kw)


async def pheno(path: Path, store: Store, kw: dict[str, Any]) -> object:
    return await load_phenopackets([path], PhenopacketOptions("ds"), store, **kw)


def bff_inputs(tmp: Path) -> tuple[Path, Path]:
    bad = tmp / "bad_bff"
    write(bad / "individuals.json", json.dumps([{"id": "P1", "sex": "female"}, {"id": "P2", "sex": 7}]))
    return DATA / "bff" / "two_individuals", bad


def vcf_inputs(tmp: Path) -> tuple[Path, Path]:
    header = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    bad = write(tmp / "bad.vcf", header + "GL000192.1\t100\t.\tA\tG\t.\tPASS\t.\n")
    return DATA / "vcf" / "multiallelic_indel_needs_trim.vcf", bad


def pheno_inputs(tmp: Path) -> tuple[Path, Path]:
    bad = write(tmp / "bad_pp" / "P1.json", json.dumps({"subject": {"id": "x"}, "metaData": {}}))
    return DATA / "phenopackets" / "demo__P1.json", bad.parent


LOADERS = pytest.mark.parametrize(
    ("load", "inputs"),
    [(bff, bff_inputs), (vcf, vcf_inputs), (pheno, pheno_inputs)],
    ids=["BFF", "VCF", "phenopackets"],
)


@asynccontextmanager
async def after_a_good_load(
    backend: str, tmp_path: Path, load: Loader, inputs: Inputs
) -> AsyncIterator[tuple[Store, Path]]:
    """A store holding the good version of dataset ds, and the input whose every record is rejected."""
    good, bad = await asyncio.to_thread(inputs, tmp_path)
    async with opened(backend, tmp_path) as store:
        await load(good, store, {})
        yield store, bad


@LOADERS
async def test_a_reload_that_rejects_every_record_is_refused_and_the_previous_version_stays(
    backend: str, tmp_path: Path, load: Loader, inputs: Inputs
) -> None:
    async with after_a_good_load(backend, tmp_path, load, inputs) as (store, bad):
        before = await snapshot(store, "ds")
        assert any(before[1]), "the good version stored records"
        with pytest.raises(
            LoadRefused, match=r"^dataset ds not replaced: no record accepted \(\d+ record\(s\) rejected\)"
        ):
            await load(bad, store, {})
        assert await snapshot(store, "ds") == before


@LOADERS
async def test_allow_empty_is_the_explicit_way_to_empty_a_dataset(
    backend: str, tmp_path: Path, load: Loader, inputs: Inputs
) -> None:
    async with after_a_good_load(backend, tmp_path, load, inputs) as (store, bad):
        await load(bad, store, {"allow_empty": True})
        assert (await snapshot(store, "ds"))[1][1:] == [[], [], []]


@LOADERS
async def test_a_first_load_that_accepts_nothing_is_refused_too(
    backend: str, tmp_path: Path, load: Loader, inputs: Inputs
) -> None:
    _, bad = await asyncio.to_thread(inputs, tmp_path)
    async with opened(backend, tmp_path) as store:
        with pytest.raises(LoadRefused, match="no record accepted"):
            await load(bad, store, {})
        assert [i.id for i in await store.datasets()] == []


async def test_a_reload_that_would_lose_a_whole_collection_names_it(backend: str, tmp_path: Path) -> None:
    both = DATA / "bff" / "spec_filter_examples"
    only_individuals = tmp_path / "only_individuals"
    await asyncio.to_thread(write, only_individuals / "individuals.json", (both / "individuals.json").read_text())
    async with opened(backend, tmp_path) as store:
        await load_bff(both, "ds", store)
        before = await snapshot(store, "ds")
        with pytest.raises(LoadRefused, match=r"it would lose all of its \d+ biosamples \(no record rejected\)"):
            await load_bff(only_individuals, "ds", store)
        assert await snapshot(store, "ds") == before
        await load_bff(only_individuals, "ds", store, allow_empty=True)
        assert (await snapshot(store, "ds"))[1][2] == []


async def test_max_rejected_refuses_a_load_over_the_limit(backend: str, tmp_path: Path) -> None:
    half = DATA / "bff" / "invalid_individual_sex_not_object"  # one of two individuals invalid
    async with opened(backend, tmp_path) as store:
        await load_bff(DATA / "bff" / "two_individuals", "ds", store)
        before = await snapshot(store, "ds")
        with pytest.raises(LoadRefused, match=r"1 record\(s\) rejected, more than --max-rejected 40%"):
            await load_bff(half, "ds", store, max_rejected=RejectLimit.parse("40%"))
        with pytest.raises(LoadRefused, match=r"more than --max-rejected 0$|more than --max-rejected 0;"):
            await load_bff(half, "ds", store, max_rejected=RejectLimit.parse("0"))
        assert await snapshot(store, "ds") == before
        await load_bff(half, "ds", store, max_rejected=RejectLimit.parse("50%"))
        assert (await snapshot(store, "ds"))[1][1] == ["P1"]


@pytest.mark.parametrize(
    ("text", "count", "percent"), [("3", 3, False), ("2.5%", 2.5, True), (" 0 ", 0, False)], ids=str
)
def test_reject_limits_parse(text: str, count: float, percent: bool) -> None:
    assert RejectLimit.parse(text) == RejectLimit(count, percent)


@pytest.mark.parametrize("text", ["-1", "ten", "150%", "%"])
def test_reject_limits_that_are_not_counts_or_percentages_are_input_errors(text: str) -> None:
    with pytest.raises(InputError, match="is not a count"):
        RejectLimit.parse(text)
