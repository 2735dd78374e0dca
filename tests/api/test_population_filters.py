"""Population filters (`scope: "population"`): the portal's sexFilter and countryFilter, and ancestryFilter.

They restrict the frequencies returned and the variants that match (a variant without a frequency in
the population does not), on both backends, and /filtering_terms offers the loaded values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.store import open_store
from beacon.store.base import Store
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import LoadedStores, loaded_stores
from tests.conftest import AiohttpClient, fetch, make_config, refusal
from tests.ingest.test_vcf_populations import GENOTYPES, SHEET, _sheet, aggregate

DEMO = {"assemblyId": "GRCh37", "referenceName": "3", "start": [45864731], "referenceBases": "T", "alternateBases": "C"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    folder = tmp_path_factory.mktemp("populations")
    aggregated = folder / "gdi_aggregated.vcf"
    aggregate(GENOTYPES, _sheet(SHEET), aggregated)

    async def load(store: Store) -> None:
        await load_vcf([aggregated], VcfOptions("goe", "GRCh37", frequency_source="The Genome of Europe"), store)

    yield from loaded_stores("populations", folder, load)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, loaded: LoadedStores, backend: str) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_config(loaded.sqlite_uri), store=loaded.store_for(backend)))


def _filter(fid: str, value: str) -> dict[str, str]:
    return {"id": fid, "operator": "=", "value": value, "scope": "population"}


async def _ask(client: TestClient[Any, Any], filters: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
    body = {"query": {"requestParameters": params, "filters": filters, "requestedGranularity": "record"}}
    return await fetch(client, "POST", "/api/g_variants", body=body)


def _populations(doc: dict[str, Any]) -> list[list[str]]:
    return [
        [f["population"] for s in r.get("frequencyInPopulations", []) for f in s["frequencies"]]
        for rs in doc["response"].get("resultSets", [])
        for r in rs["results"]
    ]


@pytest.mark.parametrize(
    ("filters", "population"),
    [
        ([_filter("sexFilter", "M")], "M"),
        ([_filter("countryFilter", "NL")], "NL"),
        ([_filter("countryFilter", "nl"), _filter("sexFilter", "M")], "NL_M"),
        ([_filter("ancestryFilter", "EUR"), _filter("sexFilter", "F")], "EUR_F"),
    ],
    ids=["sex", "country", "country and sex", "ancestry and sex"],
)
async def test_a_population_filter_returns_that_population_only(
    client: TestClient[Any, Any], filters: list[dict[str, str]], population: str
) -> None:
    doc = await _ask(client, filters, DEMO)
    assert doc["responseSummary"]["exists"] is True
    assert _populations(doc) == [[population]]
    (record,) = doc["response"]["resultSets"][0]["results"]
    (source,) = record["frequencyInPopulations"]
    assert (source["source"], source["numberOfPopulations"]) == ("The Genome of Europe", 1)
    assert {"alleleCount", "alleleNumber", "alleleFrequency"} <= source["frequencies"][0].keys()


async def test_without_population_filters_every_population_is_returned(client: TestClient[Any, Any]) -> None:
    (names,) = _populations(await _ask(client, [], DEMO))
    assert names[0] == "ALL"
    assert {"M", "F", "NL", "NL_M", "EUR", "EUR_M"} <= set(names)


@pytest.mark.parametrize(
    "filters",
    [[_filter("countryFilter", "DE")], [_filter("countryFilter", "NL"), _filter("ancestryFilter", "EUR")]],
    ids=["a country not loaded", "a country and an ancestry (no such population)"],
)
async def test_a_variant_without_frequency_in_the_population_does_not_match(
    client: TestClient[Any, Any], filters: list[dict[str, str]]
) -> None:
    doc = await _ask(client, filters, DEMO)
    assert doc["responseSummary"]["exists"] is False
    count = await fetch(
        client,
        "POST",
        "/api/g_variants",
        body={"query": {"requestParameters": DEMO, "filters": filters, "requestedGranularity": "count"}},
    )
    assert count["responseSummary"]["numTotalResults"] == 0


async def test_counts_follow_the_population(client: TestClient[Any, Any]) -> None:
    """BE holds S4 and S5 only: of the file's six variants, those with a BE frequency are counted."""
    body = {"query": {"filters": [_filter("countryFilter", "BE")], "requestedGranularity": "count"}}
    everything = await fetch(client, "POST", "/api/g_variants", body={"query": {"requestedGranularity": "count"}})
    belgian = await fetch(client, "POST", "/api/g_variants", body=body)
    assert 0 < belgian["responseSummary"]["numTotalResults"] <= everything["responseSummary"]["numTotalResults"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (_filter("sexFilter", "X"), "is not M or F"),
        ({"id": "sexFilter", "operator": ">", "value": "M", "scope": "population"}, "needs operator ="),
        (_filter("countryFilter", "NLD"), "not an ISO 3166 alpha-2"),
        (_filter("ageFilter", "P30Y"), "scope population takes the filters"),
    ],
)
async def test_malformed_population_filters_are_400(
    client: TestClient[Any, Any], bad: dict[str, str], message: str
) -> None:
    body = {"query": {"requestParameters": DEMO, "filters": [bad]}}
    assert message in await refusal(client, "POST", "/api/g_variants", body=body)


