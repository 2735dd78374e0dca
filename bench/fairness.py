"""Fairness under load: a cheap query's latency while another client runs expensive ones.

    .venv/bin/python bench/fairness.py [--seconds 20] [--heavy 4] [--code CHECKOUT] [--out FILE.json]

`beacon serve` on the CINECA store (built on first use, as bench/throughput.py does). Client A
(127.0.0.1) asks one cheap question at a time (a single-allele g_variants query, then a one-filter
individuals count); client B (127.0.0.2, another
peer address on the loopback) runs --heavy concurrent loops of an anonymous individuals query with
50 alphanumeric filters (`measures.assayCode.label ! x<i>`: each a scan of every individual's
measures, about 1.5 s of store time). Prints and writes client A's p50/p99 alone and under B's
load, and how many heavy queries B got answered (and refused) meanwhile. `--code` runs the server
from another checkout (e.g. the one before a change) with the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import DATASET, DB, ROOT, ensure_store, free_port, wait_for  # noqa: E402

# Client A's cheap questions: the single-allele query (answered inline, on the event loop's connection)
# and a one-filter count (2 ms of store time on a worker thread, where the heavy queries run too).
CHEAP = {
    "one_filter_count": "/api/individuals?filters=NCIT:C16576&requestedGranularity=count",
    "allele": "/api/g_variants?referenceName=22&start=16050074&referenceBases=G&alternateBases=A",
}
HEAVY = {
    "query": {
        "filters": [{"id": "measures.assayCode.label", "operator": "!", "value": f"x{i}"} for i in range(50)],
        "requestedGranularity": "count",
    }
}
CONFIG = """
beacon:
  id: org.example.beacon.fairness
  name: Fairness bench
  base_url: http://127.0.0.1/api
  organization: {{id: org.example, name: Example}}
store:
  uri: sqlite:///{db}
datasets:
  - id: {dataset}
    security: public
    max_granularity: record
    assembly: GRCh37
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else float("nan")


async def cheap_client(base: str, path: str, seconds: float) -> list[float]:
    """Client A: one cheap question at a time; latency of each (seconds)."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=("127.0.0.1", 0))) as session:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(base + path) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)  # ~100 questions/s at most: a client, not a flood
    return latencies


async def heavy_client(base: str, loops: int, stop: asyncio.Event) -> Counter[int]:
    """Client B: `loops` concurrent loops of the heavy query until `stop`; statuses answered."""
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), limit=loops)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def loop() -> None:
            while not stop.is_set():
                async with session.post(base + "/api/individuals", json=HEAVY) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
                    if resp.status == 429:  # a refusal says when to come back: a polite client waits
                        await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))

        await asyncio.gather(*(loop() for _ in range(loops)))
    return statuses


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "n": len(latencies),
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) * 1000,
        "first_ms": [round(x * 1000, 1) for x in latencies[:5]],
    }


async def measure(base: str, seconds: float, heavy: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, path in CHEAP.items():
        result[name] = {"alone": summary(await cheap_client(base, path, seconds / 2))}
    stop = asyncio.Event()
    load = asyncio.create_task(heavy_client(base, heavy, stop))
    await asyncio.sleep(2.0)  # the heavy loops are running
    for name, path in CHEAP.items():
        result[name]["under_load"] = summary(await cheap_client(base, path, seconds))
    stop.set()
    result["heavy_statuses"] = dict(await load)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--heavy", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fairness.json")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose server to run (before/after)")
    args = parser.parse_args()
    ensure_store()
    bin_dir = Path(sys.executable).parent
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "beacon.yaml"
        conf.write_text(CONFIG.format(db=DB, dataset=DATASET))
        keep = ("BEACON_SPEC_DIR", "BEACON_FAST_LANE")
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_") or k in keep}
        env["PYTHONPATH"] = str(args.code)  # that checkout's code, whatever the venv's editable install says
        server = subprocess.Popen(
            [bin_dir / "python", "-m", "beacon", "serve", "--config", conf, "--host", "0.0.0.0", "--port", str(port)],
            env=env,
            cwd=args.code,  # `python -m` puts the working directory first on sys.path
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            result = asyncio.run(measure(f"http://127.0.0.1:{port}", args.seconds, args.heavy))
        finally:
            server.terminate()
            server.wait()
    result["heavy_loops"] = args.heavy
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"server code: {args.code}; client B: {args.heavy} loops of the 50-filter query")
    for name in CHEAP:
        alone, loaded = result[name]["alone"], result[name]["under_load"]
        print(
            f"client A {name:17} alone p50 {alone['p50_ms']:7.1f} ms p99 {alone['p99_ms']:7.1f} ms | "
            f"under load p50 {loaded['p50_ms']:7.1f} ms p99 {loaded['p99_ms']:7.1f} ms ({loaded['n']} queries)"
        )
    print(f"client B's heavy queries by status: {result['heavy_statuses']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
