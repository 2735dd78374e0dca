"""Server CPU per request of several checkouts' `beacon serve`, in interleaved windows on the same requests.

    .venv/bin/python bench/cpu_per_request.py NAME=CHECKOUT[:CONFIG] ... [--seconds 3] [--rounds 6]
        [--concurrency 16] [--scenario "beacon boolean GET"]

Scenarios: the allele ones of bench/scenarios.py, and "beacon range count GET" (10 Mb windows of
chromosome 1) and "beacon cohort count GET" (the 20 k-individual cohort store; STORE_<NAME> then names
a cohort store) of bench/suite.py.

Each server runs from its own checkout (its working directory, so `python -m beacon` imports that
code) on the cached 1 M-variant store (or STORE_<NAME>, a store file of the same content). The load
generator drives them in turn, round by round; each window reports requests/s and the server's CPU
seconds (user + system, from /proc) per request. On a shared machine throughput moves with the other
jobs; CPU per request moves much less, so two versions of the code compare better by it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import loadgen  # noqa: E402
import scenarios  # noqa: E402
import servers  # noqa: E402
import stores  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


# Beside the allele scenarios of bench/scenarios.py: the range and cohort counts of bench/suite.py.
RANGE, COHORT = "beacon range count GET", "beacon cohort count GET"
COHORT_FILTERS = "HP:0001626,NCIT:C16576"  # bench/suite.py's COHORT_TERM (with descendants) AND COHORT_SEX


def _workload(scenario: str) -> tuple[stores.BuiltStore, list[bytes]]:
    """The store (1 M variants, or 20 k individuals for the cohort) and the requests of `scenario`."""
    if scenario == COHORT:
        query = urlencode({"filters": COHORT_FILTERS, "requestedGranularity": "count"})
        return stores.cohort_store(20_000), [loadgen.get(f"/api/individuals?{query}")]
    store = stores.variant_store(1_000_000)
    if scenario == RANGE:
        windows = scenarios.range_windows(store)
        return store, [
            loadgen.get("/api/g_variants?" + urlencode({"assemblyId": "GRCh37", "referenceName": c, "start": a,
                                                        "end": b, "requestedGranularity": "count"}))
            for c, a, b in windows
        ]  # fmt: skip
    return store, scenarios.allele_requests(scenarios.sample_variants(store))[scenario]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("servers", nargs="+")
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--scenario", default="beacon boolean GET")
    args = p.parse_args()
    store, requests = _workload(args.scenario)
    running = {}
    for spec in args.servers:
        name, _, rest = spec.partition("=")
        tree, _, config = rest.partition(":")
        db = Path(os.environ.get(f"STORE_{name}", str(store.path)))
        argv = [sys.executable, "-m", "beacon", "serve", "--port", "{port}"]
        if config:
            argv += ["--config", config]
        env = {"PYTHONPATH": tree, "BEACON_STORE": f"sqlite:///{db}"}
        if "BEACON_SPEC_DIR" in os.environ:  # for a checkout older than the schemas shipped in the project
            env["BEACON_SPEC_DIR"] = os.environ["BEACON_SPEC_DIR"]
        servers.ROOT = Path(tree)  # `python -m beacon` imports from the working directory first
        server = servers.Server(argv, env=env)
        running[name] = server
    gen = loadgen.LoadGenerator(1)
    results: dict[str, list[tuple[float, float]]] = {n: [] for n in running}
    try:
        for server in running.values():
            gen.run("127.0.0.1", server.port, requests, args.concurrency, 1.5)  # warm-up
        for r in range(args.rounds):
            for name, server in running.items():
                before = cpu_s(server.proc.pid)
                out = gen.run("127.0.0.1", server.port, requests, args.concurrency, args.seconds)
                used = cpu_s(server.proc.pid) - before
                n = len(out.latencies_s)
                results[name].append((out.rps, used / max(n, 1) * 1e6))
                print(
                    f"round {r} {name}: {out.rps:.0f} req/s, {used / max(n, 1) * 1e6:.1f} us CPU per request, "
                    f"errors {out.errors}",
                    file=sys.stderr,
                )
    finally:
        gen.close()
        for server in running.values():
            server.__exit__()
    for name, rows in results.items():
        rps = [r for r, _ in rows]
        cpu = [c for _, c in rows]
        print(
            f"{name:10s} req/s median {statistics.median(rps):7.0f} (max {max(rps):.0f}), "
            f"CPU us per request median {statistics.median(cpu):6.1f} min {min(cpu):6.1f}"
        )


if __name__ == "__main__":
    main()
