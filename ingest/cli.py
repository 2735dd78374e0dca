"""`beacon-ingest bff | vcf | phenopackets`: parse arguments, run a loader, print one line per problem."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from beacon.config import DEFAULT_STORE_URI, load_config
from beacon.errors import BeaconError
from beacon.store import open_store
from beacon.store.base import Store, StoreOptions
from ingest import __version__, maintenance, problem_report
from ingest.bff import BffReport, load_bff
from ingest.errors import IngestError, InputError, LoadRefused, Problem, RejectedRecords
from ingest.metrics import IngestMonitor, add_metrics_arguments, bff_tally, phenopacket_tally, vcf_tally
from ingest.phenopackets.load import PhenopacketOptions, PhenopacketReport, load_phenopackets
from ingest.safeguard import RejectLimit
from ingest.vcf.load import VcfOptions, VcfReport, load_vcf

_ON_ERROR = (
    "invalid records: keep them with their invalid sub-values coerced or dropped (repair; every change reported), "
    "skip them, or load nothing (fail) (default: %(default)s)"
)
_VALIDATE_ONLY = "check every record, store nothing (default: off)"
_EXAMPLES = {
    "beacon-ingest": """examples:
  beacon-ingest bff data/cineca --dataset cineca --assembly GRCh37
  beacon-ingest vcf chr22.vcf.gz --dataset cineca --assembly GRCh37 --samples samples.tsv
  beacon-ingest phenopackets phenopackets.tar.xz --dataset rare --store sqlite:///var/beacon.db""",
    "bff": """examples:
  beacon-ingest bff data/cineca --dataset cineca --assembly GRCh37
  beacon-ingest bff data/pi-format --dataset cineca --validate-only --report problems.jsonl""",
    "vcf": """examples:
  beacon-ingest vcf chr22.vcf.gz --dataset cineca --assembly GRCh37
  beacon-ingest vcf chr*.vcf.gz --dataset g1k --assembly hg19 --sites-only --store mongodb://db:27017/beacon
  beacon-ingest vcf calls.vcf.gz --dataset d --assembly GRCh37 --chain hg19ToHg38.over.chain \\
      --target-assembly GRCh38 --fasta hg38.fa.gz""",
    "phenopackets": """examples:
  beacon-ingest phenopackets packets/ --dataset rare
  beacon-ingest phenopackets phenopacket-store.tar.xz --dataset rare --id-from subject --max-rejected 1%""",
}


