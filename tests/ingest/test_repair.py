"""`--on-error repair` (ingest/repair.py): records kept, invalid sub-values coerced or dropped and reported."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import HasTerm, Query
from beacon.spec import record_checker
from beacon.store.sqlite import SqliteStore
from ingest.bff import BffReport, load_bff
from ingest.repair import Repair, repair
from tests.conftest import PI_TEST

INDIVIDUALS = record_checker("individuals/defaultSchema.json")
BIOSAMPLES = record_checker("biosamples/defaultSchema.json")
FEMALE = {"id": "NCIT:C16576", "label": "female"}
TERM = {"id": "HP:0000002", "label": "Abnormality of body height"}


def biosample(**feature: Any) -> dict[str, Any]:
    return {
        "id": "S1",
        "biosampleStatus": {"id": "EFO:0009655", "label": "abnormal sample"},
        "sampleOriginType": {"id": "UBERON:0000178", "label": "blood"},
        "phenotypicFeatures": [{"featureType": TERM, **feature}],
    }


@pytest.mark.parametrize(
    ("feature", "path", "stored"),
    [
        ({"excluded": "TRUE"}, "$.phenotypicFeatures[0].excluded", {"excluded": True}),
        ({"excluded": "false"}, "$.phenotypicFeatures[0].excluded", {"excluded": False}),
        ({"modifiers": TERM}, "$.phenotypicFeatures[0].modifiers", {"modifiers": [TERM]}),
        (
            {"onset": "1999-08-05T17:21:00+01:00"},
            "$.phenotypicFeatures[0].onset",
            {"onset": {"start": "1999-08-05T17:21:00+01:00", "end": "1999-08-05T17:21:00+01:00"}},
        ),
        (
            {"onset": "2024-09-25"},
            "$.phenotypicFeatures[0].onset",
            {"onset": {"start": "2024-09-25", "end": "2024-09-25"}},
        ),
        (
            {"onset": [{"iso8601duration": "P3Y"}]},
            "$.phenotypicFeatures[0].onset",
            {"onset": {"iso8601duration": "P3Y"}},
        ),
    ],
    ids=[
        "TRUE becomes true",
        "false becomes false",
        "one term where a list is expected becomes a list of it",
        "a timestamp where a time element is expected becomes that instant",
        "a date where a time element is expected becomes that day",
        "a one-item list where its item is expected becomes the item",
    ],
)
def test_unambiguous_values_are_coerced(feature: dict[str, Any], path: str, stored: dict[str, Any]) -> None:
    result = repair(biosample(**feature), BIOSAMPLES)
    assert result.doc == biosample(**stored)
    assert [r.path for r in result.repairs] == [path]
    assert result.repairs[0].action.startswith("coerced ")
    assert BIOSAMPLES.problems(result.doc) == []


def test_what_has_no_unambiguous_reading_is_dropped_and_the_rest_kept() -> None:
    result = repair(biosample(excluded="maybe", onset={"days": 5}, severity=TERM), BIOSAMPLES)
    assert result.doc == biosample(severity=TERM)
    assert sorted(r.path for r in result.repairs) == [
        "$.phenotypicFeatures[0].excluded",
        "$.phenotypicFeatures[0].onset",
    ]
    assert all(r.action.startswith("dropped ") for r in result.repairs)


def test_an_object_missing_what_it_requires_is_dropped_whole_after_its_invalid_part() -> None:
    evidence = {"evidenceCode": {"label": "author statement"}, "reference": {"id": "PMID:1"}}
    result = repair(biosample(evidence=evidence), BIOSAMPLES)
    assert result.doc == biosample()
    assert [r.path for r in result.repairs] == [
        "$.phenotypicFeatures[0].evidence.evidenceCode",
        "$.phenotypicFeatures[0].evidence",
    ]


def test_a_record_that_needs_what_cannot_be_repaired_is_rejected_with_the_first_reason() -> None:
    result = repair({"id": "P1", "sex": "female"}, INDIVIDUALS)
    assert result.doc is None
    assert result.repairs == ()
    assert result.rejected is not None
    assert result.rejected[0] == "$.sex"


def test_a_valid_record_is_returned_unchanged_and_uncopied() -> None:
    doc = {"id": "P1", "sex": FEMALE}
    result = repair(doc, INDIVIDUALS)
    assert result.doc is doc
    assert result.repairs == ()


def test_the_input_document_is_never_changed() -> None:
    doc = biosample(excluded="TRUE")
    repair(doc, BIOSAMPLES)
    assert doc == biosample(excluded="TRUE")


def test_repair_values_are_frozen() -> None:
    assert Repair("$.a", "dropped 1") == Repair("$.a", "dropped 1")


# --- the EGA PI test fixtures, as a node migrating from that implementation has them ---------------


@pytest.fixture(scope="module")
def pi_repaired(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, BffReport]]:
    path = tmp_path_factory.mktemp("pi_repair") / "s.db"

    async def run() -> dict[str, BffReport]:
        store = SqliteStore(path)
        await store.open()
        try:
            return {d: await load_bff(PI_TEST / d, d, store) for d in ("test", "test2")}
        finally:
            await store.close()

    return path, asyncio.run(run())


def count(path: Path, collection: str, dataset: str, *terms: str) -> int:
    async def run() -> int:
        store = SqliteStore(path)
        await store.open()
        try:
            where = HasTerm(terms) if terms else None
            return (await store.count_by_dataset(Query(collection, (dataset,), where))).get(dataset, 0)
        finally:
            await store.close()

    return asyncio.run(run())


def test_pi_fixtures_load_whole_under_repair_with_every_repair_reported(
    pi_repaired: tuple[Path, dict[str, BffReport]],
) -> None:
    path, reports = pi_repaired
    assert reports["test"].problems == []
    assert (count(path, "individuals", "test"), count(path, "biosamples", "test")) == (20, 20)
    repairs = reports["test"].repairs
    assert {(p.file, p.path.split("[")[0]) for p in repairs} == {
        ("individuals.json.gz", "$.measures"),
        ("biosamples.json.gz", "$.phenotypicFeatures"),
    }
    assert all(p.record is not None and p.message.endswith(")") and " (id SAMPLE" in p.message for p in repairs)
    actions = {p.path.split(".")[-1]: p.message.split(" ")[0] for p in repairs}
    assert actions == {
        "ageAtProcedure": "coerced",
        "excluded": "coerced",
        "modifiers": "coerced",
        "onset": "dropped",
        "evidence": "dropped",
    }


@pytest.mark.parametrize(
    ("collection", "term", "matches", "what"),
    [
        ("individuals", "NCIT:C16576", 20, "sex"),
        ("individuals", "MONDO:0004975", 20, "diseases"),
        ("individuals", "UBERON:0001062", 20, "measures (assay)"),
        ("individuals", "OBI:0002657", 20, "measures (the procedure whose ageAtProcedure was coerced)"),
        ("biosamples", "UBERON:0000992", 20, "sample origin"),
        # Every PI feature is excluded (`true`; `"TRUE"` coerced): a stated absence never matches its term.
        ("individuals", "HP:0000002", 0, "excluded phenotypic features"),
        ("biosamples", "HP:0000002", 0, "excluded phenotypic features"),
    ],
    ids=lambda v: str(v),
)
def test_pi_fixture_records_kept_by_repair_answer_filters(
    pi_repaired: tuple[Path, dict[str, BffReport]], collection: str, term: str, matches: int, what: str
) -> None:
    assert count(pi_repaired[0], collection, "test", term) == matches, what


def test_pi_phenotypic_features_are_stored_with_their_repaired_values(
    pi_repaired: tuple[Path, dict[str, BffReport]],
) -> None:
    async def run() -> list[dict[str, Any]]:
        store = SqliteStore(pi_repaired[0])
        await store.open()
        try:
            return await store.find(Query("biosamples", ("test",)))
        finally:
            await store.close()

    features = [f for doc in asyncio.run(run()) for f in doc["phenotypicFeatures"]]
    assert len(features) == 20
    assert {f["featureType"]["id"] for f in features} == {"HP:0000002"}
    assert all(f["excluded"] is True and isinstance(f["modifiers"], list) for f in features)


def test_pi_test2s_deliberately_invalid_individual_is_kept_with_its_invalid_values_repaired(
    pi_repaired: tuple[Path, dict[str, BffReport]],
) -> None:
    path, reports = pi_repaired
    assert count(path, "individuals", "test2") == 1
    assert [(p.path, p.message.split(" ")[0]) for p in reports["test2"].repairs] == [
        ("$.measures[0].measurementValue", "coerced"),
        ("$.measures[0].procedure.ageAtProcedure", "coerced"),
        ("$.phenotypicFeatures[0].evidence.evidenceCode", "dropped"),
        ("$.phenotypicFeatures[0].evidence", "dropped"),
    ]
