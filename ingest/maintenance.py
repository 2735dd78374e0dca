"""`beacon-ingest init | gc`: prepare a store for loading and serving, and collect what loads left behind.

`init` creates the store's indexes, so that API pods never need index (or write) rights and a new
index on a large collection is built once, by a job, not on every pod start. `gc` deletes dataset
generations no reader can see any more (interrupted loads, replaced ones past their protection
period, orphans no catalog names) and reports them; run it from a CronJob or after a failed load.
Both speak to the store through the methods a backend offers for them: a store without generations
(SQLite replaces datasets in place) has nothing to collect.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from beacon.cli_help import Subcommands, subcommand
from beacon.config import DEFAULT_STORE_URI
from beacon.errors import BeaconError
from beacon.store import open_store, redacted
from beacon.store.base import StoreOptions

COMMANDS = ("init", "gc")
Target = tuple[str, StoreOptions]


class Collection(Protocol):
    """What a collection pass reports (the MongoDB store's `Collected`)."""

    generations: list[int]
    documents: int
    protected: list[int]
    orphans: list[int]


@runtime_checkable
class Indexed(Protocol):
    async def ensure_indexes(self) -> None: ...


@runtime_checkable
class Collected(Protocol):
    async def collect_generations(self) -> Any: ...


def add_commands(sub: Subcommands) -> None:
    """Add `init` and `gc` to the `beacon-ingest` subcommands."""
    texts = {
        "init": "create the store's indexes (run once per release, before the API and the loads)",
        "gc": "delete dataset generations no reader can see any more, and report orphans",
    }
    examples = {
        name: (
            f"examples:\n  beacon-ingest {name} --store mongodb://loader@db:27017/beacon\n"
            f"  beacon-ingest {name} --config conf/beacon.yaml"
        )
        for name in texts
    }
    for name, text in texts.items():
        p = subcommand(sub, name, text, examples[name])
        p.add_argument(
            "--store",
            help=f"store URI (default: env BEACON_STORE, then store.uri of the config file, then {DEFAULT_STORE_URI})",
        )
        p.add_argument(
            "--config", type=Path, help="beacon config whose store section is used (default: conf/beacon.yaml, if any)"
        )


def run(args: argparse.Namespace, target_of: Callable[[argparse.Namespace], Target]) -> int:
    """Run `init` or `gc`; print one line of outcome (or of error); the exit code."""
    try:
        line = asyncio.run(_init(target_of(args)) if args.command == "init" else _gc(target_of(args)))
    except BeaconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


async def _init(target: Target) -> str:
    async def prepare(store: Any) -> str:
        await store.ensure_indexes()
        return f"{redacted(target[0])}: indexes ready"

    return await _on_store(target, Indexed, "nothing to prepare (this store creates its indexes itself)", prepare)


async def _gc(target: Target) -> str:
    async def collect(store: Any) -> str:
        report: Collection = await store.collect_generations()
        return summary(redacted(target[0]), report)

    return await _on_store(target, Collected, "nothing to collect (this store replaces datasets in place)", collect)


async def _on_store(target: Target, able: type, unable: str, act: Callable[[Any], Awaitable[str]]) -> str:
    """`act` on the opened store when it is `able` (a runtime-checkable protocol), else the line saying so."""
    store = open_store(*target)
    try:
        await store.open()
        if not isinstance(store, able):
            return f"{redacted(target[0])}: {unable}"
        return await act(store)
    finally:
        await store.close()


def summary(where: str, report: Collection) -> str:
    """One line: what was deleted, what waits, which orphans were found."""
    line = f"{where}: deleted {len(report.generations)} generation(s), {report.documents} document(s)"
    if report.protected:
        line += f"; {len(report.protected)} replaced generation(s) kept for running queries: {report.protected}"
    if report.orphans:
        line += f"; orphans (named by no catalog entry, deleted): {report.orphans}"
    return line
