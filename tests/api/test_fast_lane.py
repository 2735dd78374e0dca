"""The fast lane answers exactly what the general path answers, and only the requests it fully understands.

Two servers on one store, one with the lane and one without, are asked the same questions about
real stored variants (and near misses) in every spelling the lane takes and several it must leave
to the general path; statuses, bodies and metrics must be equal, and the lane must have answered
exactly the requests it is for (beacon/api/fast_lane.py).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.api.fast_lane import FAST_LANES, RECHECK_S
from beacon.config import Config, DatasetPolicy
from beacon.store.sqlite import SqliteStore
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import CINECA_ID, AiohttpClient, make_config
from tests.spec_check import response_problems

VCF = Path(__file__).resolve().parents[1] / "data" / "vcf" / "multiallelic_indel_needs_trim.vcf"
Request = tuple[str, dict[str, Any]]  # (method, query parameters or body)


def stored_alleles(db: Path, per_dataset: int = 6) -> list[tuple[str, int, str, str]]:
    """Short ACGT alleles stored in each dataset, spread over the dataset."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        datasets = [d for (d,) in conn.execute("SELECT DISTINCT dataset FROM records WHERE coll = 'g_variants'")]
        out = []
        for dataset in datasets:
            rows = conn.execute(
                "SELECT v_chr, v_start, v_ref, v_alt FROM records WHERE coll = 'g_variants' AND dataset = ? "
                "AND v_ref NOT GLOB '*[^ACGT]*' AND v_alt NOT GLOB '*[^ACGT]*' ORDER BY rid",
                (dataset,),
            ).fetchall()
            step = max(1, len(rows) // per_dataset)
            out += [(str(c), int(s), str(r), str(a)) for c, s, r, a in rows[::step][:per_dataset]]
    assert len(out) >= 12, "the fixture store should hold short alleles in several datasets"
    return out


def lane_requests(alleles: list[tuple[str, int, str, str]]) -> list[Request]:
    """Questions the lane takes: hits and misses, GET and POST, every assembly and granularity spelling."""
    assemblies: list[str | None] = [None, "GRCh37", "hg19", "GRCh38"]
    granularities: list[str | None] = [None, "boolean", "count"]
    out: list[Request] = []
    k = 0
    for chrom, start, ref, alt in alleles:
        miss = "C" if alt != "C" else "G"
        for name, allele_alt in ((chrom, alt), (f"chr{chrom}", alt), (chrom, miss)):
            k += 1
            params: dict[str, Any] = {"referenceName": name, "referenceBases": ref, "alternateBases": allele_alt}
            assembly, granularity = assemblies[k % 4], granularities[k % 3]
            if assembly:
                params["assemblyId"] = assembly
            if k % 2:
                query = {**params, "start": str(start)}
                out.append(("GET", query if granularity is None else {**query, "requestedGranularity": granularity}))
            else:
                body: dict[str, Any] = {
                    "query": {"requestParameters": {**params, "start": [start] if k % 4 else start}}
                }
                if granularity:
                    body["query"]["requestedGranularity"] = granularity
                if k % 3 == 0:
                    body["meta"] = {"apiVersion": "v2.0.0"}
                out.append(("POST", body))
    return out


def general_requests(allele: tuple[str, int, str, str]) -> list[Request]:
    """Questions the lane must leave to the general path (other parameters, other spellings, errors)."""
    chrom, start, ref, alt = allele
    base = {"referenceName": chrom, "start": str(start), "referenceBases": ref, "alternateBases": alt}
    return [
        ("GET", {**base, "referenceBases": ref.lower()}),
        ("GET", {**base, "alternateBases": "N"}),
        ("GET", {**base, "referenceName": f"NC_0000{int(chrom):02d}.10"} if chrom.isdigit() else {**base, "x": "1"}),
        ("GET", {**base, "requestedGranularity": "record"}),
        ("GET", {**base, "datasetIds": CINECA_ID}),
        ("GET", {**base, "includeResultsetResponses": "ALL", "requestedGranularity": "count"}),
        ("GET", {**base, "start": f"{start},{start + 5}"}),
        ("GET", {**base, "start": " 12"}),
        ("GET", {**base, "assemblyId": "GRCh99"}),
        ("GET", {**base, "unknownParameter": "1"}),
        ("POST", {"query": {"requestParameters": {**base, "start": [start]}, "filters": [{"id": "NCIT:C16576"}]}}),
        ("POST", {"query": {"requestParameters": {**base, "start": [True]}}}),
        ("POST", {"meta": {"apiVersion": "v2.0"}, "query": {"requestParameters": {**base, "start": [start]}}}),
    ]


async def ask(client: TestClient[Any, Any], request: Request) -> tuple[int, dict[str, Any]]:
    method, params = request
    if method == "GET":
        resp = await client.get("/api/g_variants", params=params)
    else:
        resp = await client.post("/api/g_variants", json=params)
    assert resp.content_type == "application/json"
    assert resp.headers.get("X-Request-Id")
    return resp.status, await resp.json()


async def servers(aiohttp_client: AiohttpClient, config: Config) -> tuple[TestClient[Any, Any], TestClient[Any, Any]]:
    on = await aiohttp_client(create_app(config))
    off = await aiohttp_client(create_app(replace(config, server=replace(config.server, fast_lane=False))))
    assert FAST_LANES in on.app
    assert FAST_LANES not in off.app
    return on, off


async def _load_vcf(db: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    try:
        await load_vcf([VCF], VcfOptions("added", "GRCh37"), store)
    finally:
        await store.close()


def metric_samples(text: str, family: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(family)
    }


@pytest.fixture
def alleles(pi_db: Path) -> list[tuple[str, int, str, str]]:
    return stored_alleles(pi_db)


@pytest.fixture
def config(pi_db: Path) -> Config:
    # A count floor on one dataset: the lane must disclose counts exactly as the general path does.
    return make_config(f"sqlite:///{pi_db}", DatasetPolicy("test2", count_floor=5))


async def test_the_lane_answers_what_the_general_path_answers(
    aiohttp_client: AiohttpClient, config: Config, alleles: list[tuple[str, int, str, str]]
) -> None:
    on, off = await servers(aiohttp_client, config)
    taken = lane_requests(alleles)
    left = [r for a in alleles[:3] for r in general_requests(a)]
    hits = 0
    for request in taken + left:
        status, document = await ask(on, request)
        assert (status, document) == await ask(off, request), request
        hits += status == 200 and document["responseSummary"]["exists"]
    assert on.app[FAST_LANES].answered == len(taken)
    assert hits >= len(alleles)  # the stored alleles were found (under the right assembly)
    for request in taken[:24]:
        status, document = await ask(on, request)
        assert status == 200
        assert await asyncio.to_thread(response_problems, document, None) == []
    for family in ("beacon_queries_total", "beacon_requests_total"):
        on_text, off_text = await (await on.get("/metrics")).text(), await (await off.get("/metrics")).text()
        ours, general = metric_samples(on_text, family), metric_samples(off_text, family)
        # The lane app was asked the 24 validation requests again (and /metrics once more).
        assert sum(ours.values()) > sum(general.values()), family
    queries = metric_samples(await (await on.get("/metrics")).text(), "beacon_queries_total")
    lane_kind = (
        'beacon_queries_total{entry_type="genomicVariant",filtered="false",granularity="count",query_type="sequence"}'
    )
    assert queries.get(lane_kind, 0) > 0


async def test_lane_metrics_equal_the_general_paths(
    aiohttp_client: AiohttpClient, config: Config, alleles: list[tuple[str, int, str, str]]
) -> None:
    on, off = await servers(aiohttp_client, config)
    for request in lane_requests(alleles[::3]):
        await ask(on, request)
        await ask(off, request)
    for family in ("beacon_queries_total", "beacon_requests_total", "beacon_request_duration_seconds_count"):
        on_text, off_text = await (await on.get("/metrics")).text(), await (await off.get("/metrics")).text()
        assert metric_samples(on_text, family) == metric_samples(off_text, family), family


async def test_the_lane_sees_a_new_load_within_its_recheck_interval(
    aiohttp_client: AiohttpClient, tmp_path: Path, pi_db: Path
) -> None:
    db = tmp_path / "beacon.db"
    await asyncio.to_thread(shutil.copy, pi_db, db)
    on, off = await servers(aiohttp_client, make_config(f"sqlite:///{db}"))
    # 1:66381 TATATA>AATATA of the fixture VCF, trimmed to T>A (0-based start 66380).
    request: Request = ("GET", {"referenceName": "1", "start": "66380", "referenceBases": "T",
                                "alternateBases": "A", "requestedGranularity": "count"})  # fmt: skip
    _, before = await ask(on, request)
    assert before["responseSummary"] == {"exists": False, "numTotalResults": 0}
    # Loaded by another connection on another thread, as `beacon-ingest` would from another process.
    await asyncio.to_thread(asyncio.run, _load_vcf(db))
    await asyncio.sleep(2 * RECHECK_S)  # the lane notices a commit within RECHECK_S
    _, after = await ask(on, request)
    assert after == (await ask(off, request))[1]
    assert {s["id"]: s["resultsCount"] for s in after["response"]["resultSets"]} == {"added": 1}
    assert on.app[FAST_LANES].answered == 2


async def test_the_lane_keeps_the_rate_limit_and_leaves_tokens_to_the_general_path(
    aiohttp_client: AiohttpClient, config: Config, alleles: list[tuple[str, int, str, str]]
) -> None:
    limited = replace(config, security=replace(config.security, rate_per_s=0.001, rate_burst=2))
    on = await aiohttp_client(create_app(limited))
    request = lane_requests(alleles)[0]
    statuses = [(await ask(on, request))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert on.app[FAST_LANES].answered == 2
    fresh = await aiohttp_client(create_app(config))
    method, params = next(r for r in lane_requests(alleles) if r[0] == "GET")
    resp = await fresh.get("/api/g_variants", params=params, headers={"Authorization": "Bearer not-a-token"})
    assert resp.status == 401
    assert fresh.app[FAST_LANES].answered == 0


async def test_lane_answers_are_audited_like_the_general_paths(
    aiohttp_client: AiohttpClient, config: Config, alleles: list[tuple[str, int, str, str]], tmp_path: Path
) -> None:
    logs = {}
    for lane in (True, False):
        path = tmp_path / f"audit-{lane}.jsonl"
        audited = replace(
            config,
            security=replace(config.security, audit_log=path),
            server=replace(config.server, fast_lane=lane),
        )
        client = await aiohttp_client(create_app(audited))
        for request in lane_requests(alleles[::6]):
            await ask(client, request)
        await client.close()
        lines = [json.loads(line) for line in (await asyncio.to_thread(path.read_text)).splitlines()]
        logs[lane] = [{k: v for k, v in line.items() if k not in ("time", "request_id")} for line in lines]
    assert logs[True] == logs[False]
    assert len(logs[True]) == len(lane_requests(alleles[::6]))
