"""Counts below the floor stay hidden when asked by difference, in every filter form, on every caller class.

On the code before this suite, `all - noneOf[T]` and the spec-only pair `field = "%"` minus `field ! T`
gave the exact number of holders of T (1, 2 or 4) through a floor of 5.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.aggregator.loopback import ServerFactory, build_network
from tests.conftest import CINECA, AiohttpClient, fetch
from tests.security.conftest import FLOOR, FLOORED, PUB, SECRET, Cohort
from tests.security.issuers import CTL_VISA
from tests.security.probe import PROCEDURE, ask, small_terms, total


@pytest.fixture(scope="module")
def terms(cohort_db: Path) -> dict[int, str]:
    return small_terms(cohort_db, FLOORED)


Pair = tuple[dict[str, Any], dict[str, Any]]  # (the larger question, the one to subtract), POST query bodies


def _pairs(term: str) -> dict[str, Pair]:
    count = {"requestedGranularity": "count"}
    padding = [{"id": "id", "operator": "=", "value": f"HG0{n:04d}"} for n in range(96, 105)]
    return {
        "all minus noneOf[T]": (count, {**count, "filterGroups": [{"noneOf": [term]}]}),
        "field = % minus field ! T (spec filters only)": (
            {**count, "filters": [{"id": PROCEDURE, "operator": "=", "value": "%"}]},
            {**count, "filters": [{"id": PROCEDURE, "operator": "!", "value": term}]},
        ),
        "anyOf[T, 9 known people] minus anyOf[9 known people]": (
            {**count, "filterGroups": [{"anyOf": [term, *padding]}]},
            {**count, "filterGroups": [{"anyOf": padding}]},
        ),
        # The specification's OR proposal: a nested array inside `filters` is one OR group.
        "nested [T, 9 known people] minus nested [9 known people]": (
            {**count, "filters": [[term, *padding]]},
            {**count, "filters": [padding]},
        ),
        "nested [T, 9 known people] minus nested [9 known people], beside a plain filter": (
            {**count, "filters": [{"id": PROCEDURE, "operator": "=", "value": "%"}, [term, *padding]]},
            {**count, "filters": [{"id": PROCEDURE, "operator": "=", "value": "%"}, padding]},
        ),
        "noneOf scoped to individuals on /biosamples": (
            count,
            {**count, "filterGroups": [{"noneOf": [{"id": term, "scope": "individual"}]}]},
        ),
    }


async def _token(cohort: Cohort, caller: str) -> str | None:
    if caller == "anonymous":
        return None
    if caller == "registered":
        return cohort.issuer.token()
    return cohort.issuer.token(ga4gh_passport_v1=[cohort.broker.visa(CTL_VISA)])


CALLERS = [("anonymous", PUB), ("registered", FLOORED), ("controlled", SECRET)]


@pytest.mark.parametrize("holders", [1, 2, 4])
@pytest.mark.parametrize("form", list(_pairs("T")))
@pytest.mark.parametrize(("caller", "dataset"), CALLERS, ids=[c for c, _ in CALLERS])
async def test_no_difference_of_two_answers_reveals_a_count_below_the_floor(
    cohort: Cohort, terms: dict[int, str], caller: str, dataset: str, form: str, holders: int
) -> None:
    term = terms[holders]
    token = await _token(cohort, caller)
    larger, smaller = _pairs(term)[form]
    path = "/api/biosamples" if "biosamples" in form else "/api/individuals"
    answers = []
    for question in (larger, smaller):
        status, document = await ask(cohort, path, token=token, query={**question, "datasetIds": [dataset]})
        answers.append((status, document))
    refused = [s for s, _ in answers if s != 200]
    if refused:
        # The question that isolates the group by difference is refused, with a Beacon error.
        assert set(refused) == {403}, answers
        assert "complements and unions" in answers[1][1]["error"]["errorMessage"]
        return
    a, b = (total(d) for _, d in answers)
    assert a % FLOOR == 0
    assert b % FLOOR == 0
    assert a - b != holders


@pytest.mark.parametrize("holders", [1, 2, 4])
@pytest.mark.parametrize(("caller", "dataset"), CALLERS, ids=[c for c, _ in CALLERS])
async def test_a_small_group_reads_as_no_group_with_its_precision_and_shows_no_records(
    cohort: Cohort, terms: dict[int, str], caller: str, dataset: str, holders: int
) -> None:
    token = await _token(cohort, caller)
    for granularity in ("count", "record"):
        query = {
            "filters": [terms[holders]],
            "requestedGranularity": granularity,
            "datasetIds": [dataset],
            "includeResultsetResponses": "ALL",
        }
        status, document = await ask(cohort, "/api/individuals", token=token, query=query)
        assert status == 200, document
        summary = document["responseSummary"]
        assert summary["numTotalResults"] == 0
        assert summary["exists"] is False
        # Marked rounded although it reads 0: an "exact" 0 would tell a true 0 from a suppressed one.
        assert (summary["countPrecision"], summary["countAdjustedTo"]) == ("rounded", [FLOOR])
        for result_set in document["response"]["resultSets"]:
            assert result_set["resultsCount"] == 0
            assert result_set["results"] == []
            assert result_set["countPrecision"] == "rounded"
    query = {"filters": [terms[holders]], "requestedGranularity": "boolean", "datasetIds": [dataset]}
    status, document = await ask(cohort, "/api/individuals", token=token, query=query)
    assert document["responseSummary"] == {"exists": False}


async def test_a_group_of_the_floor_or_more_reads_rounded_up(cohort: Cohort) -> None:
    query = {"requestedGranularity": "count", "datasetIds": [PUB]}
    status, document = await ask(cohort, "/api/individuals", query=query)
    assert status == 200, document
    assert total(document) == 2505  # the cohort's 2,504 people


async def test_every_count_from_a_floored_dataset_is_a_multiple_of_the_floor_totals_included(cohort: Cohort) -> None:
    token = cohort.issuer.token()
    query = {"requestedGranularity": "count", "includeResultsetResponses": "ALL"}
    status, document = await ask(cohort, "/api/individuals", token=token, query=query)
    assert status == 200
    assert total(document) % FLOOR == 0
    assert all(s["resultsCount"] % FLOOR == 0 for s in document["response"]["resultSets"])
    # A count that happens to be a multiple of the floor is still marked rounded: "exact" would give it away.
    assert document["responseSummary"]["countPrecision"] == "rounded"


@pytest.mark.parametrize(
    "params",
    [
        {"filterGroup": "noneOf:OPCS4:L46.3"},
        {"filterGroup": "anyOf:OPCS4:L46.3,OPCS4:T89.4"},
        {"filters": f"{PROCEDURE}:!OPCS4:L46.3"},
        {"filters": f"{PROCEDURE}:!=OPCS4:L46.3"},
    ],
    ids=["noneOf", "anyOf of two", "! operator", "!= operator"],
)
async def test_complements_and_unions_are_refused_in_get_form_too(cohort: Cohort, params: dict[str, str]) -> None:
    status, document = await ask(cohort, "/api/individuals", params={**params, "requestedGranularity": "count"})
    assert status == 403, document
    assert document["error"]["errorCode"] == 403


async def test_complements_are_refused_to_yes_no_questions_too(cohort: Cohort, terms: dict[int, str]) -> None:
    # Below the floor a group reads as none, so "exists" says "at least k": a union padded with people of
    # known number would find that threshold, and with it the exact size of a small group.
    padding = [{"id": "id", "operator": "=", "value": f"HG0{n:04d}"} for n in range(96, 99)]
    for groups in ([{"noneOf": ["OPCS4:L46.3"]}], [{"anyOf": [terms[2], *padding]}]):
        query = {"filterGroups": groups, "requestedGranularity": "boolean"}
        status, document = await ask(cohort, "/api/individuals", query=query)
        assert status == 403, document


async def test_an_anyof_of_one_filter_is_a_plain_filter_and_is_answered(cohort: Cohort) -> None:
    plain = {"filters": ["OPCS4:L46.3"], "requestedGranularity": "count"}
    query = {"filterGroups": [{"anyOf": ["OPCS4:L46.3"]}], "requestedGranularity": "count"}
    answers = [await ask(cohort, "/api/individuals", query=q) for q in (plain, query)]
    assert [status for status, _ in answers] == [200, 200]
    assert total(answers[0][1]) == total(answers[1][1])


async def test_a_nested_or_of_one_filter_is_a_plain_filter_and_is_answered(cohort: Cohort) -> None:
    plain = {"filters": ["OPCS4:L46.3"], "requestedGranularity": "count"}
    query = {"filters": [["OPCS4:L46.3"]], "requestedGranularity": "count"}
    answers = [await ask(cohort, "/api/individuals", query=q) for q in (plain, query)]
    assert [status for status, _ in answers] == [200, 200]
    assert total(answers[0][1]) == total(answers[1][1])


@pytest.mark.parametrize(
    "filters",
    [
        [["OPCS4:L46.3", "OPCS4:T89.4"]],
        ["OPCS4:T89.4", ["OPCS4:L46.3", "OPCS4:T89.4"]],
        [["OPCS4:L46.3"], ["OPCS4:L46.3", {"id": PROCEDURE, "operator": "=", "value": "OPCS4:T89.4"}]],
    ],
    ids=["nested pair", "nested pair beside a plain filter", "second nested group"],
)
async def test_a_nested_or_is_refused_exactly_as_an_anyof_group(cohort: Cohort, filters: list[Any]) -> None:
    nested = {"filters": filters, "requestedGranularity": "count"}
    plain = [f for f in filters if not isinstance(f, list)]
    groups = [{"anyOf": f} for f in filters if isinstance(f, list)]
    extension = {"filters": plain, "filterGroups": groups, "requestedGranularity": "count"}
    answers = [await ask(cohort, "/api/individuals", query=q) for q in (nested, extension)]
    assert [status for status, _ in answers] == [403, 403], answers
    assert answers[0][1]["error"]["errorMessage"] == answers[1][1]["error"]["errorMessage"]
    boolean = {**nested, "requestedGranularity": "boolean"}
    status, document = await ask(cohort, "/api/individuals", query=boolean)
    assert status == 403, "a yes/no answer says 'at least the floor': unions are refused there too"


async def test_through_the_aggregator_members_round_and_refuse_the_same_way(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await build_network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, (), count_floor=FLOOR)
    rare = {"filters": ["OPCS4:L46.3"], "requestedGranularity": "count"}
    document = await fetch(network.client, "POST", "/api/individuals", body={"query": rare})
    assert document["responseSummary"]["numTotalResults"] == 0  # one person: below the floor, read as none
    assert document["responseSummary"]["countPrecision"] == "rounded"
    everyone = await fetch(
        network.client, "POST", "/api/individuals", body={"query": {"requestedGranularity": "count"}}
    )
    complement = {"filterGroups": [{"noneOf": ["OPCS4:L46.3"]}], "requestedGranularity": "count"}
    refused = await fetch(network.client, "POST", "/api/individuals", body={"query": complement})
    (member,) = refused["info"]["members"]
    assert member["httpStatus"] == 403
    nested = {"filters": [["OPCS4:L46.3", "OPCS4:T89.4"]], "requestedGranularity": "count"}
    refused_nested = await fetch(network.client, "POST", "/api/individuals", body={"query": nested})
    assert refused_nested["info"]["members"][0]["httpStatus"] == 403
    assert refused_nested["responseSummary"].get("numTotalResults", 0) == 0
    assert refused["responseSummary"].get("numTotalResults", 0) == 0
    assert everyone["responseSummary"]["numTotalResults"] % FLOOR == 0


async def test_a_variant_record_lists_its_carriers_only_in_groups_of_at_least_the_floor(cohort: Cohort) -> None:
    # A variant answered at record granularity with one carrier in caseLevelData would say "exactly one
    # person" where every count from the dataset says 5.
    token = await _token(cohort, "controlled")
    with gzip.open(CINECA / "genomicVariations.json.gz") as source:
        carriers = {v["variantInternalId"]: len(v.get("caseLevelData", [])) for v in json.load(source)}
    params = {"requestedGranularity": "record", "limit": "1000", "datasetIds": SECRET}
    status, body = await ask(cohort, "/api/g_variants", token=token, params=params)
    assert status == 200, body
    (result_set,) = body["response"]["resultSets"]
    records = result_set["results"]
    assert len(records) == 1000
    shown = {r["variantInternalId"]: len(r.get("caseLevelData", [])) for r in records}
    assert all(n == 0 or n >= FLOOR for n in shown.values())
    # Large groups are still shown whole; small ones are left out, not trimmed.
    assert all(shown[v] == (carriers[v] if carriers[v] >= FLOOR else 0) for v in shown)
    assert any(0 < carriers[v] < FLOOR for v in shown)
    assert any(n >= FLOOR for n in shown.values())
