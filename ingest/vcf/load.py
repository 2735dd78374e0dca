"""`beacon-ingest vcf`: stream VCF files into one part of a dataset, normalised, counted and annotated.

Parsing yields the load's bulk batches (beacon/store/bulk.py, built in ingest/vcf/batches.py); from a
few MB of input on it runs in a child process (ingest/vcf/worker.py), so parsing the next batch
overlaps inserting the last. Whichever backend, the store consumes the batches as they come and
swaps the part in at once, so nothing of a failed or interrupted load becomes visible. cyvcf2
errors stop in this package and become InputError; per-record problems are collected with file,
line and field.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from beacon.genome.assemblies import canonical_assembly
from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import Query
from beacon.store.base import DatasetLoad, LoadCheck, Store
from beacon.store.bulk import LoadBatch
from ingest.dataset_record import planned_record
from ingest.errors import IngestError, InputError
from ingest.safeguard import RejectLimit, Safeguard
from ingest.vcf.batches import Job, drain, row_batches
from ingest.vcf.intact import IntactCheck
from ingest.vcf.parallel import ParallelParsers, default_jobs
from ingest.vcf.parse import Progress, VcfOptions, VcfReport
from ingest.vcf.parser_start import take_early
from ingest.vcf.reader import check_header, header_value
from ingest.vcf.regions import NotSplittable, split
from ingest.vcf.samples import SampleInfo, read_samples
from ingest.vcf.worker import ParserProcess

__all__ = ["FORMAT_VERSION", "VcfOptions", "VcfReport", "digest_of", "load_vcf"]

FORMAT_VERSION = "vcf-1"
# What the store is handed besides the batches: the load's check (ingest/safeguard.py) and the phase reporter.
_Hooks = tuple[LoadCheck, Callable[[str], None] | None]
# Input size (bytes, as stored) from which a child parser pays for its start (about 0.4 s of imports,
# overlapped with this process's preparation): bgzipped sites-only VCF is ~50 bytes a record.
CHILD_FROM_BYTES = 2_000_000


def digest_of(paths: list[Path], options: VcfOptions) -> str:
    settings = (
        FORMAT_VERSION,
        options.dataset_id,
        options.assembly,
        options.target_assembly,
        options.sites_only,
        options.counts_only,
        options.fasta,
        options.on_error,
        options.name,
        options.description,
        options.source_names(),
    )
    h = hashlib.sha256("\0".join(map(str, settings)).encode())
    extra = [p for p in (options.samples_table, options.chain, options.populations_map) if p is not None]
    for path in [*paths, *extra]:
        h.update(f"\0{path.name}\0".encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _prepare(paths: list[Path], samples_table: Path | None) -> tuple[dict[str, SampleInfo], IntactCheck]:
    """File checks and the sample table, off the event loop; plain gzip inputs are read to their end
    beside the load (ingest/vcf/intact.py)."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        msg = f"{missing[0]}: no such file"
        raise InputError(msg)
    for path in paths:
        check_header(path)
    intact = IntactCheck(paths)
    return (read_samples(samples_table) if samples_table else {}), intact


def _described(paths: list[Path]) -> str:
    """A description from the files: their names and the first header's ##source, if any."""
    source = header_value(paths[0], "source")
    names = ", ".join(p.name for p in paths)
    return f"Variants of {names} ({source})" if source else f"Variants of {names}"


async def _existing(store: Store | None, dataset_id: str) -> tuple[dict[str, str], list[str]]:
    if store is None:
        return {}, []
    owners = await store.record_keys("biosamples", dataset_id, "individual")
    cohorts = [d["id"] for d in await store.find(Query("cohorts", (dataset_id,)))]
    return {b: people[0] for b, people in owners.items() if people}, cohorts


def _checked(options: VcfOptions) -> VcfOptions:
    """Options with canonical assembly names. :raise InputError: unknown assembly, or a chain without target."""
    assembly = canonical_assembly(options.assembly)
    if assembly is None:
        msg = f"--assembly: unknown assembly {options.assembly!r} (use GRCh38, GRCh37 or NCBI36)"
        raise InputError(msg)
    target = canonical_assembly(options.target_assembly) if options.target_assembly else None
    if options.target_assembly and target is None:
        msg = f"--target-assembly: unknown assembly {options.target_assembly!r}"
        raise InputError(msg)
    if (options.chain is None) != (target is None):
        msg = "--chain and --target-assembly go together"
        raise InputError(msg)
    # A VCF record has no sub-value to repair: repair skips what it cannot store, as skip does.
    on_error = "skip" if options.on_error == "repair" else options.on_error
    return replace(options, assembly=assembly, target_assembly=target, on_error=on_error)


