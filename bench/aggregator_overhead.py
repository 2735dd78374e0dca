"""Aggregator overhead over the slowest of 20 members, measured side by side in one run.

Twenty member beacons run in one subprocess, each answering a schema-valid count response after
its own fixed delay (the slowest takes --slowest-ms). The aggregator runs in a second subprocess
and this process is the client. Per round, the same g_variants query goes once straight to the
slowest member (the ceiling: no aggregator can answer before its slowest member) and once through
the aggregator; overhead = median(aggregator) - median(slowest member). Target: <= 5 ms.

    .venv/bin/python bench/aggregator_overhead.py [--members 20] [--rounds 300] [--slowest-ms 20] [--summary FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import free_port, wait_for  # noqa: E402

QUERY = "/g_variants?assemblyId=GRCh38&referenceName=13&start=32340299&referenceBases=GT&alternateBases=G"
RESULTS = ROOT / "bench" / "results"


def canned(member: int) -> dict[str, object]:
    """What a member of this project answers to a count query on one dataset."""
    return {
        "meta": {
            "beaconId": f"org.bench.member{member}",
            "apiVersion": "v2.0.0",
            "returnedSchemas": [{"entityType": "genomicVariation", "schema": "beacon-g_variant-v2.0.0"}],
            "returnedGranularity": "count",
            "receivedRequestSummary": {
                "apiVersion": "v2.0.0",
                "requestedSchemas": [{"entityType": "genomicVariation", "schema": "beacon-g_variant-v2.0.0"}],
                "pagination": {"skip": 0, "limit": 10},
                "requestedGranularity": "count",
            },
        },
        "responseSummary": {"exists": True, "numTotalResults": member + 1},
        "response": {
            "resultSets": [
                {
                    "id": f"dataset{member}",
                    "setType": "dataset",
                    "exists": True,
                    "resultsCount": member + 1,
                    "results": [],
                }
            ]
        },
    }


def member_app(member: int, delay_s: float) -> web.Application:
    body = json.dumps(canned(member)).encode()
    endpoint_sets = {"genomicVariant": {"entryType": "genomicVariant", "rootUrl": "http://x/api/g_variants"}}
    map_body = json.dumps(
        {"meta": {"beaconId": f"org.bench.member{member}"}, "response": {"endpointSets": endpoint_sets}}
    )

    async def entries(request: web.Request) -> web.Response:
        await asyncio.sleep(delay_s)
        return web.Response(body=body, content_type="application/json")

    async def beacon_map(request: web.Request) -> web.Response:
        return web.Response(text=map_body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/map", beacon_map)
    app.router.add_get("/api/g_variants", entries)
    return app


async def serve_members(ports: list[int], slowest_ms: float) -> None:
    runners = []
    for n, port in enumerate(ports):
        # Delays spread evenly up to the slowest, which is the last member.
        runner = web.AppRunner(member_app(n, slowest_ms * (n + 1) / len(ports) / 1000))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    await asyncio.Event().wait()


async def timed(session: aiohttp.ClientSession, url: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    async with session.get(url) as resp:
        document = await resp.json()
        if resp.status != 200:
            raise SystemExit(f"{url}: HTTP {resp.status}: {document}")
    return (time.perf_counter() - started) * 1000, document


async def measure(aggregator: str, slowest: str, rounds: int, members: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"slowest member": [], "aggregator": []}
    async with aiohttp.ClientSession() as session:
        for n in range(rounds + 20):  # the first 20 rounds warm up connections and caches
            direct, _ = await timed(session, slowest + QUERY)
            through, document = await timed(session, aggregator + QUERY)
            outcomes = document["info"]["members"]  # type: ignore[index]
            ok = sum(1 for o in outcomes if o["outcome"] == "ok")
            if ok != members:
                raise SystemExit(f"round {n}: only {ok} of {members} members ok: {outcomes}")
            if n >= 20:
                times["slowest member"].append(direct)
                times["aggregator"].append(through)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--slowest-ms", type=float, default=20.0)
    parser.add_argument("--summary", type=Path, default=RESULTS / "summary.json", help="summary file to merge into")
    parser.add_argument("--serve-members", help=argparse.SUPPRESS)  # internal: comma-separated ports
    args = parser.parse_args()
    if args.serve_members:
        asyncio.run(serve_members([int(p) for p in args.serve_members.split(",")], args.slowest_ms))
        return 0

    ports = [free_port() for _ in range(args.members)]
    agg_port = free_port()
    conf = {
        "beacon": {
            "id": "org.bench.network",
            "name": "bench network",
            "base_url": f"http://127.0.0.1:{agg_port}/api",
            "organization": {"id": "org.bench", "name": "bench"},
        },
        "server": {"host": "127.0.0.1", "port": agg_port},
        "fanout": {"deadline_s": 10, "cache_ttl_s": 0},  # every round fans out,
        "members": [{"id": f"m{n}", "url": f"http://127.0.0.1:{p}/api", "timeout_s": 5} for n, p in enumerate(ports)],
    }
    with tempfile.TemporaryDirectory() as tmp:
        conf_path = Path(tmp) / "aggregator.yaml"
        conf_path.write_text(yaml.safe_dump(conf))
        members = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve-members",
                ",".join(map(str, ports)),
                "--slowest-ms",
                str(args.slowest_ms),
            ]
        )
        aggregator = None
        try:
            for port in ports:
                wait_for(port)
            beacon = Path(sys.executable).parent / "beacon"
            aggregator = subprocess.Popen(
                [str(beacon), "aggregate", "--config", str(conf_path)], stderr=subprocess.DEVNULL
            )
            wait_for(agg_port)
            times = asyncio.run(
                measure(
                    f"http://127.0.0.1:{agg_port}/api", f"http://127.0.0.1:{ports[-1]}/api", args.rounds, args.members
                )
            )
        finally:
            for proc in (aggregator, members):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=10)
    print(f"{args.members} members, slowest answers after {args.slowest_ms:g} ms, {args.rounds} rounds")
    print(f"{'':18}{'min':>9}{'median':>9}{'p90':>9}{'max':>9}  (ms)")
    for name, values in times.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(
            f"{name:18}{min(values):9.2f}{statistics.median(values):9.2f}{p90:9.2f}{max(values):9.2f}",
        )
    ours, ceiling = statistics.median(times["aggregator"]), statistics.median(times["slowest member"])
    overhead = ours - ceiling
    print(f"overhead (median aggregator - median slowest member): {overhead:.2f} ms (target <= 5 ms)")
    summary_path = args.summary
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    summary["aggregator overhead over slowest of 20 members"] = {
        "ours": round(ours, 3),
        "ceiling": round(ceiling, 3),
        "ratio": round(ceiling / ours, 3),
        "overhead": round(overhead, 3),
        "unit": "ms median latency",
    }
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if overhead <= 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
