"""Parsing in a child process, so parsing the next rows overlaps the store inserting the last ones (two cores).

The parent starts the child (`main` below) early (its imports overlap the parent's own
preparation), sends the pickled Job on its stdin and reads pickled messages from its stdout:

    ("ready", None)            setup done (liftover chain and FASTA read)
    ("batch", (LoadBatch, d))  rows, with the report's progress `d` (_Delta)
    ("progress", d)            records read so far, every 10,000
    ("region", d)              the end of one of the job's regions (`--jobs`: ingest/vcf/parallel.py)
    ("done", d)                the end
    ("rejected", problems)     --on-error fail met a bad record    -> RejectedRecords in the parent
    ("input", message)         unreadable input                     -> InputError in the parent
    ("crash", traceback)       a bug                                -> RuntimeError in the parent

The pipe holds one batch: the child parses at most one batch ahead. If the parent dies (even by
kill -9) the child's next write fails and it exits; the store never saw an uncommitted row.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from beacon.store.bulk import LoadBatch
from ingest.errors import InputError, Problem, RejectedRecords
from ingest.vcf.batches import Job, region_batches, row_batches
from ingest.vcf.parse import Progress, VcfReport
from ingest.vcf.parser_start import start_parser


@dataclass(frozen=True)
class _Delta:
    """What changed in the child's report since the last message."""

    records_read: int
    variants_written: int
    samples: int
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def apply(self, report: VcfReport) -> None:
        report.records_read = self.records_read
        report.variants_written = self.variants_written
        report.samples = self.samples
        report.skipped = dict(self.skipped)
        report.problems.extend(self.problems)


class ParserProcess:
    """A running child parser; `batches` streams its rows, `close` ends it whatever state it is in."""

    def __init__(self, process: subprocess.Popen[bytes] | None = None) -> None:
        """Adopt `process` (parser_start.start_parser, possibly started early) or start one."""
        self._child = process if process is not None else start_parser()
        self._records_read = 0  # as last reported, for the message if the child dies

    def start(self, job: Job) -> None:
        """Send the job and wait for the child's setup. :raise InputError: the chain or FASTA cannot be read."""
        self.send(job)
        self.wait_ready(job)

    def send(self, job: Job, *, samples: bool = True) -> None:
        """Send the job (with its regions, if any; `samples`: this child brings the sample records)."""
        assert self._child.stdin is not None
        try:
            pickle.dump((job, samples), self._child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._child.stdin.close()
        except BrokenPipeError:
            pass  # the child is gone: _next says how

    def wait_ready(self, job: Job) -> None:
        """Wait for the child's setup. :raise InputError: the chain or FASTA cannot be read."""
        kind, _ = self._next(job)
        assert kind == "ready", kind

    def batches(self, job: Job, report: VcfReport, progress: Progress | None) -> Iterator[LoadBatch]:
        """The child's row batches, its report merged into `report` as they come."""
        while True:
            kind, payload = self._next(job)
            delta: _Delta = payload[1] if kind == "batch" else payload
            delta.apply(report)
            self._records_read = report.records_read
            if kind == "batch":
                yield payload[0]
            elif kind == "progress":
                if progress is not None:
                    progress(report.records_read)
            else:
                return

    def next_message(self, job: Job) -> tuple[str, Any]:
        """The child's next message (kind, payload). :raise: the child's failure, as `batches` does."""
        return self._next(job)

    def _next(self, job: Job) -> tuple[str, Any]:
        assert self._child.stdout is not None
        try:
            kind, payload = pickle.load(self._child.stdout)
        except EOFError:
            # Killed, or crashed inside htslib: nothing of the load was committed.
            code = self._child.wait()
            msg = (
                f"{job.paths[0].name}: the VCF parser process ended unexpectedly after {self._records_read} "
                f"records (exit status {code})"
            )
            raise InputError(msg) from None
        if kind == "rejected":
            raise RejectedRecords(payload)
        if kind == "input":
            raise InputError(payload)
        if kind == "crash":
            msg = f"the VCF parser process failed:\n{payload}"
            raise RuntimeError(msg)
        return kind, payload

    def close(self) -> None:
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        for stream in (self._child.stdin, self._child.stdout):
            if stream is not None:
                stream.close()


class _Sender:
    def __init__(self, out: BinaryIO, report: VcfReport) -> None:
        self._out = out
        self._report = report
        self._sent_problems = 0

    def delta(self) -> _Delta:
        r = self._report
        new = r.problems[self._sent_problems :]
        self._sent_problems = len(r.problems)
        return _Delta(r.records_read, r.variants_written, r.samples, dict(r.skipped), new)

    def send(self, kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), self._out, protocol=pickle.HIGHEST_PROTOCOL)
        self._out.flush()


def _run(job: Job, samples: bool, sender: _Sender, report: VcfReport) -> None:
    lifter, reference = job.aids()
    try:
        sender.send("ready", None)
        parser = job.parser(report, lambda _: sender.send("progress", sender.delta()), lifter, reference)
        if not job.regions:
            for batch in row_batches(parser, job):
                sender.send("batch", (batch, sender.delta()))
        else:
            for item in region_batches(parser, job, samples):
                if isinstance(item, LoadBatch):
                    sender.send("batch", (item, sender.delta()))
                else:
                    sender.send("region", sender.delta())
        sender.send("done", sender.delta())
    finally:
        if reference is not None:
            reference.close()


def main() -> int:
    """The child's entry point: one job from stdin, messages to stdout."""
    # Ctrl-C reaches the whole process group: the parent handles it and ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # As in ingest/cli.py: rows are short-lived containers that reference counting frees; a cycle
    # collection every 700 allocations would cost more than it finds.
    gc.set_threshold(50_000, 20, 100)
    # Nothing but messages may reach the pipe: they go to a copy of fd 1, which becomes stderr for
    # anything else (Python or C) that writes to standard output.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        job, samples = pickle.load(sys.stdin.buffer)
    except EOFError:
        return 0  # started early and not needed, or the parent is gone: nothing to do
    report = VcfReport(job.options.dataset_id)
    sender = _Sender(out, report)
    try:
        _run(job, samples, sender, report)
    except BrokenPipeError:
        # The parent is gone; leave without flushing into the closed pipe at exit.
        os._exit(1)
    except RejectedRecords as exc:
        sender.send("rejected", exc.problems)
    except InputError as exc:
        sender.send("input", str(exc))
    except Exception:  # noqa: BLE001  this process's top-level handler: the parent reports it
        sender.send("crash", traceback.format_exc())
    return 0
