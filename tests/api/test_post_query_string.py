"""A POST's query string may repeat its body's parameters (clients of the EGA implementation send both),
never add to them or contradict them (docs/decisions.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.api.app import create_app
from tests.conftest import AiohttpClient, make_config

BODY = {
    "meta": {"apiVersion": "v2.0.0"},
    "query": {
        "requestParameters": {"referenceName": "22", "start": [16050074], "alternateBases": "A"},
        "filters": [{"id": "NCIT:C16576"}],
        "requestedGranularity": "count",
    },
}


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ({"referenceName": "22", "start": "16050074", "alternateBases": "A"}, 200, None),
        ({"requestedGranularity": "count", "filters": "NCIT:C16576"}, 200, None),
        ({"referenceName": "21"}, 400, "referenceName differ from the body"),
        ({"requestedGranularity": "record"}, 400, "requestedGranularity differ from the body"),
        ({"filters": "NCIT:C20197"}, 400, "filters differ from the body"),
        ({"datasetIds": "other"}, 400, "datasetIds differ from the body"),
    ],
    ids=[
        "repeats the allele",
        "repeats granularity and filters",
        "contradicts the chromosome",
        "asks finer",
        "adds a filter",
        "adds datasetIds",
    ],
)
async def test_a_post_query_string_may_repeat_the_body_never_change_it(
    aiohttp_client: AiohttpClient, cineca_db: Path, query: dict[str, str], status: int, message: str | None
) -> None:
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{cineca_db}")))
    resp = await client.post("/api/individuals", params=query, json=BODY)
    document = await resp.json()
    assert resp.status == status, document
    if message is None:
        assert document["meta"]["returnedGranularity"] == "count"
    else:
        assert message in document["error"]["errorMessage"]
