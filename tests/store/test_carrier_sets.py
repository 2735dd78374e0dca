"""Carriers as sample sets (beacon/store/carriers.py): which carrier lists become sets, and lookups that read
sets and keys together, zygosity picking the set, per dataset, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.plan import And, Compare, Field, HasTerm, Query, Related
from beacon.store.base import Store
from beacon.store.carriers import (
    HEMIZYGOUS,
    HETEROZYGOUS,
    HOMOZYGOUS,
    SampleIndex,
    carrier_mask,
    carrier_sets,
    case_level_data,
    members,
)
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from tests.backends import MongoSource, load_into, new_mongo_source
from tests.documents import chr22_snv

INDIVIDUALS, BIOSAMPLES, VARIANTS = (DEFAULT_TABLE.by_id(i) for i in ("individual", "biosample", "genomicVariant"))


def entry(biosample: str, zygosity: dict[str, str]) -> dict[str, Any]:
    return {"biosampleId": biosample, "zygosity": dict(zygosity)}


def test_a_vcf_shaped_list_becomes_one_set_per_zygosity_and_reads_back_as_loaded() -> None:
    samples = SampleIndex()
    for name in ("S0", "S1", "S2", "S3"):
        samples.add(name, "I" + name[1:])
    listed = [entry("S0", HOMOZYGOUS), entry("S2", HETEROZYGOUS), entry("S3", HEMIZYGOUS)]
    sets = carrier_sets(listed, samples, {})
    assert sets is not None
    assert [members(s).tolist() for s in sets] == [[2], [0], [3]]
    assert case_level_data(sets, {0: "S0", 2: "S2", 3: "S3"}) == listed


@pytest.mark.parametrize(
    "listed",
    [
        pytest.param([{"biosampleId": "S1", "zygosity": dict(HETEROZYGOUS), "analysisId": "A1"}], id="an extra field"),
        pytest.param([{"biosampleId": "S1", "zygosity": {"id": "GENO:GENO_0000458", "label": "0/1"}}], id="other term"),
        pytest.param([entry("S2", HETEROZYGOUS), entry("S1", HETEROZYGOUS)], id="not in sample order"),
        pytest.param([entry("S1", HETEROZYGOUS), entry("S1", HOMOZYGOUS)], id="a sample twice"),
        pytest.param([{"biosampleId": "S1"}], id="no zygosity"),
        pytest.param([], id="empty"),
    ],
)
def test_other_carrier_lists_stay_in_the_document(listed: list[dict[str, Any]]) -> None:
    samples = SampleIndex()
    samples.add("S1", None)
    samples.add("S2", None)
    assert carrier_sets(listed, samples, {}) is None


def test_entries_sharing_one_zygosity_object_are_judged_by_its_content() -> None:
    samples = SampleIndex()
    for name in ("S0", "S1", "S2"):
        samples.add(name, None)
    het, other = dict(HETEROZYGOUS), {"id": HETEROZYGOUS["id"], "label": "0/1"}
    shared = carrier_sets([{"biosampleId": n, "zygosity": het} for n in ("S0", "S2")], samples, {})
    assert shared is not None
    assert [members(s).tolist() for s in shared] == [[0, 2], [], []]
    for listed in ([het, other, het], [other, other]):
        entries = [{"biosampleId": n, "zygosity": z} for n, z in zip(("S0", "S1", "S2"), listed, strict=False)]
        assert carrier_sets(entries, samples, {}) is None


def test_a_zygosity_filter_picks_its_sets_and_other_terms_pick_all() -> None:
    allele = Compare(Field.START, "=", 5)
    assert carrier_mask(And((allele, HasTerm((HOMOZYGOUS["id"],))))) == 0b010
    assert carrier_mask(And((allele, HasTerm((HETEROZYGOUS["id"], HEMIZYGOUS["id"]))))) == 0b101
    assert carrier_mask(And((allele, HasTerm((HOMOZYGOUS["id"], "SO:0001583"))))) == 0b111
    assert carrier_mask(allele) == 0b111


_variant = chr22_snv


def _records(dataset: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Three people with a biosample each; v1 in sets (S1 het, S2 hom), v2 as keys (an extra field), v3 in sets
    (S3 het). Dataset B has the same ids for other people."""
    for n in (1, 2, 3):
        yield INDIVIDUALS, {"id": f"I{n}", "sex": {"id": "NCIT:C16576", "label": "female"}}
    for n in (1, 2, 3):
        yield BIOSAMPLES, {"id": f"S{n}", "individualId": f"I{n}"}
    yield VARIANTS, _variant("v1", 100, [entry("S1", HETEROZYGOUS), entry("S2", HOMOZYGOUS)])
    yield VARIANTS, _variant("v2", 200, [{**entry("S3", HETEROZYGOUS), "analysisId": "A3"}])
    if dataset == "A":
        yield VARIANTS, _variant("v3", 300, [entry("S3", HETEROZYGOUS)])