def _child(
    paths: list[Path], options: VcfOptions, wanted: bool | None, notice: Callable[[str], None] | None
) -> ParserProcess | ParallelParsers | None:
    """The parser processes of a load: none (parse here), one, or `--jobs` over the files' regions."""
    if wanted is None:
        wanted = sum(p.stat().st_size for p in paths if p.is_file()) >= CHILD_FROM_BYTES
    if not wanted:
        return None
    jobs = options.jobs or default_jobs()
    if jobs > 1:
        try:
            if options.chain is not None:
                msg = "--chain: lifted alleles of two regions may fall together or out of order"
                raise NotSplittable(msg)  # noqa: TRY301
            regions = split(paths)
        except NotSplittable as exc:
            if notice is not None:
                notice(f"one VCF parser, not {jobs}: {exc}")
        else:
            if len(regions) > 1:
                return ParallelParsers(jobs, regions, take_early())
    return ParserProcess(take_early())


async def load_vcf(
    paths: list[Path],
    options: VcfOptions,
    store: Store | None,
    *,
    table: EntryTypeTable | None = None,
    progress: Progress | None = None,
    parse_in_child: bool | None = None,
    allow_empty: bool = False,
    max_rejected: RejectLimit | None = None,
    phase: Callable[[str], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> VcfReport:
    """Replace part `options.part` of the dataset with these VCFs (store None: validate only).

    The load is refused as ingest/safeguard.py says (`allow_empty`, `max_rejected`); `phase` is told the
    store's phases after the records; `notice` is told, in one line, why `options.jobs` parsers could not be used.

    `parse_in_child` None: parse in a child process when storing CHILD_FROM_BYTES or more of input; in
    `options.jobs` processes (default: ingest/vcf/parallel.py's `default_jobs`) over regions of bgzipped,
    indexed files.
    :raise InputError: unreadable input, unknown assembly or sample table problems.
    :raise RejectedRecords: `on_error="fail"` and a record is invalid (nothing is written).
    :raise LoadRefused: the load would replace the part with less than it held (nothing changes).
    """
    options = _checked(options)
    # Started first: the child's imports overlap the checks and store queries below.
    child = await asyncio.to_thread(_child, paths, options, parse_in_child, notice) if store is not None else None
    try:
        samples_info, intact = await asyncio.to_thread(_prepare, paths, options.samples_table)
        try:
            report = await _load(paths, options, store, child, samples_info, intact, table, progress,
                                 (allow_empty, max_rejected, phase))  # fmt: skip
        except IngestError:
            await asyncio.to_thread(intact.verdict)  # a cut input explains the failure
            raise
        await asyncio.to_thread(intact.verdict)
        return report
    finally:
        if child is not None:
            await asyncio.to_thread(child.close)


async def _load(
    paths: list[Path],
    options: VcfOptions,
    store: Store | None,
    child: ParserProcess | ParallelParsers | None,
    samples_info: dict[str, SampleInfo],
    intact: IntactCheck,
    table: EntryTypeTable | None,
    progress: Progress | None,
    rules: tuple[bool, RejectLimit | None, Callable[[str], None] | None],
) -> VcfReport:
    allow_empty, max_rejected, phase = rules
    owners, cohorts = await _existing(store, options.dataset_id)
    record = await planned_record(store, options.dataset_id, options.part, "vcf", options.name, options.description)
    if record is not None and record.description is None:
        record = replace(record, described=await asyncio.to_thread(_described, paths))
    job = Job(paths, options, samples_info, owners, cohorts, table or EntryTypeTable(), record)
    report = VcfReport(options.dataset_id)
    accepted = lambda: report.variants_written  # noqa: E731
    guard = Safeguard(options.dataset_id, accepted, lambda: report.problems, allow_empty, max_rejected)

    def check(previous: Mapping[str, int] | None, new: Mapping[str, int]) -> None:
        intact.verdict()  # nothing of a cut input becomes visible
        guard.check(previous, new)

    if child is None:
        return await _load_here(job, report, store, progress, (check, phase))
    assert store is not None
    digest = await asyncio.to_thread(digest_of, paths, options)
    await asyncio.to_thread(child.start, job)
    return await _store(job, report, store, digest, child.batches(job, report, progress), (check, phase))


async def _load_here(
    job: Job, report: VcfReport, store: Store | None, progress: Progress | None, hooks: _Hooks
) -> VcfReport:
    """Parse in this process, on the store's worker thread (or a thread of its own when validating)."""
    lifter, reference = await asyncio.to_thread(job.aids)
    try:
        batches = row_batches(job.parser(report, progress, lifter, reference), job)
        if store is None:
            await asyncio.to_thread(drain, batches)
            return report
        digest = await asyncio.to_thread(digest_of, job.paths, job.options)
        return await _store(job, report, store, digest, batches, hooks)
    finally:
        if reference is not None:
            reference.close()


async def _store(
    job: Job, report: VcfReport, store: Store, digest: str, batches: Iterator[LoadBatch], hooks: _Hooks
) -> VcfReport:
    check, phase = hooks
    options = job.options
    assembly = options.stored_assembly
    load = DatasetLoad(options.dataset_id, assembly, digest, batches, part=options.part, check=check, phase=phase)
    summary = await store.replace_dataset(load)
    report.unchanged = summary.unchanged
    return report
