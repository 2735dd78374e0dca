"""Which datasets answer, and how finely: per-dataset granularity caps, testMode and datasetIds."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.model.granularity import Granularity, SecurityLevel
from tests.conftest import CINECA_ID, AiohttpClient, fetch, make_config, refusal


@pytest.mark.parametrize(
    ("cap", "requested", "returned"),
    [
        ("count", "record", "count"),
        ("boolean", "record", "boolean"),
        ("boolean", "count", "boolean"),
        ("record", "count", "count"),
        ("count", "boolean", "boolean"),
    ],
    ids=lambda v: v,
)
async def test_answers_are_never_finer_than_asked_or_allowed(
    aiohttp_client: AiohttpClient, cineca_db: Path, cap: str, requested: str, returned: str
) -> None:
    config = make_config(f"sqlite:///{cineca_db}", DatasetPolicy(CINECA_ID, max_granularity=Granularity(cap)))
    client = await aiohttp_client(create_app(config))
    for path in ("/api/individuals", "/api/datasets", f"/api/individuals/{'HG00096'}"):
        doc = await fetch(client, "GET", path, params={"requestedGranularity": requested})
        assert doc["meta"]["returnedGranularity"] == returned
        assert doc["meta"]["receivedRequestSummary"]["requestedGranularity"] == requested
        response = doc.get("response", {})
        if returned != "record":
            assert "collections" not in response
            assert all(s["results"] == [] for s in response.get("resultSets", []))
        if returned == "boolean":
            assert "response" not in doc
            assert "numTotalResults" not in doc["responseSummary"]


async def test_test_datasets_answer_only_in_test_mode(aiohttp_client: AiohttpClient, cineca_db: Path) -> None:
    config = make_config(f"sqlite:///{cineca_db}", DatasetPolicy(CINECA_ID, test=True))
    client = await aiohttp_client(create_app(config))
    normal = await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert normal["responseSummary"] == {"exists": False, "numTotalResults": 0}
    assert normal["meta"]["testMode"] is False
    test = await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "count", "testMode": "true"})
    assert test["responseSummary"]["numTotalResults"] == 2504
    assert test["meta"]["testMode"] is True
    posted = await fetch(
        client, "POST", "/api/individuals", body={"query": {"testMode": True, "requestedGranularity": "count"}}
    )
    assert posted["responseSummary"]["numTotalResults"] == 2504


async def test_non_public_datasets_are_invisible_without_authentication(
    aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    config = make_config(f"sqlite:///{cineca_db}", DatasetPolicy(CINECA_ID, security=SecurityLevel.CONTROLLED))
    client = await aiohttp_client(create_app(config))
    doc = await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert doc["responseSummary"]["numTotalResults"] == 0
    assert "available: none" in await refusal(client, "GET", "/api/individuals", params={"datasetIds": CINECA_ID})
    await fetch(client, "GET", f"/api/datasets/{CINECA_ID}", status=404)


async def test_dataset_ids_narrow_the_scope(aiohttp_client: AiohttpClient, pi_db: Path) -> None:
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{pi_db}")))
    everything = await fetch(client, "GET", "/api/g_variants", params={"requestedGranularity": "count"})
    only_test = await fetch(
        client, "GET", "/api/g_variants", params={"requestedGranularity": "count", "datasetIds": "test"}
    )
    assert [s["id"] for s in only_test["response"]["resultSets"]] == ["test"]
    assert only_test["responseSummary"]["numTotalResults"] == 41
    assert everything["responseSummary"]["numTotalResults"] == 41 + 999
    body = {"query": {"requestParameters": {"datasets": {"datasetIds": ["test"]}}, "requestedGranularity": "count"}}
    posted = await fetch(client, "POST", "/api/g_variants", body=body)
    assert posted["responseSummary"]["numTotalResults"] == 41
    assert posted["meta"]["receivedRequestSummary"]["requestParameters"] == {"datasets": {"datasetIds": ["test"]}}
