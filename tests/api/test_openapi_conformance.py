"""What schemathesis found between the OpenAPI document and the server (docs/openapi.md), pinned."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import refusal


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"apiVersion": ""}, "apiVersion: expected a non-empty string"),
        ({"datasetIds": ",,,"}, "datasetIds: expected comma-separated dataset ids, got an empty one"),
    ],
    ids=["an empty apiVersion is refused", "empty dataset ids are refused"],
)
async def test_values_the_document_refuses_are_refused(
    cineca: TestClient[Any, Any], params: dict[str, str], message: str
) -> None:
    assert await refusal(cineca, "GET", "/api/individuals", params=params) == message


async def test_the_document_states_the_filter_rules_and_the_plain_text_400(cineca: TestClient[Any, Any]) -> None:
    document = await (await cineca.get("/api/openapi.json")).json()
    components = document["components"]
    form = next(f for f in components["schemas"]["BeaconRequestFilter"]["anyOf"] if f.get("type") == "object")
    assert form["dependentRequired"] == {"operator": ["value"], "value": ["operator"]}
    assert "individual" in form["properties"]["scope"]["enum"]
    assert set(components["responses"]["Error400"]["content"]) == {"application/json", "text/plain"}
