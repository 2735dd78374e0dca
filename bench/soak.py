"""Soak: mixed queries at concurrency 64 for a bounded time against `beacon serve` on the CINECA store.

    .venv/bin/python bench/soak.py [--seconds 600] [--concurrency 64] [--rss-growth-mb 64]

Fails (exit 1) on any non-2xx answer other than the deliberate 400/404 cases, on any 5xx, or when the
server's resident memory grows by more than --rss-growth-mb between the end of the first minute
(caches warm) and the end of the run. Reports requests, errors, RSS and p50/p99 latency for the
first and the last minute. The server also gets a SIGTERM at the end and must exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import DB, ensure_store, free_port, wait_for  # noqa: E402

CONFIG = Path(__file__).resolve().parent / "beacon.yaml"

# (method, path, body or None, expected status)
MIX: list[tuple[str, str, object, int]] = [
    ("GET", "/api/info", None, 200),
    ("GET", "/api/g_variants?referenceName=22&start=16050074&alternateBases=A&requestedGranularity=count", None, 200),
    ("GET", "/api/g_variants?referenceName=22&start=16060000&end=16070000&requestedGranularity=count", None, 200),
    ("GET", "/api/g_variants/chr22_16050075_A_G?requestedGranularity=record", None, 200),
    ("GET", "/api/individuals?filters=NCIT:C16576&requestedGranularity=count", None, 200),
    ("GET", "/api/individuals?requestedGranularity=record&limit=5", None, 200),
    ("GET", "/api/individuals/HG03771/g_variants?requestedGranularity=count", None, 200),
    ("GET", "/api/filtering_terms", None, 200),
    ("POST", "/api/individuals", {"query": {"filters": [{"id": "NCIT:C20197"}], "requestedGranularity": "count"}}, 200),
    (
        "POST",
        "/api/g_variants",
        {
            "query": {
                "requestParameters": {"referenceName": "22", "start": [16050074], "end": [16060000]},
                "requestedGranularity": "count",
            }
        },
        200,
    ),  # fmt: skip
    ("GET", "/api/g_variants?referenceName=22&start=abc", None, 400),
    ("GET", "/api/individuals/no-such-person", None, 404),
    ("GET", "/api/no_such_entry", None, 404),
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000 if ordered else float("nan")


async def soak(base: str, pid: int, seconds: float, concurrency: int) -> dict[str, object]:
    rng = random.Random(11)
    start = time.monotonic()
    deadline = start + seconds
    window = min(60.0, seconds / 3)
    first: list[float] = []
    last: list[float] = []
    sent = unexpected = server_errors = 0
    samples: list[tuple[float, float]] = []
    surprises: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal sent, unexpected, server_errors
            while time.monotonic() < deadline:
                method, path, body, expected = rng.choice(MIX)
                t = time.monotonic()
                async with session.request(method, base + path, json=body) as resp:
                    await resp.read()
                    status = resp.status
                now = time.monotonic()
                sent += 1
                server_errors += status >= 500
                if status != expected:
                    unexpected += 1
                    surprises[f"{method} {path} -> {status}"] = surprises.get(f"{method} {path} -> {status}", 0) + 1
                if now - start < window:
                    first.append(now - t)
                elif deadline - now < window:
                    last.append(now - t)

        async def sampler() -> None:
            while time.monotonic() < deadline:
                samples.append((time.monotonic() - start, rss_mb(pid)))
                await asyncio.sleep(5)

        await asyncio.gather(sampler(), *(worker() for _ in range(concurrency)))
    warm = [m for t, m in samples if t >= window] or [samples[-1][1]]
    return {
        "seconds": seconds,
        "concurrency": concurrency,
        "requests": sent,
        "requests_per_s": round(sent / seconds),
        "unexpected_status": unexpected,
        "unexpected_by_request": surprises,
        "5xx": server_errors,
        "rss_mb_start": round(samples[0][1], 1),
        "rss_mb_after_warmup": round(warm[0], 1),
        "rss_mb_end": round(rss_mb(pid), 1),
        "p50_ms_first_window": round(percentile(first, 0.50), 2),
        "p99_ms_first_window": round(percentile(first, 0.99), 2),
        "p50_ms_last_window": round(percentile(last, 0.50), 2),
        "p99_ms_last_window": round(percentile(last, 0.99), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rss-growth-mb", type=float, default=64.0)
    args = parser.parse_args()
    ensure_store()
    port = free_port()
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [bin_dir / "beacon", "serve", "--config", str(CONFIG), "--port", str(port), "--store", f"sqlite:///{DB}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        summary = asyncio.run(soak(f"http://127.0.0.1:{port}", server.pid, args.seconds, args.concurrency))
    finally:
        server.send_signal(signal.SIGTERM)
        exit_code = server.wait(timeout=60)
    growth = float(summary["rss_mb_end"]) - float(summary["rss_mb_after_warmup"])  # type: ignore[arg-type]
    summary["rss_growth_mb"] = round(growth, 1)
    summary["rss_growth_bound_mb"] = args.rss_growth_mb
    summary["server_exit_code_after_sigterm"] = exit_code
    print(json.dumps(summary, indent=1))
    Path("bench/results").mkdir(parents=True, exist_ok=True)
    Path("bench/results/soak.json").write_text(json.dumps(summary, indent=1) + "\n")
    ok = summary["5xx"] == 0 and summary["unexpected_status"] == 0 and growth <= args.rss_growth_mb and exit_code == 0
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
