"""What the bench asks and how: request lists built from the stores, interleaved windows, answer checks."""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import loadgen
import stores

RANGE_BP = 10_000_000


def sample_variants(store: stores.BuiltStore, n: int = 2000) -> list[tuple[str, int, str, str]]:
    """`n` stored short variants spread evenly over the store (same store, same sample)."""
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as conn:
        (top,) = conn.execute("SELECT max(rid) FROM records").fetchone()
        rids = sorted({1 + (k * 7_919_993) % top for k in range(n * 2)})
        rows = conn.execute(
            "SELECT v_chr, v_start, v_ref, v_alt FROM records WHERE rid IN (SELECT value FROM json_each(?)) "
            "AND coll = 'g_variants' AND v_alt NOT LIKE '<%'",
            (json.dumps(rids),),
        ).fetchall()
    sample = [(str(c), int(s), str(r), str(a)) for c, s, r, a in rows][:n]
    random.Random(5).shuffle(sample)  # no run of neighbouring positions (pages already cached) in the list
    return sample


def range_windows(store: stores.BuiltStore, n: int = 200) -> list[tuple[str, int, int]]:
    """`n` 10 Mb windows at seeded random positions inside chromosome 1's loaded span."""
    with sqlite3.connect(f"file:{store.path}?mode=ro", uri=True) as conn:
        low, high = conn.execute(
            "SELECT min(v_start), max(v_start) FROM records WHERE coll = 'g_variants' AND v_chr = '1'"
        ).fetchone()
    rng = random.Random(3)
    starts = [rng.randint(low, max(low, high - RANGE_BP)) for _ in range(n)]
    return [("1", start, start + RANGE_BP) for start in starts]


def beacon_body(params: dict[str, object], granularity: str, filters: list[str] | None = None) -> dict[str, object]:
    query: dict[str, object] = {"requestedGranularity": granularity}
    if params:
        query["requestParameters"] = params
    if filters:
        query["filters"] = [{"id": f} for f in filters]
    return {"meta": {"apiVersion": "v2.0.0"}, "query": query}


def allele_requests(variants: list[tuple[str, int, str, str]]) -> dict[str, list[bytes]]:
    """Request lists per scenario; every scenario asks about the same variants in the same order."""
    out: dict[str, list[bytes]] = {}
    params = [{"referenceName": c, "start": s, "referenceBases": r, "alternateBases": a} for c, s, r, a in variants]
    for method in ("GET", "POST"):
        if method == "GET":
            out["ceiling GET"] = [loadgen.get("/lookup?" + urlencode(p)) for p in params]
        else:
            out["ceiling POST"] = [
                loadgen.post("/lookup", beacon_body({**p, "start": [p["start"]]}, "count")) for p in params
            ]
        for granularity in ("boolean", "count"):
            name = f"beacon {granularity} {method}"
            if method == "GET":
                q = [{"assemblyId": "GRCh37", **p, "requestedGranularity": granularity} for p in params]
                out[name] = [loadgen.get("/api/g_variants?" + urlencode(x)) for x in q]
            else:
                bodies = [
                    beacon_body({"assemblyId": "GRCh37", **p, "start": [p["start"]]}, granularity) for p in params
                ]
                out[name] = [loadgen.post("/api/g_variants", b) for b in bodies]
    return out


@dataclass
class Scenario:
    name: str
    port: int
    requests: list[bytes]
    outcomes: dict[int, list[loadgen.Outcome]] = field(default_factory=dict)  # by concurrency, one per run


def side_by_side(
    gen: loadgen.LoadGenerator, scenarios: list[Scenario], levels: tuple[int, ...], runs: int, seconds: float
) -> None:
    """Warm every scenario up, then run them round-robin `runs` times at each concurrency level."""
    for sc in scenarios:
        gen.run("127.0.0.1", sc.port, sc.requests, max(levels), min(1.0, seconds))
    for run in range(runs):
        for level in levels:
            for sc in scenarios:
                out = gen.run("127.0.0.1", sc.port, sc.requests, level, seconds)
                sc.outcomes.setdefault(level, []).append(out)
                print(
                    f"  run {run + 1}/{runs} c={level:<3} {sc.name:24} {out.rps:9.0f} req/s  "
                    f"p99 {out.percentile_ms(0.99):7.2f} ms  errors {out.errors}  client cpu {out.client_cpu:.0%}",
                    file=sys.stderr,
                )
                if out.first_error:
                    print(f"    first error: {out.first_error}", file=sys.stderr)


def check_same_answers(pairs: list[tuple[int, bytes, int, bytes]], extract: Callable[[dict], int]) -> list[str]:  # type: ignore[type-arg]
    """Problems when the ceiling's count and the beacon's count of the same question differ."""
    problems = []
    for ceiling_port, ceiling_req, beacon_port, beacon_req in pairs:
        theirs = json.loads(_fetch(ceiling_port, ceiling_req))["count"]
        ours = extract(json.loads(_fetch(beacon_port, beacon_req)))
        if theirs != ours:
            problems.append(f"ceiling counts {theirs}, beacon counts {ours}: {beacon_req[:160]!r}")
    return problems


def _fetch(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request.replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1]


def beacon_count(document: dict) -> int:  # type: ignore[type-arg]
    return int(document["responseSummary"].get("numTotalResults", 0))
