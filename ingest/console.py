"""What `beacon-ingest` writes to the terminal: progress while records are read, the phases after them,
the problems found and one summary line per load (stdout), everything else on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest import problem_report
from ingest.bff import BffReport
from ingest.errors import Problem
from ingest.phenopackets.load import PhenopacketReport
from ingest.vcf.load import VcfReport

# Off a terminal, phases are printed only once a load has run this long: small loads stay quiet.
_PHASES_AFTER_S = 5.0


def phase_printer() -> Callable[[str], None]:
    """Prints each phase after the records (`building indexes`, `analysing`, `switching`) with the time so far."""
    started = time.monotonic()

    def show(phase: str) -> None:
        elapsed = time.monotonic() - started
        if sys.stderr.isatty() or elapsed >= _PHASES_AFTER_S:
            lead = "\n" if sys.stderr.isatty() else ""  # past the progress line that \r keeps rewriting
            print(f"{lead}{phase} ({elapsed:,.1f} s)", file=sys.stderr, flush=True)

    return show


def progress_printer(what: str = "records", every: int = 100_000) -> Callable[[int], None]:
    """Prints how many `what` were read and how fast: rewritten in place on a terminal, every `every` off one."""
    started = time.monotonic()

    def show(records: int) -> None:
        rate = records / max(time.monotonic() - started, 1e-9)
        end = "\r" if sys.stderr.isatty() else "\n"
        if (sys.stderr.isatty() and records % 100 == 0) or records % every == 0:
            print(f"{records:,} {what} read ({rate:,.0f}/s)", end=end, file=sys.stderr, flush=True)

    return show


def show_problems(problems: list[Problem], label: str = "rejected", report: Path | None = None) -> None:
    """The first problems on stderr under `label`, pointing at the `report` file for the rest."""
    problem_report.show(label, problems, report)


def write_report(path: Path | None, groups: Sequence[tuple[str, Sequence[Problem]]]) -> str:
    """Write the report file when asked; the summary's mention of it."""
    if path is None:
        return ""
    written = problem_report.write(path, groups)
    return f"; {written} problem(s) listed in {path}"


def _shown(path: Path | None, groups: Sequence[tuple[str, list[Problem]]]) -> str:
    """Each group's first problems on stderr, every one in the report file when asked; the line's mention of it."""
    for label, problems in groups:
        show_problems(problems, label, path)
    return write_report(path, groups)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {c}" for c, n in sorted(counts.items())) or "no records"


def _outcomes(*counted: tuple[int, str]) -> str:
    """The summary line's tail: each non-zero count with what it counts, in the order given."""
    return "".join(f"; {n} {what}" for n, what in counted if n)


def _verb(unchanged: bool, validate_only: bool) -> str:
    return "valid" if validate_only else ("unchanged (same input already loaded)" if unchanged else "loaded")


def print_phenopacket_summary(report: PhenopacketReport, validate_only: bool, path: Path | None) -> None:
    listed = _shown(
        path, [("rejected", report.problems), ("not stored", report.warnings), ("repaired", report.repairs)]
    )
    line = f"dataset {report.dataset_id}: {_verb(report.unchanged, validate_only)}: {report.files} files: "
    line += _counts(report.counts)
    line += _outcomes(
        (len(report.problems), "record(s) rejected"),
        (len(report.warnings), "part(s) of records not representable (listed above)"),
        (len(report.repairs), "invalid value(s) repaired (listed above)"),
        (report.exact_duplicates, "exact duplicate record(s) dropped"),
    )
    print(line + listed)


def print_vcf_summary(report: VcfReport, validate_only: bool, path: Path | None) -> None:
    listed = _shown(path, [("rejected", report.problems)])
    verb = _verb(report.unchanged, validate_only)
    line = (
        f"dataset {report.dataset_id}: {verb}: {report.records_read} records read, "
        f"{report.variants_written} variants, {report.samples} samples"
    )
    line += _outcomes((len(report.problems), "record(s) rejected"))
    for reason, count in sorted(report.skipped.items()):
        line += f"; {count} skipped ({reason})"
    print(line + listed)


def print_bff_summary(report: BffReport, validate_only: bool, path: Path | None) -> None:
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    listed = _shown(path, [("rejected", report.problems), ("repaired", report.repairs)])
    line = f"dataset {report.dataset_id}: {_verb(report.unchanged, validate_only)}: {_counts(report.counts)}"
    line += _outcomes(
        (len(report.problems), "record(s) rejected"),
        (len(report.repairs), "invalid value(s) repaired (listed above)"),
        (report.exact_duplicates, "exact duplicate record(s) dropped"),
        (report.other_datasets, "record(s) of other datasets skipped"),
    )
    print(line + listed)
