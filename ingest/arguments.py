"""The `beacon-ingest` command line: its subcommands (one per source kind), options, defaults and examples."""

from __future__ import annotations

import argparse
from pathlib import Path

from beacon.cli_help import command_line
from beacon.config import DEFAULT_STORE_URI
from ingest import __version__, maintenance, withdraw
from ingest.errors import InputError
from ingest.metrics import add_metrics_arguments
from ingest.safeguard import RejectLimit

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
  beacon-ingest vcf national.vcf.gz --dataset nat --assembly GRCh38 --jobs 15  # with its .tbi or .csi index
  beacon-ingest vcf calls.vcf.gz --dataset d --assembly GRCh37 --chain hg19ToHg38.over.chain \\
      --target-assembly GRCh38 --fasta hg38.fa.gz""",
    "phenopackets": """examples:
  beacon-ingest phenopackets packets/ --dataset rare
  beacon-ingest phenopackets phenopacket-store.tar.xz --dataset rare --id-from subject --max-rejected 1%""",
}


def build_parser() -> argparse.ArgumentParser:
    """The `beacon-ingest` parser: one subcommand per source kind, the store and safeguard options on each."""
    commands = ("bff", "vcf", "phenopackets", "withdraw", "init", "gc")
    cli = command_line("beacon-ingest", "Load data into a Beacon store.", __version__, _EXAMPLES, commands)
    bff = cli.add("bff", "load a Beacon-Friendly-Format directory (classic or PI layout)")
    bff.add_argument("directory", type=Path, help="folder of <collection>.json[.gz] files")
    vcf = cli.add("vcf", "load VCF files (split, trimmed, counted) as the dataset's variants")
    vcf.add_argument("files", nargs="+", type=Path, help="VCF files (plain, gzip or BGZF)")
    vcf.add_argument("--assembly", required=True, help="GRCh38, GRCh37 or NCBI36 (synonyms accepted)")
    vcf.add_argument(
        "--samples",
        type=Path,
        help="sample table (TSV, CSV or JSON): individual, population, sex, country, ancestry (default: none)",
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
    freq = vcf.add_argument_group("frequency source (docs/populations.md)")
    freq.add_argument(
        "--populations",
        dest="populations_map",
        type=Path,
        help="YAML map of INFO fields to populations, and the source's names (default: detected from the header)",
    )
    freq.add_argument("--frequency-source", help="frequencyInPopulations source (default: the dataset's name)")
    freq.add_argument("--frequency-reference", help="its sourceReference (default: dataset:<id>)")
    freq.add_argument("--frequency-version", help="its version (default: none)")
    freq.add_argument("--overall-population", help="the name of the population of all samples (default: ALL)")
    vcf.add_argument(
        "--on-error",
        choices=("repair", "skip", "fail"),
        default="repair",
        help="invalid records: skipped and reported (repair and skip: a VCF record has no sub-value to repair) "
        "or load nothing (default: %(default)s)",
    )
    vcf.add_argument(
        "--jobs",
        type=_positive,
        metavar="N",
        help="parser processes over regions of bgzipped files with a .tbi or .csi index; the rows are the same "
        "whatever N (default: one per CPU but one, left to the writer, at most one per GiB of available memory; one "
        "without an index)",
    )
    vcf.add_argument("--validate-only", action="store_true", help=_VALIDATE_ONLY)
    pheno = cli.add("phenopackets", "load GA4GH phenopackets v2 (JSON or YAML files, folders, tar archives)")
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
    for p in cli.sub.choices.values():
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
        p.add_argument(
            "--republish",
            action="store_true",
            help="load a dataset that was withdrawn, publishing it again (default: off, refused)",
        )
        add_metrics_arguments(p)
    withdraw.add_parser(cli.sub)
    for p in (vcf, pheno):
        p.add_argument("--name", help="the dataset record's name (default: the dataset id, or the name it has)")
        p.add_argument("--description", help="the dataset record's description (default: from the input)")
    bff.add_argument(
        "--assembly", help="GRCh38, GRCh37 or NCBI36 (default: inferred from RefSeq accessions in the records)"
    )
    bff.add_argument("--on-error", choices=("repair", "skip", "fail"), default="repair", help=_ON_ERROR)
    bff.add_argument("--validate-only", action="store_true", help=_VALIDATE_ONLY)
    maintenance.add_commands(cli.sub)  # after the load options above, which they do not take
    return cli.parser


def _reject_limit(text: str) -> RejectLimit:
    try:
        return RejectLimit.parse(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--max-rejected: ")) from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a whole number of 1 or more, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value