def _sub(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, text: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name, help=text, description=text, epilog=_EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beacon-ingest",
        description="Load data into a Beacon store.",
        epilog=_EXAMPLES["beacon-ingest"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{bff,vcf,phenopackets,init,gc}")
    bff = _sub(sub, "bff", "load a Beacon-Friendly-Format directory (classic or PI layout)")
    bff.add_argument("directory", type=Path, help="folder of <collection>.json[.gz] files")
    vcf = _sub(sub, "vcf", "load VCF files (split, trimmed, counted) as the dataset's variants")
    vcf.add_argument("files", nargs="+", type=Path, help="VCF files (plain, gzip or BGZF)")
    vcf.add_argument("--assembly", required=True, help="GRCh38, GRCh37 or NCBI36 (synonyms accepted)")
    vcf.add_argument(
        "--samples", type=Path, help="sample table (TSV or JSON): individual, population, sex (default: none)"
    )
    calls = vcf.add_mutually_exclusive_group()
    calls.add_argument(
        "--sites-only", action="store_true", help="do not decode genotypes (no carriers or counts) (default: off)"
    )
    calls.add_argument(
        "--counts-only",
        action="store_true",
        help="decode genotypes for allele counts and frequencies only: store no carriers, biosamples or individuals "
        "(default: off)",
    )
    vcf.add_argument("--part", default="vcf", help="the part of the dataset these files replace (default: %(default)s)")
    vcf.add_argument(
        "--fasta",
        type=Path,
        help="reference FASTA: check REF and left-align indels, as bcftools norm -f (default: none, no check)",
    )
    vcf.add_argument(
        "--chain",
        type=Path,
        help="UCSC chain file: lift the variants to --target-assembly at ingest (default: none, no liftover)",
    )
    vcf.add_argument(
        "--target-assembly", help="the assembly the variants are stored in after liftover (default: --assembly)"
    )
    vcf.add_argument(
        "--on-error",
        choices=("repair", "skip", "fail"),
        default="repair",
        help="invalid records: skipped and reported (repair and skip: a VCF record has no sub-value to repair) "
        "or load nothing (default: %(default)s)",
    )
    vcf.add_argument("--validate-only", action="store_true", help=_VALIDATE_ONLY)
    pheno = _sub(sub, "phenopackets", "load GA4GH phenopackets v2 (JSON or YAML files, folders, tar archives)")
    pheno.add_argument("inputs", nargs="+", type=Path, help="phenopacket files, folders of them or tar archives")
    pheno.add_argument("--assembly", help="assembly of the variants (default: from the first vcfRecord)")
    pheno.add_argument(
        "--id-from",
        choices=("phenopacket", "subject"),
        default="phenopacket",
        help="individual ids: the phenopacket's id (unique per file) or the subject's id (default: %(default)s)",
    )
    pheno.add_argument(
        "--part", default="phenopackets", help="the part of the dataset these files replace (default: %(default)s)"
    )
    pheno.add_argument("--on-error", choices=("repair", "skip", "fail"), default="repair", help=_ON_ERROR)
    pheno.add_argument("--validate-only", action="store_true", help=_VALIDATE_ONLY)
    for p in sub.choices.values():
        p.add_argument("--dataset", required=True, help="dataset id the records are loaded into")
        p.add_argument(
            "--store",
            help=f"store URI, created when missing (default: env BEACON_STORE, then store.uri of the config file, "
            f"then {DEFAULT_STORE_URI})",
        )
        p.add_argument(
            "--config", type=Path, help="beacon config whose store.uri is used (default: conf/beacon.yaml if present)"
        )
        p.add_argument(
            "--report",
            type=Path,
            metavar="FILE",
            help="write every problem and repair to FILE as JSON lines (the terminal shows the first ones) "
            "(default: none)",
        )
        p.add_argument(
            "--allow-empty",
            action="store_true",
            help="let the load empty the dataset or drop a collection it had (default: off, refused)",
        )
        p.add_argument(
            "--max-rejected",
            type=_reject_limit,
            metavar="N|P%",
            help="refuse the load when more records than this are rejected (a count, or a percentage of those read) "
            "(default: no limit)",
        )
        add_metrics_arguments(p)
    for p in (vcf, pheno):
        p.add_argument("--name", help="the dataset record's name (default: the dataset id, or the name it has)")
        p.add_argument("--description", help="the dataset record's description (default: from the input)")
    bff.add_argument(
        "--assembly", help="GRCh38, GRCh37 or NCBI36 (default: inferred from RefSeq accessions in the records)"
    )
    bff.add_argument("--on-error", choices=("repair", "skip", "fail"), default="repair", help=_ON_ERROR)
    bff.add_argument("--validate-only", action="store_true", help=_VALIDATE_ONLY)
    maintenance.add_commands(sub)  # after the load options above, which they do not take
    return parser


def _reject_limit(text: str) -> RejectLimit:
    try:
        return RejectLimit.parse(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--max-rejected: ")) from exc


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


async def _into_store(
    target: tuple[str, StoreOptions], load: Callable[[Store, dict[str, Any]], Awaitable[R]], args: argparse.Namespace
) -> R:
    """Run `load` on the opened target store with the steward's safeguards and phase printing; close it after."""
    store = open_store(*target)
    await store.open()
    try:
        guards = {"allow_empty": args.allow_empty, "max_rejected": args.max_rejected, "phase": _phase_printer()}
        return await load(store, guards)
    finally:
        await store.close()


async def _run_bff(args: argparse.Namespace, target: tuple[str, StoreOptions], monitor: IngestMonitor) -> BffReport:
    printer = _progress_printer()
    read = 0

    def progress(collection: str, index: int) -> None:
        nonlocal read
        read += 1
        printer(read)
        monitor.count_record(collection, index)

    if args.validate_only:
        return await load_bff(
            args.directory,
            args.dataset,
            None,
            assembly=args.assembly,
            on_error=args.on_error,
            progress=progress,
        )
    store = open_store(*target)
    await store.open()
    try:
        return await load_bff(
            args.directory,
            args.dataset,
            store,
            assembly=args.assembly,
            on_error=args.on_error,
            progress=progress,
            allow_empty=args.allow_empty,
            max_rejected=args.max_rejected,
            phase=_phase_printer(),
        )
    finally:
        await store.close()


async def _run_vcf(
    args: argparse.Namespace, target: tuple[str, StoreOptions] | None, monitor: IngestMonitor
) -> VcfReport:
    options = VcfOptions(
        dataset_id=args.dataset,
        assembly=args.assembly,
        samples_table=args.samples,
        sites_only=args.sites_only,
        counts_only=args.counts_only,
        on_error=args.on_error,
        part=args.part,
        chain=args.chain,
        fasta=args.fasta,
        target_assembly=args.target_assembly,
        name=args.name,
        description=args.description,
    )
    printer = _progress_printer()

    def progress(records: int) -> None:
        printer(records)
        monitor.count_total(records)

    if target is None:
        return await load_vcf(args.files, options, None, progress=progress)
    return await _into_store(
        target, lambda store, guards: load_vcf(args.files, options, store, progress=progress, **guards), args
    )


async def _run_phenopackets(args: argparse.Namespace, target: tuple[str, StoreOptions] | None) -> PhenopacketReport:
    options = PhenopacketOptions(
        dataset_id=args.dataset,
        assembly=args.assembly,
        on_error=args.on_error,
        id_from=args.id_from,
        part=args.part,
        name=args.name,
        description=args.description,
    )
    progress = _progress_printer("files", every=1000)
    if target is None:
        return await load_phenopackets(args.inputs, options, None, progress=progress)
    return await _into_store(
        target, lambda store, guards: load_phenopackets(args.inputs, options, store, progress=progress, **guards), args
    )


# Off a terminal, phases are printed only once a load has run this long: small loads stay quiet.
_PHASES_AFTER_S = 5.0


def _phase_printer() -> Callable[[str], None]:
    """Prints each phase after the records (`building indexes`, `analysing`, `switching`) with the time so far."""
    started = time.monotonic()

    def show(phase: str) -> None:
        elapsed = time.monotonic() - started
        if sys.stderr.isatty() or elapsed >= _PHASES_AFTER_S:
            lead = "\n" if sys.stderr.isatty() else ""  # past the progress line that \r keeps rewriting
            print(f"{lead}{phase} ({elapsed:,.1f} s)", file=sys.stderr, flush=True)

    return show


def _progress_printer(what: str = "records", every: int = 100_000) -> Callable[[int], None]:
    started = time.monotonic()

    def show(records: int) -> None:
        rate = records / max(time.monotonic() - started, 1e-9)
        end = "\r" if sys.stderr.isatty() else "\n"
        if (sys.stderr.isatty() and records % 100 == 0) or records % every == 0:
            print(f"{records:,} {what} read ({rate:,.0f}/s)", end=end, file=sys.stderr, flush=True)

    return show


def _print_problems(problems: list[Problem], label: str = "rejected", report: Path | None = None) -> None:
    problem_report.show(label, problems, report)


def _write_report(path: Path | None, groups: Sequence[tuple[str, Sequence[Problem]]]) -> str:
    """Write the report file when asked; the summary's mention of it."""
    if path is None:
        return ""
    written = problem_report.write(path, groups)
    return f"; {written} problem(s) listed in {path}"


def _verb(unchanged: bool, validate_only: bool) -> str:
    return "valid" if validate_only else ("unchanged (same input already loaded)" if unchanged else "loaded")


def _print_phenopacket_report(report: PhenopacketReport, validate_only: bool, path: Path | None) -> None:
    _print_problems(report.problems, report=path)
    _print_problems(report.warnings, "not stored", path)
    _print_problems(report.repairs, "repaired", path)
    groups = [("rejected", report.problems), ("not stored", report.warnings), ("repaired", report.repairs)]
    listed = _write_report(path, groups)
    counts = ", ".join(f"{n} {c}" for c, n in sorted(report.counts.items())) or "no records"
    verb = _verb(report.unchanged, validate_only)
    line = f"dataset {report.dataset_id}: {verb}: {report.files} files: {counts}"
    if report.problems:
        line += f"; {len(report.problems)} record(s) rejected"
    if report.warnings:
        line += f"; {len(report.warnings)} part(s) of records not representable (listed above)"
    if report.repairs:
        line += f"; {len(report.repairs)} invalid value(s) repaired (listed above)"
    if report.exact_duplicates:
        line += f"; {report.exact_duplicates} exact duplicate(s) dropped"
    print(line + listed)


def _print_vcf_report(report: VcfReport, validate_only: bool, path: Path | None) -> None:
    _print_problems(report.problems, report=path)
    listed = _write_report(path, [("rejected", report.problems)])
    verb = _verb(report.unchanged, validate_only)
    line = (
        f"dataset {report.dataset_id}: {verb}: {report.records_read} records read, "
        f"{report.variants_written} variants, {report.samples} samples"
    )
    if report.problems:
        line += f"; {len(report.problems)} record(s) rejected"
    for reason, count in sorted(report.skipped.items()):
        line += f"; {count} skipped ({reason})"
    print(line + listed)


def _print_report(report: BffReport, validate_only: bool, path: Path | None) -> None:
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    _print_problems(report.problems, report=path)
    _print_problems(report.repairs, "repaired", path)
    listed = _write_report(path, [("rejected", report.problems), ("repaired", report.repairs)])
    counts = ", ".join(f"{n} {c}" for c, n in sorted(report.counts.items())) or "no records"
    verb = _verb(report.unchanged, validate_only)
    line = f"dataset {report.dataset_id}: {verb}: {counts}"
    if report.problems:
        line += f"; {len(report.problems)} record(s) rejected"
    if report.repairs:
        line += f"; {len(report.repairs)} invalid value(s) repaired (listed above)"
    if report.exact_duplicates:
        line += f"; {report.exact_duplicates} exact duplicate record(s) dropped"
    if report.other_datasets:
        line += f"; {report.other_datasets} record(s) of other datasets skipped"
    print(line + listed)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        if args.command == "vcf":
            vcf_report = asyncio.run(_run_vcf(args, None if args.validate_only else _store_target(args), monitor))
            _print_vcf_report(vcf_report, args.validate_only, args.report)
            monitor.finish(vcf_tally(vcf_report, args.validate_only))
            return 0
        if args.command == "phenopackets":
            target = None if args.validate_only else _store_target(args)
            pheno_report = asyncio.run(_run_phenopackets(args, target))
            _print_phenopacket_report(pheno_report, args.validate_only, args.report)
            monitor.finish(phenopacket_tally(pheno_report, args.validate_only))
            return 0
        report = asyncio.run(_run_bff(args, _store_target(args), monitor))
    except (IngestError, BeaconError) as exc:
        monitor.failed(exc)
        if isinstance(exc, LoadRefused):
            # The refused load's rejections are the reason; its report never reached the summary.
            _print_problems(exc.problems, report=args.report)
        if isinstance(exc, (RejectedRecords, LoadRefused)):
            _write_report(args.report, [("rejected", exc.problems)])
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; the store is unchanged", file=sys.stderr)
        return 130
    _print_report(report, args.validate_only, args.report)
    monitor.finish(bff_tally(report, args.validate_only))
    return 0
