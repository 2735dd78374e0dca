"""BFF loading on real data in both layouts and on tiny fixtures named for what they pin."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import Compare, Field, Query
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.errors import InputError, RejectedRecords
from tests.conftest import CINECA, CINECA_ID, PI_TEST

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "bff"
COLLECTIONS = {"individuals": "individuals", "biosamples": "biosamples", "runs": "runs", "analyses": "analyses",
               "cohorts": "cohorts", "datasets": "datasets"}  # fmt: skip


def records(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path) as handle:
        data: list[dict[str, Any]] = json.load(handle)
    return data


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    s = SqliteStore(tmp_path / "b.db")
    await s.open()
    yield s
    await s.close()


async def counts(store: SqliteStore, dataset: str) -> dict[str, int]:
    out = {}
    for collection in (*COLLECTIONS, "g_variants"):
        n = await store.count_by_dataset(Query(collection, (dataset,)))
        out[collection] = n.get(dataset, 0)
    return out


async def test_classic_cineca_loads_every_record(store: SqliteStore) -> None:
    report = await load_bff(CINECA, CINECA_ID, store, assembly="GRCh37")
    expected = {c: len(records(CINECA / f"{f}.json.gz")) for c, f in COLLECTIONS.items()}
    variants = records(CINECA / "genomicVariations.json.gz")
    expected["g_variants"] = len({v["variantInternalId"] for v in variants})
    assert len(variants) - expected["g_variants"] == 1
    assert await counts(store, CINECA_ID) == expected
    assert report.exact_duplicates == 1
    assert report.problems == []


async def test_pi_layout_derives_carriers_from_case_level_data(store: SqliteStore) -> None:
    directory = CINECA / "pi-format"
    report = await load_bff(directory, CINECA_ID, store, assembly="GRCh37")
    assert report.problems == []
    columns = records(directory / "targets.json.gz")[0]["biosampleIds"]
    rows = records(directory / "caseLevelData.json.gz")
    assert await store.count_by_dataset(Query("g_variants", (CINECA_ID,), Compare(Field.CHROM, "=", "22"))) == {
        CINECA_ID: len(records(directory / "genomicVariations.json.gz"))
    }
    for row in rows[:: len(rows) // 7]:
        expected = {columns[int(k)]: code for k, code in row.items() if k.isdigit()}
        (doc,) = await store.find(Query("g_variants", (CINECA_ID,), Compare(Field.ID, "=", row["_id"])))
        carriers = {c["biosampleId"]: c["zygosity"]["id"] for c in doc["caseLevelData"]}
        assert set(carriers) == set(expected)
        for sample, code in expected.items():
            assert carriers[sample] == ("GENO:0000136" if code == "11" else "GENO:0000458")


async def test_pi_test_fixture_rejects_schema_invalid_records_with_their_location(store: SqliteStore) -> None:
    report = await load_bff(PI_TEST / "test", "test", store)
    rejected = [str(p) for p in report.problems]
    assert len(rejected) == 40
    assert rejected[0].startswith("individuals.json.gz: record 0: $.measures[0].procedure.ageAtProcedure: ")
    assert any(r.startswith("biosamples.json.gz: record 0: $.phenotypicFeatures[0].evidence: ") for r in rejected)
    assert await counts(store, "test") == {
        "individuals": 0, "biosamples": 0, "runs": 1, "analyses": 1, "cohorts": 1, "datasets": 1, "g_variants": 41,
    }  # fmt: skip
    (info,) = await store.datasets()
    assert info.assembly == "GRCh37"


async def test_records_of_other_datasets_are_skipped(store: SqliteStore) -> None:
    report = await load_bff(CINECA / "pi-format", "another", store, assembly="GRCh37")
    assert report.other_datasets > 0
    assert (await counts(store, "another"))["g_variants"] == 0


async def test_reloading_the_same_input_changes_nothing_and_new_input_replaces(
    store: SqliteStore, tmp_path: Path
) -> None:
    await load_bff(FIXTURES / "two_individuals", "a", store)
    await load_bff(FIXTURES / "two_individuals", "b", store)
    again = await load_bff(FIXTURES / "two_individuals", "a", store)
    assert again.unchanged
    assert (await counts(store, "a"))["individuals"] == 2
    await load_bff(FIXTURES / "one_individual_without_sex", "a", store)
    ids = [d["id"] for d in await store.find(Query("individuals", ("a",)))]
    assert ids == ["P1", "P3"]
    assert (await counts(store, "b"))["individuals"] == 2


async def test_fail_mode_loads_nothing_and_keeps_the_previous_version(store: SqliteStore) -> None:
    await load_bff(FIXTURES / "two_individuals", "a", store)
    with pytest.raises(RejectedRecords, match=r'individuals.json: record 1: \$: "sex" is a required property'):
        await load_bff(FIXTURES / "one_individual_without_sex", "a", store, on_error="fail")
    assert [d["id"] for d in await store.find(Query("individuals", ("a",)))] == ["P1", "P2"]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("one_individual_without_sex", ['individuals.json: record 1: $: "sex" is a required property (id P2)']),
        (
            "record_without_id",
            [
                "individuals.json: record 0: $.id: missing or not a non-empty string",
                "individuals.json: record 1: $: expected an object, got str",
            ],
        ),
        (
            "duplicate_id_different_content",
            ["individuals.json: record 1: $.id: duplicate id 'P1' with different content"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_rejections_name_file_record_path_and_reason(
    store: SqliteStore, fixture: str, expected: list[str]
) -> None:
    report = await load_bff(FIXTURES / fixture, "x", store)
    assert [str(p) for p in report.problems] == expected


@pytest.mark.parametrize(
    ("directory", "assembly", "message"),
    [
        (CINECA, None, "the assembly cannot be inferred from the variants; pass --assembly"),
        (CINECA, "hg99", "--assembly: unknown assembly 'hg99'"),
        (FIXTURES / "not_json_individuals", None, "individuals.json: not a readable JSON array"),
        (FIXTURES, None, "no BFF files found"),
        (FIXTURES / "missing", None, "not a directory"),
    ],
    ids=["assembly not inferable", "unknown assembly", "not JSON", "no BFF files", "missing directory"],
)
async def test_unusable_input_is_an_input_error(
    store: SqliteStore, directory: Path, assembly: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await load_bff(directory, "x", store, assembly=assembly)
    assert await store.datasets() == []
