"""`beacon serve | demo | check-config | aggregate`: parse arguments, call the library, map errors to exit codes."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from beacon import __version__
from beacon.cli_help import command_line
from beacon.config import Config, load_config
from beacon.config_errors import check_store_uri
from beacon.errors import BeaconError, ConfigError, StoreOutdated
from beacon.logs import LOG_FORMATS, configure_logging
from beacon.served_urls import serving
from beacon.serving import serve_until_signalled
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


_EXAMPLES = {
    "beacon": """examples:
  beacon demo                                  generate and load the demo cohort into var/beacon.db
  beacon serve                                 serve it at http://127.0.0.1:5050/ (API under /api)
  beacon serve --port 6102 --log-format text   another port, readable logs
  beacon check-config --config conf/beacon.yaml
  beacon aggregate --config conf/aggregator.yaml""",
    "serve": """examples:
  beacon serve
  beacon serve --host 0.0.0.0 --port 8080 --store mongodb://db:27017/beacon
  beacon serve --store sqlite:///var/empty.db --create --validate-responses""",
    "demo": """examples:
  beacon demo
  beacon demo --individuals 2000 --store sqlite:///var/big-demo.db""",
    "check-config": """examples:
  beacon check-config
  BEACON_PORT=6102 beacon check-config --config conf/beacon.yaml
  beacon check-config --store sqlite:///var/beacon.db   also warn of loaded datasets without a policy""",
    "aggregate": """examples:
  beacon aggregate
  beacon aggregate --config deploy/aggregator.yaml --port 5060 --log-format text""",
}


def _parser() -> argparse.ArgumentParser:
    commands = ("serve", "demo", "check-config", "aggregate")
    cli = command_line("beacon", "GA4GH Beacon v2 server.", __version__, _EXAMPLES, commands)
    serve = cli.add("serve", "serve the Beacon API")
    demo = cli.add("demo", "generate the synthetic demo cohort and load it")
    check = cli.add("check-config", "validate the configuration and exit")
    aggregate = cli.add("aggregate", "serve a Beacon network aggregator over member beacons")
    for p in (serve, demo, check):
        p.add_argument(
            "--config",
            type=Path,
            help="configuration file (default: env BEACON_CONFIG, then conf/beacon.yaml, then the one in the package)",
        )
    aggregate.add_argument(
        "--config",
        type=Path,
        default=Path("conf/aggregator.yaml"),
        help="aggregator configuration (default: %(default)s)",
    )
    for p in (serve, aggregate):
        p.add_argument("--host", help="address to listen on (default: server.host of the configuration, 127.0.0.1)")
        p.add_argument("--port", type=int, help="port to listen on (default: server.port of the configuration, 5050)")
    for p in (serve, demo, check):
        p.add_argument(
            "--store", help="store URI, e.g. sqlite:///var/beacon.db (default: store.uri of the configuration)"
        )
    for p in (serve, aggregate):
        p.add_argument(
            "--log-format",
            type=_log_format,
            metavar="{json,text}",
            default=os.environ.get("BEACON_LOG_FORMAT", "json"),
            help="one JSON object per line or plain text for developers (default: env BEACON_LOG_FORMAT, then json)",
        )
    serve.add_argument(
        "--validate-responses", action="store_true", help="check every response against the spec (default: off)"
    )
    serve.add_argument(
        "--create",
        action="store_true",
        help="serve an empty SQLite store when the file does not exist (default: off, a missing store is an error)",
    )
    demo.add_argument("--individuals", type=_positive, default=400, help="cohort size (default: %(default)s)")
    demo.add_argument(
        "--out", type=Path, default=Path("var/demo-bff"), help="where the generated BFF files go (default: %(default)s)"
    )
    return cli.parser


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if getattr(args, "store", None):
        config = dataclasses.replace(config, store_uri=check_store_uri(args.store, "--store"))
    return config


def _require_sqlite_file(uri: str) -> None:
    """Serving a SQLite file that does not exist would create and serve an empty store: refuse.

    :raise ConfigError: the URI names a SQLite file that does not exist.
    """
    from beacon.store.sqlite import sqlite_path

    if not uri.startswith("sqlite://"):
        return
    path = sqlite_path(uri)
    if str(path) != ":memory:" and not Path(path).exists():
        msg = (
            f"{path}: no such SQLite store; load one first (`beacon demo` or `beacon-ingest`), "
            "or pass --create to serve an empty store"
        )
        raise ConfigError(msg)


def _listening(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"listening on http://{shown}:{port} (API under /api)"


def _serve(args: argparse.Namespace) -> int:
    from beacon.api.app import create_app

    config = serving(_config(args), args.host, args.port)
    server = dataclasses.replace(
        config.server, validate_responses=args.validate_responses or config.server.validate_responses
    )
    config = dataclasses.replace(config, server=server)
    if not args.create:
        _require_sqlite_file(config.store_uri)
    configure_logging(args.log_format)
    log = logging.getLogger("beacon.serve")
    # SIGTERM: stop accepting, let in-flight requests finish and reach their clients, then close the store.
    serve_until_signalled(
        create_app(config),
        host=server.host,
        port=server.port,
        shutdown_timeout_s=server.shutdown_timeout_s,
        # Called once the socket is bound: the line is only written when it is true.
        on_listening=lambda: log.info(_listening(server.host, server.port)),
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    # The demo is the one place the server's CLI composes with ingest (import-linter exemption).
    from beacon.store import open_store
    from beacon.store.sqlite_file import set_aside
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
        try:
            outcome = asyncio.run(load())
        except StoreOutdated as exc:
            if exc.file is None:
                raise
            # The demo's store is generated: an older version's file is kept beside it, not loaded into,
            # so `make run` works after an upgrade and nothing is deleted.
            kept = set_aside(Path(exc.file))
            print(f"note: {exc.file} was written by an older version; kept as {kept}, a new store is made")
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
    host, port = args.host or server.host, args.port or server.port
    configure_logging(args.log_format)
    log = logging.getLogger("beacon.aggregate")
    serve_until_signalled(
        create_aggregator_app(settings),
        host=host,
        port=port,
        shutdown_timeout_s=server.shutdown_timeout_s,
        on_listening=lambda: log.info(_listening(host, port)),
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
