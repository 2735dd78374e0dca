"""`beacon-ingest bff | vcf | phenopackets`: parse arguments, run a loader, print one line per problem."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from beacon.config import DEFAULT_STORE_URI, load_config
from beacon.errors import BeaconError
from beacon.store import open_store
from beacon.store.base import StoreOptions
from ingest import __version__
from ingest.bff import BffReport, load_bff
from ingest.errors import IngestError, Problem
from ingest.metrics import IngestMonitor, add_metrics_arguments, bff_tally, phenopacket_tally, vcf_tally
from ingest.phenopackets.load import PhenopacketOptions, PhenopacketReport, load_phenopackets
from ingest.vcf.load import VcfOptions, VcfReport, load_vcf

_SHOWN_PROBLEMS = 50
_ON_ERROR = "invalid records: skip them (reported) or load nothing (default: %(default)s)"
_VALIDATE_ONLY = "check every record, store nothing (default: off)"
_EXAMPLES = {
    "beacon-ingest": """examples:
  beacon-ingest bff data/cineca --dataset cineca --assembly GRCh37
  beacon-ingest vcf chr22.vcf.gz --dataset cineca --assembly GRCh37 --samples samples.tsv
  beacon-ingest phenopackets phenopackets.tar.xz --dataset rare --store sqlite:///var/beacon.db""",
    "bff": """examples:
  beacon-ingest bff data/cineca --dataset cineca --assembly GRCh37
  beacon-ingest bff data/pi-format --dataset cineca --validate-only""",
    "vcf": """examples:
  beacon-ingest vcf chr22.vcf.gz --dataset cineca --assembly GRCh37
  beacon-ingest vcf chr*.vcf.gz --dataset g1k --assembly hg19 --sites-only --store mongodb://db:27017/beacon
  beacon-ingest vcf calls.vcf.gz --dataset d --assembly GRCh37 --chain hg19ToHg38.over.chain \\
      --target-assembly GRCh38 --fasta hg38.fa.gz""",
    "phenopackets": """examples:
  beacon-ingest phenopackets packets/ --dataset rare
  beacon-ingest phenopackets phenopacket-store.tar.xz --dataset rare --id-from subject --on-error fail""",
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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{bff,vcf,phenopackets}")
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
    vcf.add_argument("--on-error", choices=("skip", "fail"), default="skip", help=_ON_ERROR)
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
    pheno.add_argument("--on-error", choices=("skip", "fail"), default="skip", help=_ON_ERROR)
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
        add_metrics_arguments(p)
    bff.add_argument(
        "--assembly", help="GRCh38, GRCh37 or NCBI36 (default: inferred from RefSeq accessions in the records)"
    )
    bff.add_argument("--on-error", choices=("skip", "fail"), default="skip", help=_ON_ERROR)
    bff.add_argument("--validate-only", action="store_true", help=_VALIDATE_ONLY)
    return parser


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


async def _run_bff(args: argparse.Namespace, target: tuple[str, StoreOptions], monitor: IngestMonitor) -> BffReport:
    if args.validate_only:
        return await load_bff(
            args.directory,
            args.dataset,
            None,
            assembly=args.assembly,
            on_error=args.on_error,
            progress=monitor.count_record,
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
            progress=monitor.count_record,
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
    )
    printer = _progress_printer()

    def progress(records: int) -> None:
        printer(records)
        monitor.count_total(records)

    if target is None:
        return await load_vcf(args.files, options, None, progress=progress)
    store = open_store(*target)
    await store.open()
    try:
        return await load_vcf(args.files, options, store, progress=progress)
    finally:
        await store.close()


async def _run_phenopackets(args: argparse.Namespace, target: tuple[str, StoreOptions] | None) -> PhenopacketReport:
    options = PhenopacketOptions(
        dataset_id=args.dataset, assembly=args.assembly, on_error=args.on_error, id_from=args.id_from, part=args.part
    )
    progress = _progress_printer("files", every=1000)
    if target is None:
        return await load_phenopackets(args.inputs, options, None, progress=progress)
    store = open_store(*target)
    await store.open()
    try:
        return await load_phenopackets(args.inputs, options, store, progress=progress)
    finally:
        await store.close()