async def test_filtering_terms_offer_the_loaded_values(client: TestClient[Any, Any]) -> None:
    doc = await fetch(client, "GET", "/api/filtering_terms", endpoint="filtering_terms")
    items = {t["id"]: t for t in doc["response"]["filteringTerms"] if t.get("scopes") == ["population"]}
    assert items["sexFilter"]["values"] == ["F", "M"]
    assert items["countryFilter"]["values"] == ["BE", "NL"]
    assert items["ancestryFilter"]["values"] == ["AFR", "EUR"]  # the overall population ALL is no ancestry
    assert not any(t["id"].startswith("population:") for t in doc["response"]["filteringTerms"])


async def _variants(client: TestClient[Any, Any], filters: list[dict[str, str]]) -> list[dict[str, Any]]:
    body = {"query": {"filters": filters, "requestedGranularity": "record", "pagination": {"limit": 100}}}
    doc = await fetch(client, "POST", "/api/g_variants", body=body)
    return [r for rs in doc["response"].get("resultSets", []) for r in rs["results"]]


def _seen_in(variant: dict[str, Any]) -> set[str]:
    """The populations a returned variant was observed in (what its population terms say)."""
    return {
        f["population"]
        for s in variant.get("frequencyInPopulations", [])
        for f in s["frequencies"]
        if f.get("alleleCount", f.get("alleleFrequency")) != 0
    }


async def test_a_variants_own_terms_are_the_populations_it_was_seen_in(
    client: TestClient[Any, Any], loaded: LoadedStores, backend: str
) -> None:
    """A record's own terms (SQLite holds its population terms as one row of names): each variant's own."""
    variants = await _variants(client, [])
    store = loaded.store_for(backend) or open_store(loaded.sqlite_uri)
    if backend == "sqlite":
        await store.open()
    try:
        named: list[set[str]] = []
        for variant in variants:
            record = ("g_variants", variant["variantInternalId"])
            terms = await store.terms(("g_variants",), ("goe",), record)
            named.append({t.id for t in terms if t.id.startswith("population:")})
            assert named[-1] == {f"population:{name}" for name in _seen_in(variant) if name != "ALL"}
    finally:
        if backend == "sqlite":
            await store.close()
    # The file's variants differ in their populations: a store answering for one record only would fail here.
    assert len({frozenset(n) for n in named}) > 1


@pytest.mark.parametrize(
    ("population", "filters"),
    [("BE", [_filter("countryFilter", "BE")]), ("BE_M", [_filter("countryFilter", "BE"), _filter("sexFilter", "M")])],
)
async def test_a_population_with_another_filter_matches_the_variants_meeting_both(
    client: TestClient[Any, Any], population: str, filters: list[dict[str, str]]
) -> None:
    """A population term next to an alphanumeric filter on the variants' ids (each held apart in SQLite)."""
    everything = await _variants(client, [])
    wanted = sorted(v["variantInternalId"] for v in everything if population in _seen_in(v))
    assert 0 < len(wanted) < len(everything)
    first = wanted[0]
    prefix = {"id": "variantInternalId", "operator": "=", "value": first.split(":")[0] + ":%"}
    found = await _variants(client, [*filters, prefix])
    assert sorted(v["variantInternalId"] for v in found) == [w for w in wanted if w.startswith(first.split(":")[0])]
    others = {"id": "variantInternalId", "operator": "!", "value": first}
    found = await _variants(client, [*filters, others])
    assert sorted(v["variantInternalId"] for v in found) == wanted[1:]
