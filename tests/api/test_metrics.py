"""`/metrics` on a real server and store: route templates, status classes, latency, query kinds, store timing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from beacon.config import Config
from tests.conftest import AiohttpClient, fetch, make_config

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
RAW_ID = "HG00097"
ABSENT_ID = "NO_SUCH_INDIVIDUAL_4711"


def parse(text: str) -> Samples:
    """Every sample of an exposition, by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests(endpoint: str, method: str, status_class: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {"endpoint": endpoint, "method": method, "status_class": status_class}
    return ("beacon_requests_total", tuple(sorted(labels.items())))


def labelled(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return (name, tuple(sorted(labels.items())))


async def scrape(client: TestClient[Any, Any]) -> tuple[str, Samples]:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    text = await resp.text()
    return text, parse(text)


async def test_requests_are_counted_by_route_template_and_status_class_never_by_raw_path(
    aiohttp_client: AiohttpClient, cineca_config: Config
) -> None:
    client = await aiohttp_client(create_app(cineca_config))
    await fetch(client, "GET", f"/api/individuals/{RAW_ID}")
    await fetch(client, "POST", f"/api/individuals/{RAW_ID}")
    await fetch(client, "GET", f"/api/individuals/{ABSENT_ID}", status=404)
    await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "count", "skip": "0"})
    assert (await client.get("/api/nowhere/secret-path-segment")).status == 404
    assert (await client.request("PROPFIND", "/api/info")).status == 405

    text, samples = await scrape(client)
    assert samples[requests("/api/individuals/{id}", "GET", "2xx")] == 1
    assert samples[requests("/api/individuals/{id}", "POST", "2xx")] == 1
    assert samples[requests("/api/individuals/{id}", "GET", "4xx")] == 1
    assert samples[requests("/api/individuals", "GET", "2xx")] == 1
    assert samples[requests("unmatched", "GET", "4xx")] == 1
    assert samples[requests("unmatched", "other", "4xx")] == 1
    assert samples[labelled("beacon_request_duration_seconds_count", endpoint="/api/individuals/{id}")] == 3
    assert samples[labelled("beacon_request_duration_seconds_count", endpoint="/api/individuals")] == 1
    assert samples[labelled("beacon_request_duration_seconds_bucket", endpoint="/api/individuals", le="+Inf")] == 1
    # The scrape is counted once it has been answered.
    assert requests("/metrics", "GET", "2xx") not in samples
    for raw in (RAW_ID, ABSENT_ID, "nowhere", "secret-path-segment", "PROPFIND", "requestedGranularity", "skip"):
        assert raw not in text
    endpoints = {dict(labels)["endpoint"] for name, labels in samples if name == "beacon_requests_total"}
    assert endpoints == {"/api/individuals/{id}", "/api/individuals", "unmatched"}

    _, samples = await scrape(client)
    assert samples[requests("/metrics", "GET", "2xx")] == 1


async def test_queries_are_counted_by_entry_type_query_type_filters_and_granularity(
    aiohttp_client: AiohttpClient, cineca_config: Config
) -> None:
    client = await aiohttp_client(create_app(cineca_config))
    count = {"requestedGranularity": "count"}
    chrom22 = {"referenceName": "22", **count}
    await fetch(client, "GET", "/api/g_variants", params={"start": "16050074", "alternateBases": "A", **chrom22})
    await fetch(client, "GET", "/api/g_variants", params={"start": "16050074", "variantType": "SNP", **chrom22})
    await fetch(client, "GET", "/api/g_variants", params={"start": "16050000", "end": "16060000", **chrom22})
    bracket = {"referenceName": "22", "start": [16050000, 16050100], "end": [16050075, 16060000]}
    body = {"query": {"requestParameters": bracket, "requestedGranularity": "record"}}
    await fetch(client, "POST", "/api/g_variants", body=body)
    await fetch(client, "GET", "/api/g_variants", params={"genomicAlleleShortForm": "NC_000022.10:g.16050075G>A"})
    await fetch(client, "GET", "/api/individuals", params={"filters": "NCIT:C16576"})
    await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "record", "limit": "1"})
    await fetch(client, "GET", "/api/info", endpoint="info")  # not a query

    _, samples = await scrape(client)
    queries = {labels: value for (name, labels), value in samples.items() if name == "beacon_queries_total"}
    assert queries == {
        labelled("", entry_type="genomicVariant", query_type="sequence", filtered="false", granularity="count")[1]: 2,
        labelled("", entry_type="genomicVariant", query_type="range", filtered="false", granularity="count")[1]: 1,
        labelled("", entry_type="genomicVariant", query_type="bracket", filtered="false", granularity="record")[1]: 1,
        labelled(
            "",
            entry_type="genomicVariant",
            query_type="genomicAlleleShortForm",
            filtered="false",
            granularity="boolean",
        )[1]: 1,
        labelled("", entry_type="individual", query_type="none", filtered="true", granularity="boolean")[1]: 1,
        labelled("", entry_type="individual", query_type="none", filtered="false", granularity="record")[1]: 1,
    }


