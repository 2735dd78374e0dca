"""The aggregator serves the beacon's own route table: every path a beacon answers, answered by the members."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from tests.aggregator.loopback import Network, ServerFactory, build_network
from tests.conftest import CINECA_ID, AiohttpClient, fetch, make_config


def _api_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api")
    }


def test_the_aggregator_serves_exactly_the_beacons_api_routes() -> None:
    config = make_config("sqlite:///unused.db")
    network = settings_from(
        {
            "beacon": {"id": "org.example.network", "name": "N", "organization": {"id": "o", "name": "O"}},
            "members": [{"id": "m", "url": "http://127.0.0.1:9/api"}],
        }
    )
    beacon_routes = _api_routes(create_app(config))
    assert _api_routes(create_aggregator_app(network)) == beacon_routes
    assert ("GET", "/api/individuals/filtering_terms") in beacon_routes
    assert ("GET", "/api/openapi.json") in beacon_routes


async def _one_member(aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, db: Path) -> Network:
    return await build_network(aiohttp_server, aiohttp_client, {"cineca": db}, ())


async def _direct(network: Network, path: str) -> dict[str, Any]:
    async with network.client.session.get(network.members["cineca"] + path) as resp:
        assert resp.status == 200
        document: dict[str, Any] = await resp.json()
        return document


async def test_an_entry_types_filtering_terms_are_the_members_not_an_entry_with_that_id(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _one_member(aiohttp_server, aiohttp_client, cineca_db)
    document = await fetch(network.client, "GET", "/api/individuals/filtering_terms", endpoint="filtering_terms")
    direct = await _direct(network, "/individuals/filtering_terms")
    assert document["response"]["filteringTerms"] == sorted(direct["response"]["filteringTerms"], key=lambda t: t["id"])
    assert document["response"]["filteringTerms"]
    assert [m["outcome"] for m in document["info"]["members"]] == ["ok"]
    assert document["meta"]["beaconId"] == "org.example.network"


async def test_one_records_filtering_terms_come_from_the_members(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _one_member(aiohttp_server, aiohttp_client, cineca_db)
    path = f"/datasets/{CINECA_ID}/filtering_terms"
    document = await fetch(network.client, "POST", "/api" + path, endpoint="filtering_terms")
    direct = await _direct(network, path)
    assert {t["id"] for t in document["response"]["filteringTerms"]} == {
        t["id"] for t in direct["response"]["filteringTerms"]
    }
    assert document["response"]["filteringTerms"]


async def test_the_api_root_answers_with_and_without_a_slash(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _one_member(aiohttp_server, aiohttp_client, cineca_db)
    for path in ("/api", "/api/"):
        document = await fetch(network.client, "GET", path, endpoint="info")
        assert document["response"]["id"] == "org.example.network"


async def test_the_openapi_document_describes_the_aggregators_paths(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _one_member(aiohttp_server, aiohttp_client, cineca_db)
    resp = await network.client.get("/api/openapi.json")
    assert resp.status == 200
    paths = (await resp.json())["paths"]
    served = {path for _, path in _api_routes(network.client.app)} - {"/api/openapi.json", "/api/docs"}
    assert served <= set(paths)
    assert (await network.client.get("/api/docs")).status == 200


async def test_a_lookup_is_asked_of_the_members_serving_its_source_entry_type(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _one_member(aiohttp_server, aiohttp_client, cineca_db)
    path = f"/datasets/{CINECA_ID}/individuals"
    document = await fetch(network.client, "GET", "/api" + path, params={"requestedGranularity": "count"})
    direct = await _direct(network, path + "?requestedGranularity=count")
    assert document["responseSummary"] == direct["responseSummary"]
    assert document["meta"]["returnedSchemas"][0]["entityType"] == "individual"
