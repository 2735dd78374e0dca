"""The served OpenAPI document describes exactly the routes and parameters the server takes, with working examples."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from beacon.api.app import create_app
from beacon.api.openapi import build_document
from beacon.api.parse import GET_PARAMS, VARIANT_ALIASES, VARIANT_PARAMS, warm_up
from beacon.api.validation import endpoint_of
from beacon.config import Config, DatasetPolicy
from beacon.model.entry_types import EntryTypeTable
from tests.conftest import CINECA_ID, AiohttpClient, fetch, make_config
from tests.spec_check import response_problems

TABLE = EntryTypeTable()
UNDOCUMENTED = "notAParameter"
# Coordinates only make a query together (their descriptions say so): each is sent with the others' examples.
COMPANIONS = {"referenceName": ("start", "end"), "start": ("referenceName", "end"), "end": ("referenceName", "start")}


def _documented_paths() -> list[str]:
    warm_up()
    config = make_config("sqlite:///unused.db", DatasetPolicy(CINECA_ID))
    return sorted(build_document(config)["paths"])


@pytest.fixture
async def served(aiohttp_client: AiohttpClient, cineca_config: Config) -> TestClient[Any, Any]:
    """CINECA on SQLite only: what is checked here is the parser and the route table, which no store changes."""
    return await aiohttp_client(create_app(cineca_config))


async def _document(client: TestClient[Any, Any]) -> dict[str, Any]:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    document: dict[str, Any] = await resp.json()
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        node = target
    return node


def _query_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


async def _record_id(client: TestClient[Any, Any], entry_path: str) -> str:
    """A real record id of an entry type, asked from the server itself."""
    entry = TABLE.by_path()[entry_path]
    doc = await fetch(client, "GET", f"/api/{entry_path}", params={"requestedGranularity": "record", "limit": "1"})
    response = doc["response"]
    record = response["collections"][0] if "collections" in response else response["resultSets"][0]["results"][0]
    return str(record[entry.id_field])


async def _answer(client: TestClient[Any, Any], path: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Status and body of a GET, after the checks `fetch` makes on any answer (JSON, schema-valid, errorCode)."""
    resp = await client.get(path, params=params)
    assert resp.content_type == "application/json", await resp.text()
    document: dict[str, Any] = await resp.json()
    assert await asyncio.to_thread(response_problems, document, endpoint_of(path)) == []
    if resp.status >= 400:
        assert document["error"]["errorCode"] == resp.status
    return resp.status, document


async def test_document_is_valid_openapi_and_built_once(served: TestClient[Any, Any]) -> None:
    first = await served.get("/api/openapi.json")
    second = await served.get("/api/openapi.json")
    assert await first.read() == await second.read()
    document = await _document(served)
    assert document["openapi"].startswith("3.1")
    # The validator loads its meta-schemas from files: off the event loop.
    await asyncio.to_thread(validate, document)


async def test_documented_paths_are_exactly_the_served_api_routes(served: TestClient[Any, Any]) -> None:
    document = await _document(served)
    documented = {(m.upper(), path) for path, item in document["paths"].items() for m in item if m in ("get", "post")}
    served_routes = {
        (route.method, route.resource.canonical)
        for route in served.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api") and route.method != "HEAD"
    }
    assert documented == served_routes


async def test_entry_queries_document_exactly_the_parameters_the_parser_takes(served: TestClient[Any, Any]) -> None:
    document = await _document(served)
    accepted = GET_PARAMS | VARIANT_PARAMS | set(VARIANT_ALIASES)
    for entry in TABLE.enabled():
        operation = document["paths"][f"/api/{entry.path}"]["get"]
        names = {_resolve(document, p)["name"] for p in operation["parameters"]}
        assert names == accepted, entry.path


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=f"{p} takes every documented parameter and example body, refuses an undocumented one")
        for p in _documented_paths()
        if p not in ("/api/openapi.json", "/api/docs")
    ],
)
async def test_every_documented_parameter_and_example_is_accepted(served: TestClient[Any, Any], path: str) -> None:
    document = await _document(served)
    item = document["paths"][path]
    url = path
    if "{id}" in path:
        url = path.replace("{id}", await _record_id(served, path.split("/")[2]))
    params = {p["name"]: p for p in (_resolve(document, raw) for raw in item["get"]["parameters"])}
    refused = {}
    for name, param in params.items():
        # The example satisfies its own schema, and the server takes it.
        assert list(Draft202012Validator(param["schema"]).iter_errors(param["example"])) == [], name
        query = {n: _query_value(params[n]["example"]) for n in (name, *COMPANIONS.get(name, ()))}
        status, body = await _answer(served, url, query)
        if status != 200:
            refused[f"{name}={query[name]}"] = body["error"]["errorMessage"]
    assert refused == {}
    status, body = await _answer(served, url, {UNDOCUMENTED: "1"})
    assert status == 400
    assert body["error"]["errorMessage"] == f"unknown parameter(s): {UNDOCUMENTED}"
    content = item["post"]["requestBody"]["content"]["application/json"]
    # Wrapped with the components, so the body schema's references to other component schemas resolve.
    body_schema = Draft202012Validator({**content["schema"], "components": document["components"]})
    examples = content["examples"]
    assert examples
    for raw in examples.values():
        example = _resolve(document, raw)["value"]
        assert list(body_schema.iter_errors(example)) == []
        await fetch(served, "POST", url, body=example, endpoint=endpoint_of(path))


async def test_docs_page_is_self_contained_and_reads_the_document(served: TestClient[Any, Any]) -> None:
    resp = await served.get("/api/docs")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert 'fetch("openapi.json")' in page
    # No CDN, fonts or scripts from elsewhere: the page works offline and leaks no visits.
    assert "://" not in page
    assert "<script src" not in page


async def test_document_is_served_when_responses_are_validated(
    aiohttp_client: AiohttpClient, cineca_config: Config
) -> None:
    server = replace(cineca_config.server, validate_responses=True)
    client = await aiohttp_client(create_app(replace(cineca_config, server=server)))
    document = await _document(client)
    assert "/api/g_variants" in document["paths"]