async def _load(store: Store) -> None:
    for dataset in ("A", "B"):
        await store.replace_dataset(dataset_load(dataset, "GRCh38", f"d-{dataset}", _records(dataset)))


def _ids(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(str(d.get("id") or d.get("variantInternalId")) for d in docs)


async def _read(store: Store) -> dict[str, Any]:
    ab = ("A", "B")

    def of_variant(vid: str, *more: Any) -> Related:
        return Related("g_variants", "individual", And((Compare(Field.ID, "=", vid), *more)))

    homozygous = HasTerm((HOMOZYGOUS["id"],))
    return {
        "individuals of v1": await store.count_by_dataset(Query("individuals", ab, of_variant("v1"))),
        "homozygous individuals of v1": _ids(await store.find(Query("individuals", ab, of_variant("v1", homozygous)))),
        "individuals of v2 (keys)": await store.count_by_dataset(Query("individuals", ab, of_variant("v2"))),
        "individuals of v3 (A only)": await store.count_by_dataset(Query("individuals", ab, of_variant("v3"))),
        "variants of I3": {
            d: _ids(await store.find(Query("g_variants", (d,), Related("individuals", "individual", _id("I3")))))
            for d in ab
        },
        "variants of S1": _ids(
            await store.find(Query("g_variants", ab, Related("biosamples", "biosample", _id("S1"))))
        ),
        "v1 caseLevelData": (await store.find(Query("g_variants", ("A",), _id("v1"))))[0]["caseLevelData"],
        "v2 caseLevelData": (await store.find(Query("g_variants", ("A",), _id("v2"))))[0]["caseLevelData"],
        "individual keys of v1": await store.keys_of("g_variants", "v1", "individual", ab),
        "distinct biosamples": await store.distinct_keys(Query("g_variants", ("A",)), "biosample"),
    }


def _id(value: str) -> Compare:
    return Compare(Field.ID, "=", value)


EXPECTED = {
    "individuals of v1": {"A": 2, "B": 2},
    "homozygous individuals of v1": ["I2", "I2"],
    "individuals of v2 (keys)": {"A": 1, "B": 1},
    "individuals of v3 (A only)": {"A": 1},
    "variants of I3": {"A": ["v2", "v3"], "B": ["v2"]},
    "variants of S1": ["v1", "v1"],
    "v1 caseLevelData": [entry("S1", HETEROZYGOUS), entry("S2", HOMOZYGOUS)],
    "v2 caseLevelData": [{**entry("S3", HETEROZYGOUS), "analysisId": "A3"}],
    "individual keys of v1": ["I1", "I2"],
    "distinct biosamples": ["S1", "S2", "S3"],
}


@pytest.fixture
def mongo() -> Iterator[MongoSource]:
    source = new_mongo_source("carrier_sets")
    yield source
    asyncio.run(source.drop())


async def test_sets_and_keys_answer_together_per_dataset_on_sqlite(tmp_path: Path) -> None:
    await load_into(SqliteStore(tmp_path / "s.db"), _load)
    assert await load_into(SqliteStore(tmp_path / "s.db"), _read) == EXPECTED


async def test_sets_and_keys_answer_together_per_dataset_on_mongodb(mongo: MongoSource) -> None:
    await load_into(mongo.store(), _load)
    assert await load_into(mongo.store(), _read) == EXPECTED
