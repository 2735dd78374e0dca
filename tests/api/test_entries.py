"""Every endpoint /map lists × GET/POST × granularity, on CINECA (classic layout) and the PI-layout fixtures."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.model.entry_types import EntryTypeTable
from tests.conftest import CINECA, CINECA_ID, fetch

TABLE = EntryTypeTable()
GRANULARITIES = ("boolean", "count", "record")
METHODS = ("GET", "POST")


@cache
def source(name: str) -> list[dict[str, Any]]:
    with gzip.open(CINECA / f"{name}.json.gz") as handle:
        records: list[dict[str, Any]] = json.load(handle)
    return records


@cache
def cineca_variants() -> list[dict[str, Any]]:
    """genomicVariations with the one byte-identical repeat removed, in file order."""
    seen: dict[str, dict[str, Any]] = {}
    for v in source("genomicVariations"):
        seen.setdefault(v["variantInternalId"], v)
    return list(seen.values())


def carrier(v: dict[str, Any]) -> set[str]:
    return {c["biosampleId"] for c in v.get("caseLevelData", [])}


@cache
def sample_ids() -> dict[str, str]:
    """A real id per entry type, chosen so every lookup from it has results."""
    variant = max(cineca_variants(), key=lambda v: len(carrier(v)))
    person = sorted(carrier(variant))[0]
    run = next(r for r in source("runs") if r["biosampleId"] == person)
    analysis = next(a for a in source("analyses") if a["biosampleId"] == person)
    return {
        "individual": person,
        "biosample": person,
        "run": run["id"],
        "analysis": analysis["id"],
        "genomicVariant": variant["variantInternalId"],
        "cohort": source("cohorts")[0]["id"],
        "dataset": CINECA_ID,
    }


def endpoint_paths() -> list[tuple[str, str]]:
    """(entry type id, path) of every root, single-entry and lookup endpoint the default model maps."""
    out = []
    ids = sample_ids()
    for entry in TABLE.enabled():
        out.append((entry.id, f"/api/{entry.path}"))
        out.append((entry.id, f"/api/{entry.path}/{ids[entry.id]}"))
        for _, target in TABLE.lookups_of(entry):
            out.append((target.id, f"/api/{entry.path}/{ids[entry.id]}/{target.path}"))
    return out


def _request(method: str, granularity: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    if method == "GET":
        return {"params": {"requestedGranularity": granularity, **(extra or {})}}
    return {"body": {"meta": {"apiVersion": "v2.0.0"}, "query": {"requestedGranularity": granularity}}}


ENDPOINT_CASES = [
    pytest.param(entry, path, method, granularity, id=f"{method} {path} answers at {granularity} granularity")
    for entry, path in endpoint_paths()
    for method in METHODS
    for granularity in GRANULARITIES
]


@pytest.mark.parametrize(("entry", "path", "method", "granularity"), ENDPOINT_CASES)
async def test_every_mapped_endpoint_answers_schema_valid(
    cineca: TestClient[Any, Any], entry: str, path: str, method: str, granularity: str
) -> None:
    doc = await fetch(cineca, method, path, **_request(method, granularity))
    assert doc["meta"]["returnedGranularity"] == granularity
    assert doc["meta"]["returnedSchemas"][0]["entityType"] == entry
    assert doc["responseSummary"]["exists"] is True
    if granularity == "record":
        records = doc["response"].get("collections") or [r for s in doc["response"]["resultSets"] for r in s["results"]]
        assert records
    if granularity == "boolean":
        assert "numTotalResults" not in doc["responseSummary"]


async def test_map_lists_exactly_the_endpoints_the_table_derives(cineca: TestClient[Any, Any]) -> None:
    doc = await fetch(cineca, "GET", "/api/map", endpoint="map")
    listed = set()
    for endpoint_set in doc["response"]["endpointSets"].values():
        listed.add(endpoint_set["rootUrl"])
        listed.add(endpoint_set["singleEntryUrl"])
        listed.update(e["url"] for e in endpoint_set.get("endpoints", {}).values())
    ids = sample_ids()
    derived = {p for _, p in endpoint_paths()}
    resolved = set()
    for url in listed:
        path = url.replace("http://testserver", "")
        for entry in TABLE.enabled():
            if path.startswith(f"/api/{entry.path}/{{id}}"):
                path = path.replace("{id}", ids[entry.id])
        resolved.add(path)
    assert resolved == derived


@pytest.mark.parametrize(
    ("sex_id", "label"), [("NCIT:C16576", "female"), ("NCIT:C20197", "male")], ids=["female", "male"]
)
@pytest.mark.parametrize("method", METHODS)
async def test_individuals_per_sex_match_the_source_files(
    cineca: TestClient[Any, Any], sex_id: str, label: str, method: str
) -> None:
    expected = sum(1 for i in source("individuals") if i["sex"]["id"] == sex_id)
    if method == "GET":
        doc = await fetch(
            cineca, "GET", "/api/individuals", params={"filters": sex_id, "requestedGranularity": "count"}
        )
    else:
        body = {"query": {"filters": [{"id": sex_id}], "requestedGranularity": "count"}}
        doc = await fetch(cineca, "POST", "/api/individuals", body=body)
    assert doc["responseSummary"]["numTotalResults"] == expected
    assert doc["meta"]["receivedRequestSummary"]["filters"] == [sex_id]


def _positions() -> list[int]:
    counts = Counter(v["variation"]["location"]["interval"]["start"]["value"] for v in cineca_variants())
    common = [p for p, _ in counts.most_common(2)]
    return common + [cineca_variants()[0]["variation"]["location"]["interval"]["start"]["value"]]


@pytest.mark.parametrize("position", _positions())
@pytest.mark.parametrize("form", ["GET", "POST nested", "POST flat"])
async def test_variants_per_position_match_the_source_files(
    cineca: TestClient[Any, Any], position: int, form: str
) -> None:
    at = [v for v in cineca_variants() if v["variation"]["location"]["interval"]["start"]["value"] == position]
    alt = at[0]["variation"]["alternateBases"]
    expected = sum(1 for v in at if v["variation"]["alternateBases"] == alt)
    params = {"referenceName": "22", "start": str(position), "alternateBases": alt}
    if form == "GET":
        doc = await fetch(cineca, "GET", "/api/g_variants", params={**params, "requestedGranularity": "count"})
    else:
        rp: dict[str, Any] = {**params, "start": [position]}
        body = {
            "query": {
                "requestParameters": {"g_variant": rp} if form == "POST nested" else rp,
                "requestedGranularity": "count",
            }
        }
        doc = await fetch(cineca, "POST", "/api/g_variants", body=body)
    assert doc["responseSummary"]["numTotalResults"] == expected
    assert doc["meta"]["receivedRequestSummary"]["requestParameters"]["g_variant"]["start"] == [position]


async def test_range_query_counts_every_overlapping_variant(cineca: TestClient[Any, Any]) -> None:
    start, end = 16_060_000, 16_070_000
    expected = sum(
        1
        for v in cineca_variants()
        if v["variation"]["location"]["interval"]["start"]["value"] < end
        and v["variation"]["location"]["interval"]["end"]["value"] > start
    )
    assert expected > 0
    params = {"referenceName": "chr22", "start": str(start), "end": str(end), "requestedGranularity": "count"}
    doc = await fetch(cineca, "GET", "/api/g_variants", params=params)
    assert doc["responseSummary"]["numTotalResults"] == expected


async def test_individuals_carrying_a_variant_are_its_carriers(cineca: TestClient[Any, Any]) -> None:
    variant = cineca_variants()[5]
    pos = variant["variation"]["location"]["interval"]["start"]["value"]
    params = {
        "referenceName": "22",
        "start": str(pos),
        "alternateBases": variant["variation"]["alternateBases"],
        "referenceBases": variant["variation"]["referenceBases"],
        "requestedGranularity": "record",
        "limit": "0",
    }
    doc = await fetch(cineca, "GET", "/api/individuals", params=params)
    found = {r["id"] for s in doc["response"]["resultSets"] for r in s["results"]}
    same_site = [
        v
        for v in cineca_variants()
        if v["variation"]["location"]["interval"]["start"]["value"] == pos
        and v["variation"]["alternateBases"] == params["alternateBases"]
        and v["variation"]["referenceBases"] == params["referenceBases"]
    ]
    assert found == set().union(*(carrier(v) for v in same_site))


async def test_lookup_from_individual_counts_its_variants(cineca: TestClient[Any, Any]) -> None:
    person = sample_ids()["individual"]
    expected = sum(1 for v in cineca_variants() if person in carrier(v))
    doc = await fetch(cineca, "GET", f"/api/individuals/{person}/g_variants", params={"requestedGranularity": "count"})
    assert doc["responseSummary"]["numTotalResults"] == expected


async def test_lookup_from_variant_lists_its_carrier_biosamples(cineca: TestClient[Any, Any]) -> None:
    vid = sample_ids()["genomicVariant"]
    variant = next(v for v in cineca_variants() if v["variantInternalId"] == vid)
    doc = await fetch(
        cineca,
        "GET",
        f"/api/g_variants/{vid}/biosamples",
        params={"requestedGranularity": "record", "limit": "0"},
    )
    page = {r["id"] for s in doc["response"]["resultSets"] for r in s["results"]}
    # limit=0 asks for everything; the server caps a page at query.max_limit (1000).
    assert len(page) == min(1000, len(carrier(variant)))
    assert page <= carrier(variant)
    assert doc["responseSummary"]["numTotalResults"] == len(carrier(variant))


@pytest.mark.parametrize("method", METHODS)
async def test_skip_counts_pages_not_records(cineca: TestClient[Any, Any], method: str) -> None:
    if method == "GET":
        doc = await fetch(
            cineca, "GET", "/api/runs", params={"requestedGranularity": "record", "skip": "2", "limit": "8"}
        )
    else:
        body = {"query": {"requestedGranularity": "record", "pagination": {"skip": 2, "limit": 8}}}
        doc = await fetch(cineca, "POST", "/api/runs", body=body)
    (result_set,) = doc["response"]["resultSets"]
    assert [r["id"] for r in result_set["results"]] == [r["id"] for r in source("runs")[16:24]]
    assert result_set["resultsCount"] == len(source("runs"))
    assert doc["responseSummary"]["numTotalResults"] == len(source("runs"))


async def test_default_limit_is_ten_records(cineca: TestClient[Any, Any]) -> None:
    doc = await fetch(cineca, "GET", "/api/biosamples", params={"requestedGranularity": "record"})
    assert len(doc["response"]["resultSets"][0]["results"]) == 10


@pytest.mark.parametrize(
    ("include", "female_hit_sets", "nobody_sets"),
    [("HIT", 1, 0), ("MISS", 0, 1), ("ALL", 1, 1), ("NONE", 0, 0)],
    ids=lambda v: str(v),
)
async def test_include_resultset_responses_selects_hits_and_misses(
    cineca: TestClient[Any, Any], include: str, female_hit_sets: int, nobody_sets: int
) -> None:
    for filters, expected_sets in (("NCIT:C16576", female_hit_sets), ("NCIT:C0000000", nobody_sets)):
        params = {"filters": filters, "requestedGranularity": "count", "includeResultsetResponses": include}
        doc = await fetch(cineca, "GET", "/api/individuals", params=params)
        assert len(doc["response"]["resultSets"]) == expected_sets


async def test_datasets_answer_as_a_collection_with_the_loaded_record(cineca: TestClient[Any, Any]) -> None:
    doc = await fetch(cineca, "GET", "/api/datasets", params={"requestedGranularity": "record"})
    assert [d["id"] for d in doc["response"]["collections"]] == [CINECA_ID]
    assert doc["response"]["collections"][0]["name"] == source("datasets")[0]["name"]


async def test_cohort_members_are_the_dataset_individuals(cineca: TestClient[Any, Any]) -> None:
    cohort = sample_ids()["cohort"]
    doc = await fetch(cineca, "GET", f"/api/cohorts/{cohort}/individuals", params={"requestedGranularity": "count"})
    assert doc["responseSummary"]["numTotalResults"] == len(source("individuals"))


async def test_alphanumeric_filter_on_a_declared_field(cineca: TestClient[Any, Any]) -> None:
    strategy = source("runs")[0]["libraryStrategy"]
    expected = sum(1 for r in source("runs") if r["libraryStrategy"] == strategy)
    body = {
        "query": {
            "filters": [{"id": "libraryStrategy", "operator": "=", "value": strategy}],
            "requestedGranularity": "count",
        }
    }
    doc = await fetch(cineca, "POST", "/api/runs", body=body)
    assert doc["responseSummary"]["numTotalResults"] == expected
    assert doc["meta"]["receivedRequestSummary"]["filters"] == [f"libraryStrategy={strategy}"]


async def test_numeric_filter_compares_numbers(cineca: TestClient[Any, Any]) -> None:
    def bmi(i: dict[str, Any]) -> float | None:
        return next(
            (m["measurementValue"]["value"] for m in i.get("measures", []) if m["assayCode"]["id"] == "LOINC:35925-4"),
            None,
        )

    expected = sum(1 for i in source("individuals") if (b := bmi(i)) is not None and b > 30)
    body = {
        "query": {
            "filters": [{"id": "measures.measurementValue.value", "operator": ">", "value": 30}],
            "requestedGranularity": "count",
        }
    }
    doc = await fetch(cineca, "POST", "/api/individuals", body=body)
    # Height and weight share the value path; any of them above 30 matches, as in MongoDB.
    assert doc["responseSummary"]["numTotalResults"] >= expected


async def test_filter_scoped_to_biosamples_selects_individuals(cineca: TestClient[Any, Any]) -> None:
    origin = source("biosamples")[0]["sampleOriginType"]["id"]
    expected = {b["individualId"] for b in source("biosamples") if b["sampleOriginType"]["id"] == origin}
    body = {"query": {"filters": [{"id": origin, "scope": "biosample"}], "requestedGranularity": "count"}}
    doc = await fetch(cineca, "POST", "/api/individuals", body=body)
    assert doc["responseSummary"]["numTotalResults"] == len(expected)


async def test_framework_endpoints_answer_get_and_post(cineca: TestClient[Any, Any]) -> None:
    for endpoint in ("info", "service-info", "configuration", "map", "entry_types", "filtering_terms"):
        for method in METHODS:
            await fetch(cineca, method, f"/api/{endpoint}", endpoint=endpoint)
    await fetch(cineca, "GET", "/api", endpoint="info")


async def test_filtering_terms_list_the_terms_in_the_data_with_scopes(cineca: TestClient[Any, Any]) -> None:
    doc = await fetch(cineca, "GET", "/api/individuals/filtering_terms", endpoint="filtering_terms")
    terms = {t["id"]: t for t in doc["response"]["filteringTerms"]}
    assert terms["NCIT:C16576"]["scopes"] == ["individual"]
    assert terms["NCIT:C16576"]["label"] == "female"
    declared = {t["id"] for t in source("filtering_terms") if "individual" in t["scopes"]}
    assert declared <= set(terms)
    paged = await fetch(
        cineca, "GET", "/api/filtering_terms", params={"skip": "1", "limit": "5"}, endpoint="filtering_terms"
    )
    everything = await fetch(cineca, "GET", "/api/filtering_terms", endpoint="filtering_terms")
    assert paged["response"]["filteringTerms"] == everything["response"]["filteringTerms"][5:10]


async def test_configuration_and_entry_types_agree(cineca: TestClient[Any, Any]) -> None:
    conf = await fetch(cineca, "GET", "/api/configuration", endpoint="configuration")
    types = await fetch(cineca, "GET", "/api/entry_types", endpoint="entry_types")
    assert conf["response"]["entryTypes"] == types["response"]["entryTypes"]
    beacon_map = await fetch(cineca, "GET", "/api/map", endpoint="map")
    mapped = {s["entryType"] for s in beacon_map["response"]["endpointSets"].values()}
    assert mapped == set(conf["response"]["entryTypes"])


PI_IDS = {
    "genomicVariant": None,
    "analysis": "EGA-testing",
    "run": "EGA-testing",
    "cohort": "EGA-testing",
    "dataset": "test",
}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("granularity", GRANULARITIES)
async def test_pi_layout_every_root_endpoint_is_schema_valid(
    pi: TestClient[Any, Any], method: str, granularity: str
) -> None:
    for entry in TABLE.enabled():
        doc = await fetch(pi, method, f"/api/{entry.path}", **_request(method, granularity))
        assert doc["meta"]["returnedGranularity"] == granularity


async def test_pi_layout_variant_lookups_follow_derived_carriers(pi: TestClient[Any, Any]) -> None:
    with gzip.open(Path(CINECA / "pi-format" / "caseLevelData.json.gz")) as handle:
        rows = json.load(handle)
    with gzip.open(Path(CINECA / "pi-format" / "targets.json.gz")) as handle:
        columns = json.load(handle)[0]["biosampleIds"]
    row = max(rows, key=lambda r: sum(k.isdigit() for k in r))
    expected = {columns[int(k)] for k in row if k.isdigit()}
    params = {"requestedGranularity": "record", "limit": "0", "datasetIds": CINECA_ID}
    doc = await fetch(pi, "GET", f"/api/g_variants/{row['_id']}/biosamples", params=params)
    page = {r["id"] for s in doc["response"]["resultSets"] for r in s["results"]}
    assert page <= expected
    assert len(page) == min(1000, len(expected))
    assert doc["responseSummary"]["numTotalResults"] == len(expected)


async def test_pi_test_dataset_analysis_lookup_reaches_its_biosample_variants(
    pi: TestClient[Any, Any],
) -> None:
    doc = await fetch(
        pi,
        "GET",
        "/api/analyses/EGA-testing/g_variants",
        params={"requestedGranularity": "count", "datasetIds": "test"},
    )
    assert doc["responseSummary"]["numTotalResults"] > 0


@pytest.mark.parametrize("notation", ["Arg534Gln", "R534Q", "p.(Arg534Gln)"])
async def test_amino_acid_change_in_any_notation(pi: TestClient[Any, Any], notation: str) -> None:
    params = {"aminoacidChange": notation, "geneId": "F5", "requestedGranularity": "count", "datasetIds": "test"}
    doc = await fetch(pi, "GET", "/api/g_variants", params=params)
    assert doc["responseSummary"]["numTotalResults"] == 1


def _pi_ids() -> dict[str, str]:
    """Real ids of the PI-format CINECA cohort; it ships no individuals, so none is listed for them."""
    with gzip.open(CINECA / "pi-format" / "caseLevelData.json.gz") as handle:
        carrier_row = next(r for r in json.load(handle) if "0" in r)
    return {
        "biosample": "HG00096",
        "run": "SRR00000001",
        "analysis": "UK1_analysisId_1",
        "genomicVariant": carrier_row["_id"],
        "cohort": "CINECA_synthetic_cohort_UK1",
        "dataset": CINECA_ID,
    }


PI_CASES = [
    pytest.param(path, method, granularity, id=f"PI layout: {method} {path} at {granularity}")
    for entry in TABLE.enabled()
    if entry.id in _pi_ids()
    for path in (
        f"/api/{entry.path}/{_pi_ids()[entry.id]}",
        *(f"/api/{entry.path}/{_pi_ids()[entry.id]}/{t.path}" for _, t in TABLE.lookups_of(entry)),
    )
    for method in METHODS
    for granularity in GRANULARITIES
]


@pytest.mark.parametrize(("path", "method", "granularity"), PI_CASES)
async def test_pi_layout_single_and_lookup_endpoints_are_schema_valid(
    pi: TestClient[Any, Any], path: str, method: str, granularity: str
) -> None:
    request = _request(method, granularity)
    if method == "GET":
        request["params"]["datasetIds"] = CINECA_ID
    else:
        request["body"]["query"]["requestParameters"] = {"datasets": {"datasetIds": [CINECA_ID]}}
    doc = await fetch(pi, method, path, **request)
    assert doc["meta"]["returnedGranularity"] == granularity
