"""Profile `beacon serve` under load: py-spy samples the server process while the load generator drives it.

    .venv/bin/python bench/profile_server.py [--variants 10000000] [--scenario "beacon boolean GET"]
        [--concurrency 16] [--seconds 20] [--out bench/results/profile]

Uses the cached bench store of `--variants` records (bench/stores.py builds it if absent). Writes the
collapsed stacks (`.txt`, for flamegraph.pl or speedscope) and prints the functions with the most
inclusive and self time, line numbers folded. On a 2-core machine a large share of samples lands in
the socket write of the response: that is the server waiting for the CPU the client holds after
the write woke it, not Python work (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import loadgen  # noqa: E402
import scenarios  # noqa: E402
import servers  # noqa: E402
import stores  # noqa: E402


def top(collapsed: Path, n: int = 40) -> str:
    """The `n` functions with most inclusive samples and most self samples, as percentages."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    out = [f"{total} samples", "inclusive:"]
    out += [f"  {100 * v / total:5.1f}%  {k[:140]}" for k, v in inclusive.most_common(n)]
    out += ["self:"] + [f"  {100 * v / total:5.1f}%  {k[:140]}" for k, v in own.most_common(n // 2)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variants", type=int, default=10_000_000)
    parser.add_argument("--scenario", default="beacon boolean GET", help="a request list of scenarios.allele_requests")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "profile")
    args = parser.parse_args()
    store = stores.variant_store(args.variants)
    requests = scenarios.allele_requests(scenarios.sample_variants(store))[args.scenario]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    collapsed = args.out.with_suffix(".txt")
    gen = loadgen.LoadGenerator(1)
    try:
        with servers.beacon_server(store) as beacon:
            gen.run("127.0.0.1", beacon.port, requests, args.concurrency, 2)  # warm-up
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(beacon.proc.pid), "-d",
                 str(args.seconds), "-r", "250", "-f", "raw", "-o", str(collapsed), "--nonblocking"],
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            out = gen.run("127.0.0.1", beacon.port, requests, args.concurrency, args.seconds + 1)
            spy.wait()
    finally:
        gen.close()
    print(f"{args.scenario} at c{args.concurrency}: {out.rps:.0f} req/s, p99 {out.percentile_ms(0.99):.2f} ms")
    print(top(collapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
