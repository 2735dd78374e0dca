"""`beacon-ingest bff | vcf | phenopackets`: parse arguments, run a loader, print one line per problem.

The parser is in ingest/arguments.py, everything printed in ingest/console.py; this module runs one command per
source kind against the store the arguments name.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from beacon.config import DEFAULT_STORE_URI, load_config
from beacon.errors import BeaconError
from beacon.store import open_store
from beacon.store.base import Store, StoreOptions
from ingest import maintenance, withdraw
from ingest.arguments import build_parser
from ingest.bff import BffReport, load_bff
from ingest.console import (
    phase_printer,
    print_bff_summary,
    print_phenopacket_summary,
    print_vcf_summary,
    progress_printer,
    show_problems,
    write_report,
)
from ingest.errors import IngestError, LoadRefused, RejectedRecords
from ingest.metrics import IngestMonitor, bff_tally, phenopacket_tally, vcf_tally
from ingest.phenopackets.load import PhenopacketOptions, PhenopacketReport, load_phenopackets
from ingest.vcf.load import VcfOptions, VcfReport, load_vcf

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def _store_target(args: argparse.Namespace) -> tuple[str, StoreOptions]:
    """The store URI (--store, then BEACON_STORE, then the config file) and the config's store options."""
    config_path = args.config or Path("conf/beacon.yaml")
    options = StoreOptions()
    uri = DEFAULT_STORE_URI
    if args.config or config_path.is_file():
        config = load_config(config_path)
        uri, options = config.store_uri, config.store_options
    if "BEACON_STORE" in os.environ:
        uri = os.environ["BEACON_STORE"]
    if args.store:
        uri = str(args.store)
    return uri, options


R = TypeVar("R")
Options = TypeVar("Options", bound="DataclassInstance")


def _options(kind: type[Options], args: argparse.Namespace, **renamed: object) -> Options:
    """A loader's options: each field from the argument of the same name, those `renamed` gives apart.

    A field no argument names keeps its default, as it would with the options written out field by field.
    """
    named = {f.name: getattr(args, f.name) for f in fields(kind) if hasattr(args, f.name)}
    return kind(**{**named, **renamed})


async def _into_store(
    target: tuple[str, StoreOptions] | None,
    load: Callable[[Store | None, dict[str, Any]], Awaitable[R]],
    args: argparse.Namespace,
) -> R:
    """Run `load` on the opened target store with the steward's safeguards and phase printing; close it after.

    No target (validating only): `load` runs on no store, without safeguards.
    """
    if target is None:
        return await load(None, {})
    store = open_store(*target)
    await store.open()
    try:
        tombstone = await withdraw.refuse_withdrawn(store, args.dataset, args.republish)
        guards = {"allow_empty": args.allow_empty, "max_rejected": args.max_rejected, "phase": phase_printer()}
        result = await load(store, guards)
        await withdraw.republished(store, tombstone, target[0], None)
        return result
    finally:
        await store.close()


async def _run_bff(
    args: argparse.Namespace, target: tuple[str, StoreOptions] | None, monitor: IngestMonitor
) -> BffReport:
    printer = progress_printer()
    read = 0

    def progress(collection: str, index: int) -> None:
        nonlocal read
        read += 1
        printer(read)
        monitor.count_record(collection, index)

    def load(store: Store | None, guards: dict[str, Any]) -> Awaitable[BffReport]:
        return load_bff(
            args.directory,
            args.dataset,
            store,
            assembly=args.assembly,
            on_error=args.on_error,
            progress=progress,
            **guards,
        )

    return await _into_store(target, load, args)


async def _run_vcf(
    args: argparse.Namespace, target: tuple[str, StoreOptions] | None, monitor: IngestMonitor
) -> VcfReport:
    options = _options(VcfOptions, args, dataset_id=args.dataset, samples_table=args.samples)
    printer = progress_printer()

    def progress(records: int) -> None:
        printer(records)
        monitor.count_total(records)

    return await _into_store(
        target,
        lambda store, guards: load_vcf(args.files, options, store, progress=progress, notice=_notice, **guards),
        args,
    )


def _notice(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _run_phenopackets(args: argparse.Namespace, target: tuple[str, StoreOptions] | None) -> PhenopacketReport:
    options = _options(PhenopacketOptions, args, dataset_id=args.dataset)
    progress = progress_printer("files", every=1000)
    return await _into_store(
        target, lambda store, guards: load_phenopackets(args.inputs, options, store, progress=progress, **guards), args
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in maintenance.COMMANDS:
        return maintenance.run(args, _store_target)
    # A load allocates millions of short-lived containers that reference counting frees; the default
    # collection every 700 allocations took 10-15 % of a sites-only VCF load (measured), so collect rarely.
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        # The monitor writes its last textfile on the way out, whatever the outcome.
        with IngestMonitor.from_args(args) as monitor:
            return _command(args, monitor)
    except IngestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        gc.set_threshold(*thresholds)


def _command(args: argparse.Namespace, monitor: IngestMonitor) -> int:
    try:
        if args.command == "withdraw":
            return withdraw.run(args, _store_target(args))
        # Validating reads no configuration and opens no store.
        target = None if args.validate_only else _store_target(args)
        if args.command == "vcf":
            vcf_report = asyncio.run(_run_vcf(args, target, monitor))
            print_vcf_summary(vcf_report, args.validate_only, args.report)
            monitor.finish(vcf_tally(vcf_report, args.validate_only))
        elif args.command == "phenopackets":
            pheno_report = asyncio.run(_run_phenopackets(args, target))
            print_phenopacket_summary(pheno_report, args.validate_only, args.report)
            monitor.finish(phenopacket_tally(pheno_report, args.validate_only))
        else:
            bff_report = asyncio.run(_run_bff(args, target, monitor))
            print_bff_summary(bff_report, args.validate_only, args.report)
            monitor.finish(bff_tally(bff_report, args.validate_only))
    except (IngestError, BeaconError) as exc:
        monitor.failed(exc)
        if isinstance(exc, LoadRefused):
            # The refused load's rejections are the reason; its report never reached the summary.
            show_problems(exc.problems, report=args.report)
        if isinstance(exc, (RejectedRecords, LoadRefused)):
            write_report(args.report, [("rejected", exc.problems)])
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; the store is unchanged", file=sys.stderr)
        return 130
    return 0
