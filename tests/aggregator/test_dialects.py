"""A member speaking another implementation's dialect is merged, its deviations reported, its circuit kept closed."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from beacon.aggregator.dialects import read
from tests.aggregator.gdi_node import AC, AN, DATASET, DEMO, gdi_node_app
from tests.aggregator.loopback import Network, ServerFactory, build_network
from tests.conftest import AiohttpClient, fetch

PORTAL_REQUEST = {
    "meta": {"apiVersion": "2.0"},
    "query": {
        "requestParameters": {**DEMO, "start": [int(DEMO["start"])]},
        "requestedGranularity": "record",
    },
}


async def _network(server: ServerFactory, client: AiohttpClient, asked: list[dict[str, Any]], **kw: Any) -> Network:
    return await build_network(server, client, {}, (), forward=(), apps={"gdi-node": gdi_node_app(asked)}, **kw)


async def test_the_demo_variant_from_a_member_in_the_reference_nodes_dialect_is_merged(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    asked: list[dict[str, Any]] = []
    network = await _network(aiohttp_server, aiohttp_client, asked)
    document = await fetch(network.client, "POST", "/api/g_variants", body=PORTAL_REQUEST)
    assert asked, "the member was asked"
    assert document["responseSummary"] == {"exists": True, "numTotalResults": 1}
    (result_set,) = document["response"]["resultSets"]
    assert result_set["id"] == f"gdi-node:{DATASET}"
    (record,) = result_set["results"]
    (source,) = record["frequencyInPopulations"]
    assert "populations" not in source, "converted to the specification's key"
    (nl,) = source["frequencies"]
    assert (nl["population"], nl["alleleCount"], nl["alleleNumber"]) == ("NL", AC, AN)
    assert abs(nl["alleleFrequency"] - AC / AN) < 1e-12
    (member,) = document["info"]["members"]
    assert member["outcome"] == "ok"
    warnings = member["warnings"]
    assert any("populations" in w and "converted" in w for w in warnings), warnings
    assert any("receivedRequestSummary" in w and "requestParameters" in w for w in warnings), warnings
    assert document["info"]["warnings"] == [f"member gdi-node: {w}" for w in warnings]


async def test_the_start_sent_as_a_string_like_the_reference_nodes_test_script_is_accepted(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    asked: list[dict[str, Any]] = []
    network = await _network(aiohttp_server, aiohttp_client, asked)
    body = {"query": {"requestParameters": DEMO, "requestedGranularity": "record"}}
    document = await fetch(network.client, "POST", "/api/g_variants", body=body)
    assert document["responseSummary"]["exists"] is True
    assert asked[-1]["query"]["requestParameters"]["start"] == "45864731", "the member gets the request as sent"


async def test_deviating_but_usable_answers_never_open_the_members_circuit(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    network = await _network(aiohttp_server, aiohttp_client, [], breaker_failures=2)
    for _ in range(5):
        document = await fetch(network.client, "POST", "/api/g_variants", body=PORTAL_REQUEST)
        assert document["info"]["members"][0]["outcome"] == "ok"
    health = await (await network.client.get("/health")).json()
    assert health["members"]["gdi-node"] == {"healthy": True, "circuit": "closed"}
    metrics = await (await network.client.get("/metrics")).text()
    assert 'beacon_aggregator_member_deviating_answers_total{member="gdi-node"} 5.0' in metrics
    assert 'beacon_aggregator_member_outcomes_total{member="gdi-node",outcome="ok"} 5.0' in metrics


def _unusable_app() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/map"):
            return web.json_response({"response": {"endpointSets": {}}})
        return web.json_response({"responseSummary": {"exists": True, "numTotalResults": -3}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def test_an_answer_the_merge_cannot_read_is_still_invalid_and_counts_against_the_member(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    network = await build_network(
        aiohttp_server, aiohttp_client, {}, (), forward=(), apps={"negative": _unusable_app()}, breaker_failures=2
    )
    outcomes = []
    for _ in range(3):
        document = await fetch(network.client, "POST", "/api/g_variants", body=PORTAL_REQUEST)
        outcomes.append(document["info"]["members"][0])
        assert document["responseSummary"] == {"exists": False, "numTotalResults": 0}, "nothing of it is merged"
    assert [o["outcome"] for o in outcomes] == ["invalid", "invalid", "skipped"]
    assert "numTotalResults is not a non-negative integer" in outcomes[0]["message"]


def _every_dataset_app() -> web.Application:
    """A member that lists every dataset, found or not, whatever includeResultsetResponses asks."""

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/map"):
            return web.json_response({"response": {"endpointSets": {}}})
        sets = [
            {"id": "found", "setType": "dataset", "exists": True, "resultsCount": 3, "results": []},
            {"id": "empty", "setType": "dataset", "exists": False, "resultsCount": 0, "results": []},
        ]
        meta = {"beaconId": "every", "apiVersion": "v2.0.0", "returnedGranularity": "count"}
        summary = {"exists": True, "numTotalResults": 3}
        return web.json_response({"meta": meta, "responseSummary": summary, "response": {"resultSets": sets}})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@pytest.mark.parametrize(
    ("include", "kept"), [("HIT", ["every:found"]), ("MISS", ["every:empty"]), ("ALL", ["every:found", "every:empty"])]
)
async def test_result_sets_are_kept_as_the_request_asks_whatever_the_member_sent(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, include: str, kept: list[str]
) -> None:
    network = await build_network(
        aiohttp_server, aiohttp_client, {}, (), forward=(), apps={"every": _every_dataset_app()}
    )
    query = {"requestedGranularity": "count", "includeResultsetResponses": include}
    document = await fetch(network.client, "POST", "/api/individuals", body={"query": query})
    assert [rs["id"] for rs in document["response"]["resultSets"]] == kept


def _summary(**kw: Any) -> dict[str, Any]:
    return {"meta": {"beaconId": "x"}, "responseSummary": {"exists": True, "numTotalResults": 1, **kw}}


def test_usable_answers_and_unusable_ones_are_told_apart() -> None:
    assert read(_summary()).problem is None
    assert read(_summary(exists="yes")).problem == "responseSummary.exists is not a boolean"
    assert read([1]).problem == "not a JSON object"
    bad_sets: list[Any] = [[1], [{"id": 3}], [{"id": "d", "resultsCount": True}], [{"id": "d", "results": [1]}]]
    for sets in bad_sets:
        assert read({**_summary(), "response": {"resultSets": sets}}).problem is not None, sets
    many = {**_summary(), "response": {"resultSets": [{"id": "d", "exists": True, "results": [{}] * 50}]}}
    reading = read(many, "genomicVariations/defaultSchema.json")
    assert reading.problem is None
    assert 0 < len(reading.warnings) <= 10, "warnings are bounded whatever a member sends"
    assert any("record resultSets[0].results[0]" in w for w in reading.warnings)
