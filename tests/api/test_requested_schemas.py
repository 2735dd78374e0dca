"""`requestedSchemas` by full id or by a short name, GET and POST; anything else is a 400 naming the supported id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from beacon.api.app import create_app
from tests.conftest import AiohttpClient, make_config


@pytest.mark.parametrize(
    ("schema", "status"),
    [
        ("ga4gh-beacon-individual-v2.0.0", 200),
        ("beacon-individual-v2.0.0", 200),
        ("individual", 200),
        ("ga4gh-beacon-biosample-v2.0.0", 400),
        ("individuals-v9", 400),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_requested_schemas_by_full_id_or_short_name(
    aiohttp_client: AiohttpClient, cineca_db: Path, schema: str, status: int, method: str
) -> None:
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{cineca_db}")))
    if method == "GET":
        resp = await client.get("/api/individuals", params={"requestedSchema": schema})
    else:
        body: dict[str, Any] = {
            "meta": {"apiVersion": "v2.0.0", "requestedSchemas": [{"entityType": "individual", "schema": schema}]},
            "query": {},
        }
        resp = await client.post("/api/individuals", json=body)
    document = await resp.json()
    assert resp.status == status, document
    if status == 400:
        assert "supported: ga4gh-beacon-individual-v2.0.0" in document["error"]["errorMessage"]
