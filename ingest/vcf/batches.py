"""One VCF load as bulk batches (or, the general way, as documents), in the process that parses.

`row_batches` is what a load streams: sample records and variants, indexed and encoded where they are
parsed into the store-neutral bulk columns (beacon/store/bulk.py), so the writer only inserts. Plain
alleles skip the document (ingest/vcf/rows.py); the others, and every record of `documents`, go
through `site_document` and the store's generic indexer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beacon.errors import ConfigError
from beacon.genome.liftover import Lifter
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.store.base import Document
from beacon.store.bulk import LoadBatch, LoadPacker
from beacon.store.indexing import LoadContext, index_record
from ingest.dataset_record import DatasetRecord
from ingest.errors import InputError
from ingest.vcf.fasta import Reference
from ingest.vcf.parse import Progress, Site, VcfOptions, VcfParser, VcfReport
from ingest.vcf.records import site_document
from ingest.vcf.regions import Region
from ingest.vcf.rows import DirectRows
from ingest.vcf.samples import SampleInfo


@dataclass(frozen=True)
class Job:
    """Everything parsing needs, picklable: the files, options (assemblies canonical) and what the store holds."""

    paths: list[Path]
    options: VcfOptions
    samples_info: dict[str, SampleInfo] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # biosample -> individual, already in the dataset
    cohorts: list[str] = field(default_factory=list)  # the dataset's cohorts
    table: EntryTypeTable = field(default_factory=EntryTypeTable)
    record: DatasetRecord | None = None  # the dataset record the load brings, last (ingest/dataset_record.py)
    regions: tuple[Region, ...] = ()  # with --jobs: the regions of `paths` this parser reads (ingest/vcf/regions.py)

    def context(self) -> LoadContext:
        return LoadContext(self.options.dataset_id, self.options.stored_assembly, dict(self.owners), list(self.cohorts))

    def aids(self) -> tuple[Lifter | None, Reference | None]:
        """The liftover chain and the reference FASTA the options name, opened (the caller closes the FASTA).

        :raise InputError: the chain cannot be read.
        """
        options = self.options
        lifter = None
        if options.chain is not None and options.target_assembly is not None:
            try:
                lifter = Lifter.load(options.assembly, options.target_assembly, options.chain)
            except ConfigError as exc:
                raise InputError(exc.message) from exc
        return lifter, Reference.open(options.fasta) if options.fasta else None

    def parser(
        self, report: VcfReport, progress: Progress | None, lifter: Lifter | None, reference: Reference | None
    ) -> VcfParser:
        return VcfParser(self.paths, self.options, report, self.samples_info, self.owners, progress, lifter, reference)


def _annotated(site: Site) -> bool:
    return bool(site.record.INFO.get("ANN") or site.record.INFO.get("CSQ"))


def row_batches(parser: VcfParser, job: Job) -> Iterator[LoadBatch]:
    """The load's rows, about BATCH_WEIGHT rows per batch.

    :raise InputError: unreadable input or undecodable genotypes.
    :raise RejectedRecords: `on_error="fail"` and a record is invalid.
    """
    # One context for the load: indexing the sample records teaches it their owners, which carriers need.
    ctx = job.context()
    packer = LoadPacker(job.options.dataset_id, job.options.part)
    yield from _sample_rows(parser, job, packer, ctx)
    direct = DirectRows(packer, ctx, job.options.stored_assembly, job.table.variant_type(),
                        counts_only=job.options.counts_only)  # fmt: skip
    for path in parser.paths:
        opened = _open(parser, path)
        direct.start_file(parser.file)
        yield from _site_rows(parser, (packer, ctx, direct, job.table.variant_type()), opened, None)
    if job.record is not None:
        add_dataset_record(packer, job, parser.report, ctx)
    yield packer.take()


def region_batches(parser: VcfParser, job: Job, samples: bool) -> Iterator[LoadBatch | Region]:
    """The rows of `job.regions`, each region's numbered from 1 and followed by the region itself (`--jobs`).

    `samples`: the sample records come first, numbered with the first region's. The dataset record
    is left to whoever gathers the regions. :raise: as `row_batches`.
    """
    ctx = job.context()
    packer = LoadPacker(job.options.dataset_id, job.options.part)
    if samples:
        yield from _sample_rows(parser, job, packer, ctx)
    else:
        # Indexed, not kept: the context learns the new samples' owners, which carrier keys name; the
        # parser that brings the records counts the samples.
        for _ in _sample_rows(parser, job, LoadPacker(job.options.dataset_id, job.options.part), ctx):
            pass
        parser.report.samples = 0
    direct = DirectRows(packer, ctx, job.options.stored_assembly, job.table.variant_type(),
                        counts_only=job.options.counts_only)  # fmt: skip
    opened: tuple[Path, Any, int] | None = None
    for region in job.regions:
        path = job.paths[region.file]
        if opened is None or opened[0] != path:
            opened = _open(parser, path)
            direct.start_file(parser.file)
        yield from _site_rows(parser, (packer, ctx, direct, job.table.variant_type()), opened, region)
        if packer.batch.records:
            yield packer.take()
        yield region
        packer.count = 0


def _open(parser: VcfParser, path: Path) -> tuple[Path, Any, int]:
    try:
        vcf, header_lines = parser.open(path)
    except UnicodeDecodeError as exc:
        msg = f"{path.name}: after line 0: not UTF-8 text ({exc.reason} at byte {exc.start} of a field)"
        raise InputError(msg) from exc
    return path, vcf, header_lines


def _sample_rows(parser: VcfParser, job: Job, packer: LoadPacker, ctx: LoadContext) -> Iterator[LoadBatch]:
    for entry, doc in parser.sample_documents(job.table):
        packer.add(index_record(entry, doc, ctx))
        if packer.full:
            yield packer.take()


def _site_rows(
    parser: VcfParser,
    writing: tuple[LoadPacker, LoadContext, DirectRows, EntryType],
    opened: tuple[Path, Any, int],
    region: Region | None,
) -> Iterator[LoadBatch]:
    packer, ctx, direct, variants = writing
    path, vcf, header_lines = opened
    report = parser.report
    annotated = parser.file.header.annotated
    file = parser.file
    line = header_lines
    try:
        for site in parser.sites(path, vcf, header_lines, region):
            line = site.line
            if site.plain and not (annotated and _annotated(site)):
                direct.add(site, file)
            else:
                variant = site_document(parser, site)
                if variant is None:
                    continue
                packer.add(index_record(variants, variant, ctx))
            report.variants_written += 1
            if packer.full:
                yield packer.take()
    except UnicodeDecodeError as exc:
        # cyvcf2 decodes text fields when they are read: a damaged byte surfaces here, not in the reader.
        msg = f"{path.name}: after line {line}: not UTF-8 text ({exc.reason} at byte {exc.start} of a field)"
        raise InputError(msg) from exc


def add_dataset_record(packer: LoadPacker, job: Job, report: VcfReport, ctx: LoadContext) -> None:
    """The dataset record the load brings, with the counts of `report` (it comes last)."""
    assert job.record is not None
    variants, biosamples = job.table.variant_type(), job.table.by_id("biosample")
    counts = {variants.collection: report.variants_written, biosamples.collection: report.samples}
    doc = job.record.document(job.options.stored_assembly, {c: n for c, n in counts.items() if n})
    packer.add(index_record(job.table.dataset_type(), doc, ctx))


def documents(parser: VcfParser, table: EntryTypeTable) -> Iterator[tuple[EntryType, Document]]:
    """The load as (entry type, document) pairs, every allele through `site_document` (what the rows must equal)."""
    yield from parser.sample_documents(table)
    variants = table.variant_type()
    for path in parser.paths:
        vcf, header_lines = parser.open(path)
        for site in parser.sites(path, vcf, header_lines):
            doc = site_document(parser, site)
            if doc is not None:
                parser.report.variants_written += 1
                yield variants, doc


def drain(batches: Iterator[Any]) -> None:
    """Consume a stream for its side effects (validation: the report)."""
    for _ in batches:
        pass
