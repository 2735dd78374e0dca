"""Per-request Python cost of the app's handler chain (router, middlewares, handler), without sockets.

    .venv/bin/python bench/handler_cost.py [--variants 1000000] [--n 3000] [--rounds 12] [--profile] [--post]

Builds the app of bench/beacon.yaml on the cached variant store, then hands it boolean allele GETs
(count POSTs with `--post`) made by aiohttp's `make_mocked_request` (built before timing) and reports
the process CPU time per request of each round: CPU time, not wall time, so other jobs on a shared
machine count less.
`--profile` runs one round under cProfile instead (`--stats FILE` keeps the raw profile). Point
PYTHONPATH and `--config` at another checkout (its `conf/beacon.yaml` if it has no bench
configuration) to compare two versions of the code on the same requests (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import TextIO
from unittest import mock
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
if "PYTHONPATH" not in os.environ:  # otherwise the checkout it names is measured
    sys.path.insert(0, str(BENCH.parent))

from aiohttp import StreamReader, web  # noqa: E402
from aiohttp.test_utils import make_mocked_request  # noqa: E402

from beacon.api.app import create_app  # noqa: E402
from beacon.config import load_config  # noqa: E402
from beacon.logs import configure_logging  # noqa: E402

# After `beacon` is imported: the bench helpers put this checkout first on the path.
sys.path.insert(0, str(BENCH))
import scenarios  # noqa: E402
import stores  # noqa: E402


def _peer(name: str, default: object = None) -> object:
    return ("127.0.0.1", 40000) if name == "peername" else default


async def measure(args: argparse.Namespace, sink: TextIO) -> None:
    store = stores.variant_store(args.variants)
    os.environ["BEACON_STORE"] = store.uri
    config = load_config(args.config)
    configure_logging("json", stream=sink)  # access lines written as the server writes them
    app = create_app(config)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    variants = scenarios.sample_variants(store)
    paths = [
        "/api/g_variants?"
        + urlencode(
            {"assemblyId": "GRCh37", "referenceName": c, "start": s, "referenceBases": r, "alternateBases": a}
            | {"requestedGranularity": "boolean"}
        )
        for c, s, r, a in variants
    ]
    # --post: the count POSTs of the "beacon count POST" scenario.
    bodies = [
        json.dumps(
            scenarios.beacon_body(
                {"assemblyId": "GRCh37", "referenceName": c, "start": [s], "referenceBases": r, "alternateBases": a},
                "count",
            )
        ).encode()
        for c, s, r, a in variants
    ]
    transport = mock.Mock()
    transport.get_extra_info.side_effect = _peer

    def posted(body: bytes) -> web.Request:
        payload = StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=asyncio.get_running_loop())
        payload.feed_data(body)
        payload.feed_eof()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        return make_mocked_request(
            "POST", "/api/g_variants", headers=headers, payload=payload, app=app, transport=transport
        )

    def batch() -> list[web.Request]:
        if args.post:
            return [posted(bodies[i % len(bodies)]) for i in range(args.n)]
        return [make_mocked_request("GET", paths[i % len(paths)], app=app, transport=transport) for i in range(args.n)]

    async def drive(requests: list[web.Request]) -> None:
        for request in requests:
            response = await app._handle(request)
            if response.status != 200:
                raise SystemExit(f"{request.path_qs}: status {response.status}")
            await asyncio.sleep(0)  # one turn of the loop per request, as under load

    await drive(batch())  # warm-up: lanes decided, caches filled
    if args.profile:
        requests = batch()
        profile = cProfile.Profile()
        profile.enable()
        await drive(requests)
        profile.disable()
        if args.stats is not None:  # for comparing two checkouts function by function (pstats, snakeviz)
            profile.dump_stats(args.stats)
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    else:
        rounds = []
        for _ in range(args.rounds):
            requests = batch()
            started = time.process_time()
            await drive(requests)
            rounds.append((time.process_time() - started) / args.n * 1e6)
        ordered = sorted(rounds)
        print(f"CPU us per request: median {ordered[len(ordered) // 2]:.1f}, min {ordered[0]:.1f}")
        print("rounds: " + " ".join(f"{r:.1f}" for r in rounds))
    await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variants", type=int, default=1_000_000)
    parser.add_argument("--config", type=Path, default=BENCH / "beacon.yaml")
    parser.add_argument("--n", type=int, default=3000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--post", action="store_true", help="count POSTs instead of boolean GETs")
    parser.add_argument("--stats", type=Path, help="with --profile: also write the raw profile here")
    with Path(os.devnull).open("w") as sink:
        asyncio.run(measure(parser.parse_args(), sink))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
