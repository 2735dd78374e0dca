"""`--jobs N`: N parser processes read the regions of indexed VCFs, one writer stores them in file order.

The regions (ingest/vcf/regions.py) are dealt out in turn: parser i reads regions i, i+N, i+2N, …
Each region's rows come numbered from 1 and its problems with lines counted from the region's
start; the parent takes the regions in file order, adding the records numbered and the lines read
before, so the batches the store gets number and order every record as one parser would, and every
problem names the line it would name. One thread per parser reads ahead into a short queue, so a
parser whose region is not next keeps parsing while the store writes: at most `_AHEAD` batches
wait per parser, so memory stays flat however large the file.

How many parsers by default (`default_jobs`): one per CPU but one, which the writer needs (a
sites-only load spends about as much CPU writing as parsing: on 2 cores one parser and the writer
already fill both), at most one per `_MEMORY_PER_PARSER` of available memory, at least one, never
more than there are regions.
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from beacon.store.bulk import LoadBatch, LoadPacker
from ingest.errors import InputError, Problem, RejectedRecords
from ingest.vcf.batches import Job, add_dataset_record
from ingest.vcf.parse import PROGRESS_EVERY, Progress, VcfReport
from ingest.vcf.regions import Region
from ingest.vcf.worker import ParserProcess, _Delta

# Batches (or messages) a parser may have waiting in the parent before it blocks on its pipe.
_AHEAD = 4
# Resident memory one parser may take at its peak (a batch being built, one pickled, cyvcf2's
# buffers: under 300 MB measured on 2,500-sample files), with room for the writer.
_MEMORY_PER_PARSER = 1 << 30


def default_jobs() -> int:
    """Parsers to run when `--jobs` is not given: the CPUs this process may use but one, capped by available memory."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus - 1, _available_memory() // _MEMORY_PER_PARSER))


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:  # noqa: PTH123
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return _MEMORY_PER_PARSER  # unknown: one parser's worth


@dataclass
class _Reading:
    """One parser process, the thread that reads its messages, and what it reported last."""

    process: ParserProcess
    messages: queue.Queue[tuple[str, Any]] = field(default_factory=lambda: queue.Queue(_AHEAD))
    last: _Delta = field(default_factory=lambda: _Delta(0, 0, 0))
    read_before_region: int = 0  # its records_read at the start of the region now being taken


class ParallelParsers:
    """Parser processes over regions; `batches` streams the load's rows in file order, `close` ends them all."""

    def __init__(self, jobs: int, regions: list[Region], early: Any = None) -> None:
        """`early`: a process started by parser_start.start_early, adopted as the first parser."""
        self._regions = regions
        count = max(1, min(jobs, len(regions)))
        self._readings = [_Reading(ParserProcess(early if i == 0 else None)) for i in range(count)]
        self._closing = threading.Event()

    def start(self, job: Job) -> None:
        """Send each parser its regions and wait for their setup. :raise InputError: as ParserProcess.start."""
        n = len(self._readings)
        for i, reading in enumerate(self._readings):
            reading.process.send(replace(job, regions=tuple(self._regions[i::n]), record=None), samples=i == 0)
        for reading in self._readings:
            reading.process.wait_ready(job)
        for reading in self._readings:
            threading.Thread(target=self._read, args=(reading, job), daemon=True).start()

    def _read(self, reading: _Reading, job: Job) -> None:
        """Move the parser's messages to its queue until it is done, fails, or the load is closed."""
        while not self._closing.is_set():
            try:
                message = reading.process.next_message(job)
            except Exception as exc:  # noqa: BLE001  this thread's top-level handler: the loader raises it
                message = ("failed", exc)
            while not self._closing.is_set():
                try:
                    reading.messages.put(message, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if message[0] in ("done", "failed"):
                return

    def batches(self, job: Job, report: VcfReport, progress: Progress | None) -> Iterator[LoadBatch]:
        """Every region's rows in file order, renumbered; then the dataset record. :raise: the parsers' failures."""
        numbered = 0  # records numbered before the region being taken
        lines_before: dict[int, int] = {}  # per file: records read in its regions taken so far
        shown = 0
        n = len(self._readings)
        for k, region in enumerate(self._regions):
            reading = self._readings[k % n]
            before = lines_before.get(region.file, 0)
            last_number = 0
            while True:
                kind, payload = self._take(reading, job, region, before)
                delta: _Delta = payload[1] if kind == "batch" else payload
                self._merge(reading, delta, report, before)
                shown = _show_progress(progress, report.records_read, shown)
                if kind == "batch":
                    batch: LoadBatch = payload[0]
                    if batch.records:
                        last_number = batch.records[-1][0]
                    yield _renumbered(batch, numbered)
                elif kind == "region":
                    break
            read = reading.last.records_read - reading.read_before_region
            reading.read_before_region = reading.last.records_read
            lines_before[region.file] = before + read
            numbered += last_number
        for reading in self._readings:
            kind, payload = self._take(reading, job, None, 0)
            assert kind == "done", kind
            self._merge(reading, payload, report, 0)
        if job.record is not None:
            packer = LoadPacker(job.options.dataset_id, job.options.part)
            packer.count = numbered
            add_dataset_record(packer, job, report, job.context())
            yield packer.take()

    def _take(self, reading: _Reading, job: Job, region: Region | None, before: int) -> tuple[str, Any]:
        kind, payload = reading.messages.get()
        if kind != "failed":
            return kind, payload
        name = job.paths[region.file].name if region is not None else ""
        if isinstance(payload, RejectedRecords):
            raise RejectedRecords([_shifted(p, before) for p in payload.problems]) from None
        if isinstance(payload, InputError) and region is not None:
            raise InputError(_relined(str(payload), name, before)) from None
        raise payload

    def _merge(self, reading: _Reading, delta: _Delta, report: VcfReport, before: int) -> None:
        """Add the parser's progress since its last message to the report, problems on the file's lines."""
        last = reading.last
        report.records_read += delta.records_read - last.records_read
        report.variants_written += delta.variants_written - last.variants_written
        report.samples += delta.samples - last.samples
        for reason, count in delta.skipped.items():
            report.skipped[reason] = report.skipped.get(reason, 0) + count - last.skipped.get(reason, 0)
        report.problems.extend(_shifted(p, before) for p in delta.problems)
        reading.last = replace(delta, problems=[])

    def close(self) -> None:
        self._closing.set()
        for reading in self._readings:
            reading.process.close()


def _show_progress(progress: Progress | None, records: int, shown: int) -> int:
    """Tell `progress` each multiple of PROGRESS_EVERY passed, as one parser would; the last one told."""
    if progress is None:
        return shown
    while shown + PROGRESS_EVERY <= records:
        shown += PROGRESS_EVERY
        progress(shown)
    return shown


def _shifted(problem: Problem, before: int) -> Problem:
    if not problem.is_line or problem.record is None or not before:
        return problem
    return replace(problem, record=problem.record + before)


def _relined(message: str, name: str, before: int) -> str:
    """A parser's message with the region's line numbers (`file:N:`, `after line N`) made the file's."""
    if not before:
        return message
    shift: Callable[[re.Match[str]], str] = lambda m: f"{m[1]}{int(m[2]) + before}"  # noqa: E731
    return re.sub(rf"^({re.escape(name)}:(?: after line )?)(\d+)", shift, message, count=1)


def _renumbered(batch: LoadBatch, offset: int) -> LoadBatch:
    """The batch with its records numbered `offset` further (its region's records come numbered from 1)."""
    batch.offset += offset
    return batch
