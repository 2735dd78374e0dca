"""`beacon serve | demo | check-config | aggregate`: parse arguments, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from beacon.config import Config, load_config
from beacon.errors import BeaconError
from beacon.logs import LOG_FORMATS, configure_logging
from beacon.store import redacted


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        msg = f"expected a whole number of at least 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def _log_format(text: str) -> str:
    # Also applied to the default, so a bad BEACON_LOG_FORMAT fails in one line too.
    if text not in LOG_FORMATS:
        msg = f"expected one of {', '.join(LOG_FORMATS)}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beacon", description="GA4GH Beacon v2 server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the Beacon API")
    demo = sub.add_parser("demo", help="generate the synthetic demo cohort and load it")
    check = sub.add_parser("check-config", help="validate the configuration and exit")
    aggregate = sub.add_parser("aggregate", help="serve a Beacon network aggregator over member beacons")
    for p in (serve, demo, check):
        p.add_argument("--config", type=Path, help="configuration file (default conf/beacon.yaml)")
    aggregate.add_argument("--config", type=Path, default=Path("conf/aggregator.yaml"), help="aggregator configuration")
    aggregate.add_argument("--host")
    aggregate.add_argument("--port", type=int)
    for p in (serve, demo, check):
        p.add_argument("--store", help="store URI, e.g. sqlite:///var/beacon.db (overrides config)")
    for p in (serve, aggregate):
        p.add_argument(
            "--log-format",
            type=_log_format,
            metavar="{json,text}",
            default=os.environ.get("BEACON_LOG_FORMAT", "json"),
            help="one JSON object per line (default; env BEACON_LOG_FORMAT) or plain text for developers",
        )
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--validate-responses", action="store_true", help="check responses against the spec")
    demo.add_argument("--individuals", type=_positive, default=400, help="cohort size (default 400)")
    demo.add_argument("--out", type=Path, default=Path("var/demo-bff"), help="where the generated BFF files go")
    return parser


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if getattr(args, "store", None):
        config = dataclasses.replace(config, store_uri=args.store)
    return config


def _serve(args: argparse.Namespace) -> int:
    from beacon.api.app import create_app

    config = _config(args)
    server = dataclasses.replace(
        config.server,
        host=args.host or config.server.host,
        port=args.port or config.server.port,
        validate_responses=args.validate_responses or config.server.validate_responses,
    )
    config = dataclasses.replace(config, server=server)
    configure_logging(args.log_format)
    # SIGTERM: stop accepting, let in-flight requests finish for up to shutdown_timeout_s, then close the store.
    web.run_app(
        create_app(config),
        host=server.host,
        port=server.port,
        print=None,
        shutdown_timeout=server.shutdown_timeout_s,
        access_log=None,  # the metrics middleware writes the access log (route templates, request ids)
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    # The demo is the one place the server's CLI composes with ingest (import-linter exemption).
    from beacon.store import open_store
    from ingest.bff import load_bff
    from ingest.demo import DATASET_ID, generate_demo
    from ingest.errors import IngestError

    config = _config(args)
    counts = generate_demo(args.out, individuals=args.individuals)
    print(f"generated demo cohort in {args.out}: " + ", ".join(f"{n} {c}" for c, n in sorted(counts.items())))

    async def load() -> str:
        store = open_store(config.store_uri, config.store_options)
        await store.open()
        try:
            report = await load_bff(args.out, DATASET_ID, store, assembly="GRCh38", on_error="fail")
        finally:
            await store.close()
        return "unchanged" if report.unchanged else "loaded"

    try:
        outcome = asyncio.run(load())
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"demo dataset {DATASET_ID} {outcome} into {redacted(config.store_uri)}")
    return 0


def _aggregate(args: argparse.Namespace) -> int:
    from beacon.aggregator.app import create_aggregator_app
    from beacon.aggregator.settings import load_aggregator_settings

    settings = load_aggregator_settings(args.config)
    server = settings.beacon.server
    configure_logging(args.log_format)
    web.run_app(
        create_aggregator_app(settings),
        host=args.host or server.host,
        port=args.port or server.port,
        print=None,
        shutdown_timeout=server.shutdown_timeout_s,
        access_log=None,
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from beacon.ontology import load_ontologies

    config = _config(args)
    # The files the server reads at startup are read here too, so a bad one fails now, not at start.
    ontologies = load_ontologies(config.ontologies)
    names = ", ".join(d.id for d in config.datasets) or "none"
    loaded = ", ".join(f"{o.prefix} {o.version}".strip() for o in ontologies) or "none"
    print(
        f"{config.source}: valid (beacon {config.beacon.id}, store {redacted(config.store_uri)}, datasets: {names}, "
        f"ontologies: {loaded})"
    )
    if not args.store:
        return 0
    # With a store named, the loaded datasets are checked too: one without a policy is not served.
    from beacon.security.access import unconfigured
    from beacon.store import open_store

    async def policyless() -> list[str]:
        store = open_store(config.store_uri, config.store_options)
        await store.open()
        try:
            return unconfigured(config, await store.datasets())
        finally:
            await store.close()

    unserved = asyncio.run(policyless())
    if unserved:
        print(
            f"warning: {redacted(config.store_uri)} holds dataset(s) with no policy, not served: {', '.join(unserved)} "
            "(list them under datasets, or set datasets_default)",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands = {"serve": _serve, "demo": _demo, "check-config": _check, "aggregate": _aggregate}
    try:
        return commands[args.command](args)
    except BeaconError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
