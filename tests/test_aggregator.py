"""The aggregator against five real beacons of this project and six misbehaving ones, on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.model.granularity import Granularity
from beacon.spec import spec_dir
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.conftest import CINECA, CINECA_ID, AiohttpClient, fetch, make_config

ServerFactory = Callable[..., Awaitable[TestServer]]
SPEC_EXAMPLES = spec_dir() / "framework/json/responses/examples-fullDocuments"
DEADLINE_S = 2.0


@pytest.fixture(scope="module")
def copies_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CINECA under two more dataset ids, so members hold different datasets."""
    path = tmp_path_factory.mktemp("copies") / "beacon.db"

    async def load() -> None:
        store = SqliteStore(path)
        await store.open()
        try:
            await load_bff(CINECA, "copy-a", store, assembly="GRCh37")
        finally:
            await store.close()

    asyncio.run(load())
    return path


def _misbehaving(kind: str, seen: list[dict[str, str]]) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        if request.path.endswith("/map"):
            return web.json_response({"meta": {"beaconId": kind}, "response": {"endpointSets": {}}})
        if kind == "slow":
            await asyncio.sleep(30)
        if kind == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if kind == "malformed":
            return web.Response(text='{"meta": {"beaconId": "x"', content_type="application/json")
        if kind == "schema-invalid":
            return web.json_response({"hello": "world", "responseSummary": {"exists": "maybe"}})
        if kind == "endless":
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(request)
            await resp.write(b'{"meta": {"beaconId": "endless"}, "padding": "')
            while True:
                await resp.write(b"x" * 65536)
        if kind == "example":
            name = "beaconCountResponse-example.json"
            return web.json_response(json.loads(await asyncio.to_thread((SPEC_EXAMPLES / name).read_text)))
        raise AssertionError(kind)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


class Network:
    def __init__(
        self, client: TestClient[Any, Any], members: dict[str, str], seen: dict[str, list[dict[str, str]]]
    ) -> None:
        self.client = client
        self.members = members  # id -> API root
        self.seen = seen


async def _network(
    aiohttp_server: ServerFactory,
    aiohttp_client: AiohttpClient,
    dbs: dict[str, Path],
    misbehaving: tuple[str, ...],
    **fanout: Any,
) -> Network:
    members: dict[str, str] = {}
    seen: dict[str, list[dict[str, str]]] = {}
    for member_id, db in dbs.items():
        config = make_config(f"sqlite:///{db}", DatasetPolicy(CINECA_ID, max_granularity=Granularity.RECORD))
        server = await aiohttp_server(create_app(config))
        members[member_id] = str(server.make_url("/api"))
    for kind in misbehaving:
        seen[kind] = []
        server = await aiohttp_server(_misbehaving(kind, seen[kind]))
        members[kind] = str(server.make_url("/api"))
    if "refused" in misbehaving:
        members["refused"] = "http://127.0.0.1:9/api"
    settings = settings_from(
        {
            "beacon": {
                "id": "org.example.network",
                "name": "Test network",
                "organization": {"id": "org.example", "name": "Example"},
            },
            "fanout": {"deadline_s": DEADLINE_S, "max_response_bytes": 1 << 20, "cache_ttl_s": 0, **fanout},
            "members": [
                {"id": m, "url": url, "timeout_s": 1.0, **({"forward_token": True} if m == "cineca" else {})}
                for m, url in members.items()
            ],
        }
    )
    client = await aiohttp_client(create_aggregator_app(settings))
    return Network(client, members, seen)


MISBEHAVING = ("slow", "refused", "http500", "malformed", "schema-invalid", "endless")


@pytest.fixture
async def network(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path, pi_db: Path, copies_db: Path
) -> Network:
    dbs = {"cineca": cineca_db, "pi": pi_db, "copies": copies_db, "cineca-mirror": cineca_db, "pi-mirror": pi_db}
    return await _network(aiohttp_server, aiohttp_client, dbs, MISBEHAVING)


async def _direct_count(client: TestClient[Any, Any], url: str, path: str) -> int:
    async with client.session.get(url + path, params={"requestedGranularity": "count"}) as resp:
        return int((await resp.json())["responseSummary"]["numTotalResults"])


async def test_partial_results_within_the_deadline_with_each_members_outcome(network: Network) -> None:
    start = time.perf_counter()
    document = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    elapsed = time.perf_counter() - start
    assert elapsed < DEADLINE_S + 0.5
    outcomes = {m["memberId"]: m["outcome"] for m in document["info"]["members"]}
    assert outcomes == {
        "cineca": "ok",
        "pi": "ok",
        "copies": "ok",
        "cineca-mirror": "ok",
        "pi-mirror": "ok",
        "slow": "timeout",
        "refused": "error",
        "http500": "error",
        "malformed": "invalid",
        "schema-invalid": "invalid",
        "endless": "invalid",
    }
    good = ("cineca", "pi", "copies", "cineca-mirror", "pi-mirror")
    expected = sum([await _direct_count(network.client, network.members[m], "/individuals") for m in good])
    assert document["responseSummary"] == {"exists": True, "numTotalResults": expected}
    ids = {rs["id"] for rs in document["response"]["resultSets"]}
    assert f"cineca:{CINECA_ID}" in ids
    assert "copies:copy-a" in ids
    rs = next(r for r in document["response"]["resultSets"] if r["id"] == "copies:copy-a")
    assert rs["info"]["memberId"] == "copies"
    assert rs["info"]["datasetId"] == "copy-a"
    assert rs["info"]["beaconId"] == "org.example.beacon.test"
    messages = {m["memberId"]: m.get("message", "") for m in document["info"]["members"]}
    assert "larger than" in messages["endless"]
    assert "HTTP 500" in messages["http500"]


