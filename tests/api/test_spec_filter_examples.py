"""Every filter example of the specification's filters documentation, GET and POST where it shows both.

The examples (ga4gh-beacon/beacon-v2, docs/filters.md) are sent as written; the data is a small
BFF fixture of our own (tests/data/bff/spec_filter_examples) that makes each one discriminating.
Expected answers come from reading the fixture with plain JSON and hp.obo with
tests/hpo_reference.py, never from the server's query code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.backends import load_into
from tests.conftest import AiohttpClient, fetch, make_config
from tests.hpo_reference import ReferenceHpo, read_reference_hpo

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "bff" / "spec_filter_examples"
DATASET = "spec-examples"
MEDICAL_HISTORY = "HP:0032443"
# The similarity measure of docs/filters.md: anchors up to k is_a steps above the term, never
# within two steps of a root, then everything below an anchor.
SIMILARITY_STEPS = {"exact": 0, "high": 1, "medium": 2, "low": 3}


def _records(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads((FIXTURE / f"{name}.json").read_text(encoding="utf-8"))
    return records


INDIVIDUALS = _records("individuals")
BIOSAMPLES = _records("biosamples")


def _years(duration: str) -> float:
    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?", duration)
    assert m, duration
    return int(m[1] or 0) + int(m[2] or 0) / 12


def _features(individual: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in individual.get("phenotypicFeatures", []) if not f.get("excluded")]


def _individuals(test: Callable[[dict[str, Any]], bool]) -> set[str]:
    return {i["id"] for i in INDIVIDUALS if test(i)}


def _carries(individual: dict[str, Any], terms: set[str]) -> bool:
    return any(f["featureType"]["id"] in terms for f in _features(individual))


def _history(individual: dict[str, Any]) -> list[str]:
    """The free texts of past medical history: feature and disease labels and notes (excluded features left out)."""
    texts = [f["featureType"]["label"] for f in _features(individual)] + [
        f["notes"] for f in _features(individual) if "notes" in f
    ]
    for disease in individual.get("diseases", []):
        texts.append(disease["diseaseCode"]["label"])
        if "notes" in disease:
            texts.append(disease["notes"])
    return texts


def _similar(hpo: ReferenceHpo, term: str, level: str) -> set[str]:
    steps = SIMILARITY_STEPS[level]
    anchors = {a for a, d in hpo.distances_up(term).items() if a == term or (d <= steps and hpo.depth(a) >= 3)}
    return anchors | {t for a in anchors for t in hpo.descendants(a)}


@pytest.fixture(scope="module")
def hpo() -> ReferenceHpo:
    return read_reference_hpo()


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, tmp_path: Path) -> TestClient[Any, Any]:
    db = tmp_path / "spec.db"
    await load_into(
        SqliteStore(db), lambda store: load_bff(FIXTURE, DATASET, store, assembly="GRCh38", on_error="fail")
    )
    config = make_config(f"sqlite:///{db}", DatasetPolicy(DATASET))
    return await aiohttp_client(create_app(config))


async def _ids(
    client: TestClient[Any, Any], path: str, *, get: str | None = None, post: list[Any] | None = None
) -> set[str]:
    if get is not None:
        doc = await fetch(
            client,
            "GET",
            path,
            params={"filters": get, "requestedGranularity": "record", "limit": "100"},
        )
    else:
        body = {
            "meta": {"apiVersion": "v2.0.0"},
            "query": {"filters": post, "requestedGranularity": "record", "pagination": {"limit": 100}},
        }
        doc = await fetch(client, "POST", path, body=body)
    if not doc["responseSummary"]["exists"]:
        return set()
    (result_set,) = doc["response"]["resultSets"]
    return {r["id"] for r in result_set["results"]}


async def test_curie_filters_select_biosamples_of_a_publication_with_a_diagnosis(client: TestClient[Any, Any]) -> None:
    expected = {
        b["id"]
        for b in BIOSAMPLES
        if b["histologicalDiagnosis"]["id"] == "NCIT:C6975"
        and any(r["id"] == "PMID:22824167" for r in b.get("externalReferences", []))
    }
    assert expected == {"BS-1"}
    assert await _ids(client, "/api/biosamples", get="PMID:22824167,NCIT:C6975") == expected
    assert await _ids(client, "/api/biosamples", post=[{"id": "PMID:22824167"}, {"id": "NCIT:C6975"}]) == expected


async def test_one_filter_without_descendant_terms(client: TestClient[Any, Any], hpo: ReferenceHpo) -> None:
    lung, diabetes = "HP:0100526", "HP:0005978"
    diabetic = _individuals(lambda i: _carries(i, {diabetes, *hpo.descendants(diabetes)}))
    exact = _individuals(lambda i: _carries(i, {lung})) & diabetic
    widened = _individuals(lambda i: _carries(i, {lung, *hpo.descendants(lung)})) & diabetic
    assert exact < widened  # the fixture makes includeDescendantTerms matter
    post = [{"id": lung, "includeDescendantTerms": False}, {"id": diabetes}]
    assert await _ids(client, "/api/individuals", post=post) == exact
    assert await _ids(client, "/api/individuals", post=[{"id": lung}, {"id": diabetes}]) == widened
    assert await _ids(client, "/api/individuals", get=f"{lung},{diabetes}") == widened


async def test_semantic_similarity_thresholds(client: TestClient[Any, Any], hpo: ReferenceHpo) -> None:
    post = [{"id": "HP:0100526", "similarity": "high"}, {"id": "HP:0005978", "similarity": "medium"}]
    expected = _individuals(lambda i: _carries(i, _similar(hpo, "HP:0100526", "high"))) & _individuals(
        lambda i: _carries(i, _similar(hpo, "HP:0005978", "medium"))
    )
    assert expected
    assert await _ids(client, "/api/individuals", post=post) == expected


@pytest.mark.parametrize("get", ["age:>P70Y", "PATO_0000011:>P70Y", "PATO:0000011:>P70Y"])
async def test_individuals_over_70_years_of_age(client: TestClient[Any, Any], get: str) -> None:
    expected = _individuals(
        lambda i: "info" in i and _years(i["info"]["timeAtLastEncounter"]["age"]["iso8601duration"]) > 70
    )
    assert expected == {"IND-2", "IND-3", "IND-6"}
    assert await _ids(client, "/api/individuals", get=get) == expected
    post = [{"id": "PATO:0000011", "operator": ">", "value": "P70Y"}]
    assert await _ids(client, "/api/individuals", post=post) == expected


async def test_age_at_onset_over_70_years(client: TestClient[Any, Any]) -> None:
    def onsets(i: dict[str, Any]) -> list[float]:
        found = [_years(f["onset"]["iso8601duration"]) for f in _features(i) if "onset" in f]
        return found + [_years(d["ageOfOnset"]["iso8601duration"]) for d in i.get("diseases", []) if "ageOfOnset" in d]

    expected = _individuals(lambda i: any(age > 70 for age in onsets(i)))
    assert expected == {"IND-3"}
    assert await _ids(client, "/api/individuals", get="EFO_0004847:>P70Y") == expected


async def test_exact_text_match_on_past_medical_history(client: TestClient[Any, Any]) -> None:
    expected = _individuals(lambda i: "unknown medical history" in _history(i))
    assert expected == {"IND-3"}
    post = [{"id": MEDICAL_HISTORY, "operator": "=", "value": "unknown medical history"}]
    assert await _ids(client, "/api/individuals", post=post) == expected


async def test_like_match_on_past_medical_history(client: TestClient[Any, Any]) -> None:
    expected = _individuals(lambda i: any("cancer" in text for text in _history(i)))
    assert expected == {"IND-2", "IND-6"}
    post = [{"id": MEDICAL_HISTORY, "operator": "=", "value": "%cancer%"}]
    assert await _ids(client, "/api/individuals", post=post) == expected


async def test_not_match_on_past_medical_history(client: TestClient[Any, Any]) -> None:
    # Records with a medical history, none of whose texts is the value (docs/filters.md: `!` on several fields).
    expected = _individuals(lambda i: bool(_history(i)) and "unknown medical history" not in _history(i))
    assert "IND-3" not in expected
    assert len(expected) == len(INDIVIDUALS) - 1
    assert await _ids(client, "/api/individuals", get="HP_0032443:!unknown medical history") == expected
    post = [{"id": MEDICAL_HISTORY, "operator": "!", "value": "unknown medical history"}]
    assert await _ids(client, "/api/individuals", post=post) == expected


async def test_the_get_form_is_echoed_as_the_alphanumeric_filter_it_stands_for(client: TestClient[Any, Any]) -> None:
    doc = await fetch(client, "GET", "/api/individuals", params={"filters": "PATO_0000011:>P70Y"})
    assert doc["meta"]["receivedRequestSummary"]["filters"] == ["PATO:0000011>P70Y"]