async def test_store_calls_are_timed_by_operation(aiohttp_client: AiohttpClient, cineca_config: Config) -> None:
    client = await aiohttp_client(create_app(cineca_config))
    await fetch(client, "GET", f"/api/individuals/{RAW_ID}", params={"requestedGranularity": "record"})

    _, samples = await scrape(client)
    timed = {
        dict(labels)["operation"]: value
        for (name, labels), value in samples.items()
        if name == "beacon_store_operation_duration_seconds_count"
    }
    assert timed == {"datasets": 1, "record_datasets": 1, "count_by_dataset": 1, "find": 1}
    assert samples[labelled("beacon_store_operation_duration_seconds_sum", operation="find")] > 0
    assert not [name for name, _ in samples if name == "beacon_store_operation_errors_total"]
    assert samples[labelled("beacon_store_up", backend="sqlite")] == 1


async def test_an_unavailable_store_shows_as_down_with_failed_calls_and_5xx(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "mnt"
    await asyncio.to_thread(not_a_folder.write_text, "the volume is not mounted")
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{not_a_folder / 'beacon.db'}")))
    await fetch(client, "GET", "/api/individuals", status=503)

    _, samples = await scrape(client)
    assert samples[labelled("beacon_store_up", backend="sqlite")] == 0
    assert samples[labelled("beacon_store_operation_errors_total", operation="datasets")] == 1
    assert samples[labelled("beacon_store_operation_duration_seconds_count", operation="datasets")] == 1
    assert samples[requests("/api/individuals", "GET", "5xx")] == 1


async def test_two_apps_in_one_process_count_in_their_own_registries(
    aiohttp_client: AiohttpClient, cineca_config: Config
) -> None:
    first = await aiohttp_client(create_app(cineca_config))
    second = await aiohttp_client(create_app(cineca_config))
    await fetch(first, "GET", "/api/info", endpoint="info")
    await fetch(first, "GET", "/api/info", endpoint="info")
    await fetch(second, "GET", "/api/map", endpoint="map")

    _, one = await scrape(first)
    _, two = await scrape(second)
    assert one[requests("/api/info", "GET", "2xx")] == 2
    assert requests("/api/map", "GET", "2xx") not in one
    assert two[requests("/api/map", "GET", "2xx")] == 1
    assert requests("/api/info", "GET", "2xx") not in two
    # The process-wide default registry holds none of it (collecting it reads /proc: off the loop).
    global_names = await asyncio.to_thread(lambda: {m.name for m in REGISTRY.collect()})
    assert not {n for n in global_names if n.startswith("beacon_")}


async def test_the_aggregator_counts_its_requests_beside_its_member_metrics(
    aiohttp_client: AiohttpClient, cineca_config: Config
) -> None:
    member = TestServer(create_app(cineca_config))
    await member.start_server()
    try:
        settings = settings_from(
            {
                "beacon": {
                    "id": "org.example.network",
                    "name": "Test network",
                    "organization": {"id": "org.example", "name": "Example"},
                },
                "fanout": {"cache_ttl_s": 0},
                "members": [{"id": "cineca", "url": str(member.make_url("/api")), "timeout_s": 5.0}],
            }
        )
        client = await aiohttp_client(create_aggregator_app(settings))
        await fetch(client, "GET", f"/api/individuals/{RAW_ID}", params={"requestedGranularity": "count"})
        assert (await client.get(f"/api/unknown/{RAW_ID}")).status == 404

        text, samples = await scrape(client)
    finally:
        await member.close()
    assert samples[requests("/api/individuals/{id}", "GET", "2xx")] == 1
    assert samples[requests("unmatched", "GET", "4xx")] == 1
    assert samples[labelled("beacon_request_duration_seconds_count", endpoint="/api/individuals/{id}")] == 1
    query = labelled(
        "beacon_queries_total", entry_type="individual", query_type="none", filtered="false", granularity="count"
    )
    assert samples[query] == 1
    assert samples[labelled("beacon_aggregator_member_outcomes_total", member="cineca", outcome="ok")] == 1
    assert RAW_ID not in text