def _progress_printer(what: str = "records", every: int = 100_000) -> Callable[[int], None]:
    started = time.monotonic()

    def show(records: int) -> None:
        rate = records / max(time.monotonic() - started, 1e-9)
        end = "\r" if sys.stderr.isatty() else "\n"
        if (sys.stderr.isatty() and records % 100 == 0) or records % every == 0:
            print(f"{records:,} {what} read ({rate:,.0f}/s)", end=end, file=sys.stderr, flush=True)

    return show


def _print_problems(problems: list[Problem], label: str = "rejected") -> None:
    for problem in problems[:_SHOWN_PROBLEMS]:
        print(f"{label}: {problem}", file=sys.stderr)
    if len(problems) > _SHOWN_PROBLEMS:
        print(f"{label}: … and {len(problems) - _SHOWN_PROBLEMS} more", file=sys.stderr)


def _verb(unchanged: bool, validate_only: bool) -> str:
    return "valid" if validate_only else ("unchanged (same input already loaded)" if unchanged else "loaded")


def _print_phenopacket_report(report: PhenopacketReport, validate_only: bool) -> None:
    _print_problems(report.problems)
    _print_problems(report.warnings, "not stored")
    counts = ", ".join(f"{n} {c}" for c, n in sorted(report.counts.items())) or "no records"
    verb = _verb(report.unchanged, validate_only)
    line = f"dataset {report.dataset_id}: {verb}: {report.files} files: {counts}"
    if report.problems:
        line += f"; {len(report.problems)} record(s) rejected"
    if report.warnings:
        line += f"; {len(report.warnings)} part(s) of records not representable (listed above)"
    if report.exact_duplicates:
        line += f"; {report.exact_duplicates} exact duplicate(s) dropped"
    print(line)


def _print_vcf_report(report: VcfReport, validate_only: bool) -> None:
    _print_problems(report.problems)
    verb = _verb(report.unchanged, validate_only)
    line = (
        f"dataset {report.dataset_id}: {verb}: {report.records_read} records read, "
        f"{report.variants_written} variants, {report.samples} samples"
    )
    if report.problems:
        line += f"; {len(report.problems)} record(s) rejected"
    for reason, count in sorted(report.skipped.items()):
        line += f"; {count} skipped ({reason})"
    print(line)


def _print_report(report: BffReport, validate_only: bool) -> None:
    _print_problems(report.problems)
    counts = ", ".join(f"{n} {c}" for c, n in sorted(report.counts.items())) or "no records"
    verb = _verb(report.unchanged, validate_only)
    line = f"dataset {report.dataset_id}: {verb}: {counts}"
    if report.problems:
        line += f"; {len(report.problems)} record(s) rejected"
    if report.exact_duplicates:
        line += f"; {report.exact_duplicates} exact duplicate record(s) dropped"
    if report.other_datasets:
        line += f"; {report.other_datasets} record(s) of other datasets skipped"
    print(line)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
            _print_vcf_report(vcf_report, args.validate_only)
            monitor.finish(vcf_tally(vcf_report, args.validate_only))
            return 0
        if args.command == "phenopackets":
            target = None if args.validate_only else _store_target(args)
            pheno_report = asyncio.run(_run_phenopackets(args, target))
            _print_phenopacket_report(pheno_report, args.validate_only)
            monitor.finish(phenopacket_tally(pheno_report, args.validate_only))
            return 0
        report = asyncio.run(_run_bff(args, _store_target(args), monitor))
    except (IngestError, BeaconError) as exc:
        monitor.failed(exc)
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; the store is unchanged", file=sys.stderr)
        return 130
    _print_report(report, args.validate_only)
    monitor.finish(bff_tally(report, args.validate_only))
    return 0
