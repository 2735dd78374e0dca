"""Ingest counters for Prometheus: a node-exporter textfile rewritten while a load runs, and/or an HTTP endpoint.

The textfile is written atomically (`write_to_textfile`: a temporary file renamed over the old
one) once at the start, so a bad path fails before hours of work, then every `--metrics-interval`
seconds from a background thread and once more at the end. Nothing here runs on the event loop.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server, write_to_textfile

from beacon.metrics import IngestMetrics
from ingest.bff import BffReport
from ingest.errors import IngestError, InputError, RejectedRecords
from ingest.phenopackets.load import PhenopacketReport
from ingest.vcf.load import VcfReport


def _textfile(text: str) -> Path:
    path = Path(text)
    if path.suffix != ".prom":
        msg = f"expected a path ending in .prom (the textfile collector reads only those), got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return path


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        msg = f"expected a port number, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return int(text)


def add_metrics_arguments(parser: argparse.ArgumentParser) -> None:
    """`--metrics-textfile`, `--metrics-port`, `--metrics-interval` on one ingest subcommand."""
    parser.add_argument(
        "--metrics-textfile",
        type=_textfile,
        help="write Prometheus counters to this .prom file (node-exporter textfile collector), atomically "
        "(default: none)",
    )
    parser.add_argument(
        "--metrics-port", type=_port, help="serve Prometheus counters on this port while loading (default: none)"
    )
    parser.add_argument(
        "--metrics-interval", type=float, default=15.0, help="seconds between textfile rewrites (default: %(default)s)"
    )


@dataclass(frozen=True)
class Tally:
    """What a finished run reports; `read=None` when records read were counted live, one by one."""

    read: int | None
    written: int
    rejected: int


def bff_tally(report: BffReport, validate_only: bool) -> Tally:
    stored = not validate_only and not report.unchanged
    return Tally(None, sum(report.counts.values()) if stored else 0, len(report.problems))


def vcf_tally(report: VcfReport, validate_only: bool) -> Tally:
    # variants_written counts variants produced, stored or not.
    stored = not validate_only and not report.unchanged
    return Tally(report.records_read, report.variants_written if stored else 0, len(report.problems))


def phenopacket_tally(report: PhenopacketReport, validate_only: bool) -> Tally:
    # One phenopacket is one input record, however many documents it becomes.
    stored = not validate_only and not report.unchanged
    return Tally(report.files, sum(report.counts.values()) if stored else 0, len(report.problems))


class IngestMonitor:
    """The counters of one ingest run, with their outputs; a context manager that starts and stops them."""

    def __init__(
        self, loader: str, dataset: str, textfile: Path | None = None, port: int | None = None, interval_s: float = 15
    ) -> None:
        self.registry = CollectorRegistry()
        self.metrics = IngestMetrics(self.registry)
        self.labels = (loader, dataset)
        self.textfile = textfile
        self.port = port
        self.interval_s = interval_s
        self._read = 0
        self._finished = False
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._server: Any = None
        self._server_thread: threading.Thread | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> IngestMonitor:
        return cls(
            args.command,
            args.dataset,
            getattr(args, "metrics_textfile", None),
            getattr(args, "metrics_port", None),
            getattr(args, "metrics_interval", 15.0),
        )

    # -- counting (any thread) ------------------------------------------------------------------

    def _add_read(self, n: int) -> None:
        if n > 0:
            self._read += n
            self.metrics.read.labels(*self.labels).inc(n)

    def count_record(self, *_: object) -> None:
        """A progress callback called once per record read (the BFF loader's)."""
        self._add_read(1)

    def count_total(self, records: int) -> None:
        """A progress callback given the running total of records read (the VCF loader's)."""
        self._add_read(records - self._read)

    def finish(self, tally: Tally) -> None:
        """The run succeeded: add what was written and rejected, and the reads not yet counted."""
        if tally.read is not None:
            self._add_read(tally.read - self._read)
        self.metrics.written.labels(*self.labels).inc(tally.written)
        self.metrics.rejected.labels(*self.labels).inc(tally.rejected)
        self._end(ok=True)

    def failed(self, exc: IngestError | Exception) -> None:
        """The run failed; records rejected in --on-error fail mode still count."""
        if isinstance(exc, RejectedRecords):
            self.metrics.rejected.labels(*self.labels).inc(len(exc.problems))
        self._end(ok=False)

    def _end(self, ok: bool) -> None:
        self._finished = True
        self.metrics.success.labels(*self.labels).set(1 if ok else 0)
        self.metrics.finished.labels(*self.labels).set(time.time())

    # -- outputs (main thread, outside the event loop) -----------------------------------------

    def write(self) -> None:
        """Rewrite the textfile now.

        :raise InputError: the file cannot be written.
        """
        if self.textfile is None:
            return
        try:
            write_to_textfile(str(self.textfile), self.registry)
        except OSError as exc:
            msg = f"--metrics-textfile: cannot write {self.textfile}: {exc.strerror or exc}"
            raise InputError(msg) from exc

    def _rewrite_periodically(self) -> None:
        while not self._stop.wait(self.interval_s):
            # A failed rewrite mid-run is retried at the next interval; the final write reports it.
            try:
                self.write()
            except InputError:
                continue

    def __enter__(self) -> IngestMonitor:
        self.metrics.read.labels(*self.labels)
        self.metrics.written.labels(*self.labels)
        self.metrics.rejected.labels(*self.labels)
        if self.textfile is not None:
            self.write()
            self._writer = threading.Thread(target=self._rewrite_periodically, name="metrics-textfile", daemon=True)
            self._writer.start()
        if self.port is not None:
            try:
                self._server, self._server_thread = start_http_server(self.port, registry=self.registry)
            except OSError as exc:
                self._stop_writer()
                msg = f"--metrics-port: cannot listen on port {self.port}: {exc.strerror or exc}"
                raise InputError(msg) from exc
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self._finished:
            self._end(ok=False)
        self._stop_writer()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._server_thread is not None:
                self._server_thread.join()
        self.write()

    def _stop_writer(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join()

    @property
    def listening_port(self) -> int | None:
        """The port actually bound (useful with `--metrics-port 0`)."""
        return int(self._server.server_port) if self._server is not None else None
