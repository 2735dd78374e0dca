"""Bad input gets a schema-valid Beacon error with the right status and a message naming the problem; never a trace."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.errors import StoreUnavailable
from beacon.model.plan import Query
from beacon.store.base import DatasetInfo
from beacon.store.sqlite import SqliteStore
from tests.conftest import CINECA_ID, AiohttpClient, fetch, make_config, refusal
from tests.spec_check import response_problems

V = "/api/g_variants"


def nested(**params: Any) -> dict[str, Any]:
    return {"query": {"requestParameters": {"g_variant": params}}}


GET_CASES = [
    pytest.param(
        V, {"referenceName": "22", "start": "abc", "alternateBases": "A"}, "start: expected an integer", id="start=abc"
    ),
    pytest.param(
        V,
        {"referenceName": "22", "start": "1,2,3", "end": "5"},
        "start: expected one or two positions, got 3",
        id="three start values",
    ),
    pytest.param(V, {"referenceName": "22", "end": "5"}, "start is required with end", id="end without start"),
    pytest.param(V, {"referenceName": "22"}, "start is required with referenceName", id="referenceName without start"),
    pytest.param(
        V, {"start": "5", "alternateBases": "A"}, "referenceName is required", id="start without referenceName"
    ),
    pytest.param(
        V,
        {"referenceName": "22", "start": "1,2", "end": "5"},
        "two start and two end values",
        id="bracket with one end",
    ),
    pytest.param(
        V, {"referenceName": "22", "start": "10", "end": "5"}, "end must be greater than start", id="end before start"
    ),
    pytest.param(
        V,
        {"referenceName": "22", "start": "10", "alternateBases": "XYZ1"},
        "alternateBases: 'XYZ1' is not a sequence",
        id="bad bases",
    ),
    pytest.param(
        V,
        {"referenceName": "chr99", "start": "10", "alternateBases": "A"},
        "referenceName: 'chr99'",
        id="unknown chromosome",
    ),
    pytest.param(
        V,
        {"assemblyId": "hg99", "referenceName": "1", "start": "1", "alternateBases": "A"},
        "known: GRCh38",
        id="unknown assembly lists known ones",
    ),
    pytest.param(
        V,
        {"requestedGranularity": "bogus"},
        "requestedGranularity: 'bogus' is not one of boolean, count, record",
        id="bogus granularity",
    ),
    pytest.param(
        V,
        {"includeResultsetResponses": "SOME"},
        "includeResultsetResponses: 'SOME'",
        id="bogus includeResultsetResponses",
    ),
    pytest.param(V, {"skip": "-1"}, "skip: expected an integer from 0 to 10000000000, got -1", id="negative skip"),
    pytest.param(V, {"limit": "abc"}, "limit: expected an integer from 0 to 10000000000, got 'abc'", id="limit=abc"),
    pytest.param(V, {"testMode": "maybe"}, "testMode: expected true or false", id="testMode=maybe"),
    pytest.param(V, {"limit": ["1", "2"]}, "limit: expected one value, got 2", id="repeated single parameter"),
    pytest.param("/api/individuals", {"colour": "blue"}, "unknown parameter(s): colour", id="unknown parameter"),
    pytest.param(
        "/api/individuals",
        {"datasetIds": "nope"},
        f"unknown dataset(s) nope; available: {CINECA_ID}",
        id="unknown datasetIds",
    ),
    pytest.param(
        "/api/individuals",
        {"requestedSchema": "x-schema"},
        "requested schema(s) not supported for individuals: x-schema",
        id="unsupported schema",
    ),
    pytest.param(
        "/api/info", {"skip": "x"}, "skip: expected an integer", id="informational endpoints check parameters too"
    ),
]


@pytest.mark.parametrize(("path", "params", "message"), GET_CASES)
async def test_get_errors(cineca: TestClient[Any, Any], path: str, params: dict[str, Any], message: str) -> None:
    query = [(k, v) for k, values in params.items() for v in (values if isinstance(values, list) else [values])]
    resp = await cineca.get(path, params=query)
    document = await resp.json()
    assert resp.status == 400
    assert await asyncio.to_thread(response_problems, document) == []
    assert document["error"]["errorCode"] == 400
    assert message in document["error"]["errorMessage"]
    assert resp.headers["X-Request-Id"]


POST_CASES = [
    pytest.param(
        nested(referenceName="22", start=["abc"], alternateBases="A"),
        "start: expected an integer",
        id="nested start=abc",
    ),
    pytest.param(
        {"query": {"requestParameters": {"referenceName": "22", "start": ["abc"]}}},
        "start: expected an integer",
        id="flat start=abc",
    ),
    pytest.param(
        nested(referenceName="22", start=[1, 2, 3], end=[5]),
        "expected one or two positions, got 3",
        id="three start values",
    ),
    pytest.param(
        {"query": {"requestedGranularity": "bogus"}},
        "query.requestedGranularity: 'bogus' is not one of",
        id="bogus granularity",
    ),
    pytest.param(
        {"query": {"pagination": {"skip": "x"}}},
        "query.pagination.skip: 'x' is not of type 'integer'",
        id="pagination.skip='x'",
    ),
    pytest.param(
        {"query": {"pagination": {"limit": -3}}},
        "query.pagination.limit: -3 is less than the minimum of 0",
        id="negative limit",
    ),
    pytest.param(
        {"query": {"filters": [{"id": "a", "operator": ">"}]}},
        "filter 'a': alphanumeric filters need both operator and value",
        id="operator without value",
    ),
    pytest.param(
        {"query": {"filters": [{"id": "HP:1", "scope": "planet"}]}}, "unknown scope 'planet'", id="unknown filter scope"
    ),
    pytest.param(
        {"query": {"filters": [{"id": "age", "operator": "<", "value": "old"}]}},
        "needs a number or an ISO 8601 duration",
        id="order on text",
    ),
    pytest.param(
        {"query": {"requestParameters": {"colour": "blue"}}},
        "unknown parameter 'colour'",
        id="unknown request parameter",
    ),
    pytest.param(
        {"query": {"requestParameters": {"g_variant": "22:1"}}},
        "g_variant: expected an object",
        id="g_variant not an object",
    ),
    pytest.param({"query": {"unknown": 1}}, "'unknown' was unexpected", id="unknown query member"),
    pytest.param(
        {"query": {"testMode": "yes"}}, "query.testMode: 'yes' is not of type 'boolean'", id="testMode not boolean"
    ),
]


@pytest.mark.parametrize(("body", "message"), POST_CASES)
async def test_post_errors(cineca: TestClient[Any, Any], body: dict[str, Any], message: str) -> None:
    assert message in await refusal(cineca, "POST", V, body=body)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param("{not json", "request body is not valid JSON", id="not JSON"),
        pytest.param("[1, 2]", "request body must be a JSON object, got list", id="JSON array"),
        pytest.param('"query"', "request body must be a JSON object, got str", id="JSON string"),
        pytest.param(b"\xff\xfe{}", "not UTF-8", id="not UTF-8"),
    ],
)
async def test_malformed_bodies(cineca: TestClient[Any, Any], raw: str | bytes, message: str) -> None:
    resp = await cineca.post("/api/individuals", data=raw, headers={"Content-Type": "application/json"})
    document = await resp.json()
    assert resp.status == 400
    assert await asyncio.to_thread(response_problems, document) == []
    assert message in document["error"]["errorMessage"]


async def test_post_with_a_query_string_is_refused(cineca: TestClient[Any, Any]) -> None:
    resp = await cineca.post("/api/individuals?limit=5", json={})
    document = await resp.json()
    assert resp.status == 400
    assert "take their parameters in the JSON body" in document["error"]["errorMessage"]


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("GET", "/api/nonsense", "not found: /api/nonsense"),
        ("POST", "/api/individualz", "not found: /api/individualz"),
        ("GET", "/api/individuals/NOPE", "individuals/NOPE: no such individual"),
        ("POST", "/api/individuals/NOPE/g_variants", "individuals/NOPE: no such individual"),
        ("GET", "/api/datasets/NOPE/individuals", "datasets/NOPE: no such dataset"),
        ("GET", "/api/cohorts/NOPE/filtering_terms", "cohorts/NOPE: no such cohort"),
        ("GET", "/elsewhere", "not found: /elsewhere"),
        ("GET", "/static/../conf/beacon.yaml", "not found"),
    ],
    ids=lambda v: v,
)
async def test_unknown_paths_and_ids_are_404(
    cineca: TestClient[Any, Any], method: str, path: str, message: str
) -> None:
    resp = await (cineca.get(path) if method == "GET" else cineca.post(path, json={}))
    document = await resp.json()
    assert resp.status == 404
    assert await asyncio.to_thread(response_problems, document) == []
    assert document["error"]["errorCode"] == 404
    assert message in document["error"]["errorMessage"]


async def test_wrong_method_is_405_in_beacon_form(cineca: TestClient[Any, Any]) -> None:
    resp = await cineca.put("/api/individuals", json={})
    document = await resp.json()
    assert resp.status == 405
    assert await asyncio.to_thread(response_problems, document) == []
    assert "method PUT not allowed on /api/individuals" in document["error"]["errorMessage"]


async def test_error_meta_echoes_the_request_when_it_was_understood(cineca: TestClient[Any, Any]) -> None:
    params = {"requestedGranularity": "count", "datasetIds": "nope"}
    document = await fetch(cineca, "GET", "/api/individuals", params=params, status=400)
    assert document["meta"]["receivedRequestSummary"]["requestedGranularity"] == "count"
    assert document["meta"]["returnedSchemas"][0]["entityType"] == "individual"


class _ExplodingStore(SqliteStore):
    async def datasets(self) -> list[DatasetInfo]:
        msg = "secret detail /etc/passwd"
        raise RuntimeError(msg)


class _UnavailableStore(SqliteStore):
    async def count_by_dataset(self, query: Query) -> dict[str, int]:
        msg = "store is down for maintenance"
        raise StoreUnavailable(msg)


async def test_internal_failure_is_a_generic_500_with_a_request_id(
    aiohttp_client: AiohttpClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(f"sqlite:///{tmp_path / 'x.db'}")
    client = await aiohttp_client(create_app(config, store=_ExplodingStore(tmp_path / "x.db")))
    caplog.set_level(logging.ERROR, logger="beacon.api")
    resp = await client.get("/api/individuals")
    text = await resp.text()
    assert resp.status == 500
    request_id = resp.headers["X-Request-Id"]
    document = await resp.json()
    assert await asyncio.to_thread(response_problems, document) == []
    assert request_id in document["error"]["errorMessage"]
    assert "secret detail" not in text
    assert "Traceback" not in text
    (record,) = [r for r in caplog.records if r.name == "beacon.api"]
    assert request_id in record.getMessage()
    assert record.exc_info is not None


async def test_store_unavailable_is_503(aiohttp_client: AiohttpClient, cineca_db: Path) -> None:
    config = make_config(f"sqlite:///{cineca_db}")
    client = await aiohttp_client(create_app(config, store=_UnavailableStore(cineca_db)))
    document = await fetch(client, "GET", "/api/individuals", status=503)
    assert document["error"]["errorMessage"] == "store is down for maintenance"
