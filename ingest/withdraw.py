"""`beacon-ingest withdraw DATASET --soft|--hard --reason TEXT`: take a dataset out of every answer, leave a tombstone.

Soft withdrawal keeps the records but the store's catalog no longer lists the dataset, so it is gone
from `/datasets` and from every answer; hard withdrawal also deletes its records. Either way the
store keeps a tombstone (id, time, operator, reason, mode) and one JSON line is appended to the
audit file. A withdrawn dataset comes back only through a load given `--republish`
(`refuse_withdrawn` / `republished`), docs/withdrawal.md.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from beacon.cli_help import Subcommands, subcommand
from beacon.store import open_store
from beacon.store.base import Store, StoreOptions, Tombstone
from ingest.errors import InputError, LoadRefused

AUDIT_SUFFIX = ".withdrawals.jsonl"


def add_parser(sub: Subcommands) -> argparse.ArgumentParser:
    """The `withdraw` subcommand's arguments."""
    text = "withdraw a dataset: gone from /datasets and every answer, a tombstone and an audit line left"
    examples = (
        "examples:\n"
        '  beacon-ingest withdraw goe-nl --soft --reason "consent withdrawn" --operator steward\n'
        '  beacon-ingest withdraw goe-nl --hard --reason "retracted" --store sqlite:///var/beacon.db'
    )
    p = subcommand(sub, "withdraw", text, examples)
    p.add_argument("dataset", help="the dataset id (as the node's FAIR Data Point publishes it)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--soft", action="store_true", help="hide the dataset, keep its records (default: off)")
    mode.add_argument("--hard", action="store_true", help="hide the dataset and delete its records (default: off)")
    p.add_argument("--reason", required=True, help="why (kept in the tombstone and the audit line)")
    p.add_argument("--operator", help="who withdraws it (default: the login name)")
    p.add_argument(
        "--audit-log",
        type=Path,
        help=f"JSON-lines file the audit line is appended to (default: beside a SQLite store, <store>{AUDIT_SUFFIX}; "
        "else standard error)",
    )
    p.add_argument("--store", help="store URI (default: env BEACON_STORE, then store.uri of the config file)")
    p.add_argument("--config", type=Path, help="beacon config whose store.uri is used (default: conf/beacon.yaml)")
    return p


@dataclass(frozen=True)
class Withdrawal:
    dataset_id: str
    hard: bool
    reason: str
    operator: str


def _operator(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def audit_target(uri: str, given: Path | None) -> Path | None:
    """Where the audit line goes: the option, else beside a SQLite store file, else None (standard error)."""
    if given is not None:
        return given
    rest = uri.removeprefix("sqlite:///")
    if rest != uri and rest:  # sqlite:///relative.db or sqlite:////absolute.db
        path = Path(rest)
        return path.with_name(path.name + AUDIT_SUFFIX)
    return None


def _append(line: str, path: Path | None, stderr: TextIO) -> None:
    if path is None:
        print(line, file=stderr)
        return
    try:
        # Append-only: opened for appending, one write per line.
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        msg = f"{path}: cannot append the audit line ({exc.strerror}); the withdrawal is done: {line}"
        raise InputError(msg) from exc


async def withdraw(store: Store, request: Withdrawal) -> Tombstone:
    """Withdraw as asked. :raise InputError: the store neither holds nor has withdrawn the dataset."""
    tombstone = Tombstone(request.dataset_id, _now(), request.operator, request.reason, request.hard)
    if not await store.withdraw_dataset(tombstone):
        msg = f"withdraw: dataset {request.dataset_id!r} is not in the store (nothing withdrawn)"
        raise InputError(msg)
    return tombstone


def audit_line(tombstone: Tombstone, action: str = "withdrawn") -> str:
    return json.dumps({"event": f"dataset-{action}", **tombstone.as_record()}, separators=(",", ":"))


def run(args: argparse.Namespace, target: tuple[str, StoreOptions], stderr: TextIO = sys.stderr) -> int:
    """The CLI command: withdraw, then append the audit line. Returns the exit status."""
    request = Withdrawal(args.dataset, bool(args.hard), args.reason, _operator(args.operator))

    async def go() -> Tombstone:
        store = open_store(*target)
        await store.open()
        try:
            return await withdraw(store, request)
        finally:
            await store.close()

    tombstone = asyncio.run(go())
    line = audit_line(tombstone)
    _append(line, audit_target(target[0], args.audit_log), stderr)
    mode = "hard: records deleted" if tombstone.hard else "soft: records kept, hidden"
    print(f"withdrew dataset {tombstone.dataset_id} ({mode}) at {tombstone.withdrawn_at} by {tombstone.operator}")
    return 0


async def refuse_withdrawn(store: Store, dataset_id: str, republish: bool) -> Tombstone | None:
    """The dataset's tombstone when `republish` allows the load to go on; None when it was never withdrawn.

    :raise LoadRefused: the dataset was withdrawn and `republish` is false.
    """
    found = next((t for t in await store.tombstones() if t.dataset_id == dataset_id), None)
    if found is not None and not republish:
        mode = "hard" if found.hard else "soft"
        msg = (
            f"dataset {dataset_id!r} was withdrawn ({mode}) at {found.withdrawn_at} by {found.operator}: "
            f"{found.reason}; load it with --republish to publish it again"
        )
        raise LoadRefused(msg)
    return found


async def republished(store: Store, tombstone: Tombstone | None, uri: str, audit_log: Path | None) -> None:
    """After a successful load of a withdrawn dataset: remove its tombstone and append the audit line."""
    if tombstone is None:
        return
    await store.republish(tombstone.dataset_id)
    line = audit_line(
        Tombstone(tombstone.dataset_id, _now(), _operator(None), "re-loaded with --republish", tombstone.hard),
        "republished",
    )
    await asyncio.to_thread(_append, line, audit_target(uri, audit_log), sys.stderr)
