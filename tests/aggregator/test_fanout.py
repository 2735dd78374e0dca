"""The aggregator against five real beacons of this project and six misbehaving ones, on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from tests.aggregator.loopback import DEADLINE_S, Network, ServerFactory, build_network
from tests.conftest import CINECA_ID, AiohttpClient, fetch, make_config


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
    network = await build_network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, ("example",))
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
    network = await build_network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, ("example",), cache_ttl_s=60)
    first = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    calls = len(network.seen["example"])
    second = await fetch(network.client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert len(network.seen["example"]) == calls
    assert first == second
