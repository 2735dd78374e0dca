"""HTTP throughput per query type, reported as a ratio to /api/info measured in the same run.

Starts `beacon serve` in a subprocess on a CINECA store (built on first use) and drives it with
one aiohttp session at a fixed concurrency. Machines are noisy: compare ratios, not raw rates.

    .venv/bin/python bench/throughput.py [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "cineca"
DB = ROOT / "var" / "bench-cineca.db"
DATASET = "CINECA_synthetic_cohort_EUROPE_UK1"

SCENARIOS = {
    "baseline /api/info (no store)": "/api/info",
    "variant by id (point lookup)": "/api/g_variants/chr22_16050075_A_G?requestedGranularity=record",
    "sequence query, count": "/api/g_variants?referenceName=22&start=16050074&alternateBases=A"
    "&requestedGranularity=count",
    "range query 10 kb, count": "/api/g_variants?referenceName=22&start=16060000&end=16070000"
    "&requestedGranularity=count",
    "individuals by sex, count": "/api/individuals?filters=NCIT:C16576&requestedGranularity=count",
    "individuals page of 10 records": "/api/individuals?requestedGranularity=record",
    "variants of one individual, count": "/api/individuals/HG03771/g_variants?requestedGranularity=count",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def drive(base: str, path: str, seconds: float, concurrency: int) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) for one path."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                async with session.get(base + path) as resp:
                    await resp.read()
                    assert resp.status == 200, (path, resp.status)
                latencies.append(time.perf_counter() - t)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] * 1000


def ensure_store() -> None:
    """Build the CINECA store on first use."""
    if DB.exists():
        return
    bin_dir = Path(sys.executable).parent
    argv = [
        bin_dir / "beacon-ingest",
        "bff",
        DATA,
        "--dataset",
        DATASET,
        "--assembly",
        "GRCh37",
        "--store",
        f"sqlite:///{DB}",
    ]
    subprocess.run(argv, check=True)


def wait_for(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    ensure_store()
    port = free_port()
    env = {**os.environ, "BEACON_STORE": f"sqlite:///{DB}"}
    server = subprocess.Popen(
        [bin_dir / "beacon", "serve", "--config", str(ROOT / "bench" / "beacon.yaml"), "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(port)
        asyncio.run(drive(base, "/api/info", 1.0, args.concurrency))  # warm-up
        results = {
            name: asyncio.run(drive(base, path, args.seconds, args.concurrency)) for name, path in SCENARIOS.items()
        }
    finally:
        server.terminate()
        server.wait()
    baseline = next(iter(results.values()))[0]
    print(f"concurrency {args.concurrency}, {args.seconds:.0f} s per scenario, CINECA store ({DB.name})")
    print(f"{'scenario':40} {'req/s':>9} {'vs baseline':>12} {'p99 ms':>8}")
    for name, (rate, p99) in results.items():
        print(f"{name:40} {rate:9.0f} {rate / baseline:11.2f}x {p99:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
