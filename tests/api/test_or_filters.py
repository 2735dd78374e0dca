"""Two ways of saying OR, one meaning: a nested array inside `filters` and the `filterGroups` extension, announced."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import fetch, refusal

FEMALE, MALE = "NCIT:C16576", "NCIT:C20197"
ONE_PERSON = {"id": "id", "operator": "=", "value": "HG00096"}  # one known individual


async def _count(client: TestClient[Any, Any], query: dict[str, Any]) -> int:
    body = {"query": {**query, "requestedGranularity": "count"}}
    document = await fetch(client, "POST", "/api/individuals", body=body)
    return int(document["responseSummary"]["numTotalResults"])


async def test_a_nested_array_is_one_or_group_anded_with_the_other_filters(cineca: TestClient[Any, Any]) -> None:
    female, male = await _count(cineca, {"filters": [FEMALE]}), await _count(cineca, {"filters": [MALE]})
    assert female > 0
    assert male > 0
    assert await _count(cineca, {"filters": [[FEMALE, MALE]]}) == female + male
    assert await _count(cineca, {"filterGroups": [{"anyOf": [FEMALE, MALE]}]}) == female + male
    one = await _count(cineca, {"filters": [ONE_PERSON]})
    assert one == 1
    assert await _count(cineca, {"filters": [ONE_PERSON, [FEMALE, MALE]]}) == 1
    assert await _count(cineca, {"filters": [FEMALE, [MALE, ONE_PERSON]]}) == await _count(
        cineca, {"filters": [FEMALE, ONE_PERSON]}
    )


async def test_the_nested_form_is_echoed_like_the_extension(cineca: TestClient[Any, Any]) -> None:
    body = {"query": {"filters": [FEMALE, [MALE, ONE_PERSON]], "requestedGranularity": "count"}}
    document = await fetch(cineca, "POST", "/api/individuals", body=body)
    assert document["meta"]["receivedRequestSummary"]["filters"] == [FEMALE]
    assert document["info"]["filterGroups"] == [{"anyOf": [MALE, "id=HG00096"]}]


@pytest.mark.parametrize(
    "filters",
    [[[]], [[[FEMALE]]], [[{"id": FEMALE, "operator": "~", "value": "x"}]]],
    ids=["empty nested array", "nested twice", "bad operator inside"],
)
async def test_a_malformed_nested_array_is_a_bad_request(cineca: TestClient[Any, Any], filters: list[Any]) -> None:
    body = {"query": {"filters": filters}}
    assert "filters" in await refusal(cineca, "POST", "/api/individuals", body=body)


async def test_configuration_announces_both_or_forms_and_the_operators(cineca: TestClient[Any, Any]) -> None:
    document = await fetch(cineca, "GET", "/api/configuration", endpoint="configuration")
    capabilities = document["response"]["queryCapabilities"]
    assert capabilities["orInFilters"] == {"nestedFiltersArray": True, "filterGroups": ["anyOf", "noneOf"]}
    assert {"!", "!=", ">=", "<="} <= set(capabilities["filterOperators"])