async def test_a_member_answering_like_the_official_examples_merges(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, ("example",))
    document = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert {m["memberId"]: m["outcome"] for m in document["info"]["members"]} == {"cineca": "ok", "example": "ok"}
    assert document["responseSummary"]["numTotalResults"] == 2504 + 25355
    assert document["meta"]["returnedGranularity"] == "count"


async def test_aggregators_stack(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path, copies_db: Path
) -> None:
    copies = await aiohttp_server(create_app(make_config(f"sqlite:///{copies_db}")))
    inner_settings = settings_from(
        {
            "beacon": {"id": "org.example.inner", "name": "Inner", "organization": {"id": "o", "name": "O"}},
            "fanout": {"deadline_s": DEADLINE_S, "cache_ttl_s": 0},
            "members": [{"id": "copies", "url": str(copies.make_url("/api"))}],
        }
    )
    inner_server = await aiohttp_server(create_aggregator_app(inner_settings))
    direct = await aiohttp_server(create_app(make_config(f"sqlite:///{cineca_db}")))
    settings = settings_from(
        {
            "beacon": {"id": "org.example.outer", "name": "Outer", "organization": {"id": "o", "name": "O"}},
            "fanout": {"deadline_s": DEADLINE_S, "cache_ttl_s": 0},
            "members": [
                {"id": "inner", "url": str(inner_server.make_url("/api"))},
                {"id": "cineca", "url": str(direct.make_url("/api"))},
            ],
        }
    )
    outer = await aiohttp_client(create_aggregator_app(settings))
    document = await fetch(outer, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert document["responseSummary"]["numTotalResults"] == 2 * 2504
    assert {rs["id"] for rs in document["response"]["resultSets"]} == {"inner:copies:copy-a", f"cineca:{CINECA_ID}"}


async def test_results_stream_as_members_answer(network: Network) -> None:
    resp = await network.client.get(
        "/api/individuals", params={"requestedGranularity": "count"}, headers={"Accept": "application/x-ndjson"}
    )
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    *members, final = lines
    assert {m["memberId"] for m in members} == set(network.members)
    # Fast members come first; the slow one arrives last, as a timeout at the deadline.
    assert members[-1]["memberId"] == "slow"
    assert members[-1]["outcome"] == "timeout"
    assert final["merged"]["responseSummary"]["exists"] is True


async def test_a_failing_member_is_skipped_once_its_circuit_opens(network: Network) -> None:
    for _ in range(3):
        await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    document = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    outcome = next(m for m in document["info"]["members"] if m["memberId"] == "http500")
    assert outcome["outcome"] == "skipped"
    assert "circuit open" in outcome["message"]


async def test_the_callers_token_goes_only_where_configured(network: Network, caplog: pytest.LogCaptureFixture) -> None:
    token = "Bearer secret-caller-token"
    resp = await network.client.get("/api/individuals", headers={"Authorization": token})
    assert resp.status == 200
    for headers in network.seen.values():
        assert all("Authorization" not in h for h in headers)
    assert "secret-caller-token" not in caplog.text


async def test_invalid_requests_are_refused_before_any_member_is_asked(network: Network) -> None:
    before = sum(len(v) for v in network.seen.values())
    await fetch(network.client, "GET", "/api/g_variants", params={"start": "abc"}, status=400)
    assert sum(len(v) for v in network.seen.values()) == before


async def test_framework_endpoints_answer_for_the_aggregator_itself(network: Network) -> None:
    for endpoint in ("info", "map", "configuration", "entry_types", "filtering_terms"):
        document = await fetch(network.client, "GET", f"/api/{endpoint}", endpoint=endpoint)
        assert document["meta"]["beaconId"] == "org.example.network"
    terms = await fetch(network.client, "GET", "/api/filtering_terms", endpoint="filtering_terms")
    assert any(t["id"] == "NCIT:C16576" for t in terms["response"]["filteringTerms"])


async def test_metrics_count_outcomes_per_member(network: Network) -> None:
    await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    text = await (await network.client.get("/metrics")).text()
    assert 'beacon_aggregator_member_outcomes_total{member="cineca",outcome="ok"} 1.0' in text
    assert 'beacon_aggregator_member_outcomes_total{member="slow",outcome="timeout"} 1.0' in text
    assert 'beacon_aggregator_member_latency_seconds_count{member="cineca"}' in text


async def test_identical_requests_within_the_ttl_come_from_the_cache(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await _network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, ("example",), cache_ttl_s=60)
    first = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    calls = len(network.seen["example"])
    second = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert len(network.seen["example"]) == calls
    assert first == second
