"""The full account of a load's problems and repairs: JSON lines in a file, the first few on the terminal.

One JSON object per line, one line per problem, in the order the loader met them:

    {"what": "rejected", "file": "individuals.json", "record": 1, "line": null, "path": "$.sex",
     "message": "'male' is not of type 'object' (id P2)"}

`what` is `rejected` (the record is not stored), `not stored` (part of a stored record that the model
cannot hold) or `repaired` (a sub-value coerced or dropped, the record kept). `record` is the 0-based
index of the record in its file (JSON) and `line` the 1-based line (VCF); either may be null.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from ingest.errors import InputError, Problem

SHOWN = 50


def entry(what: str, problem: Problem) -> dict[str, object]:
    """The report line of one problem."""
    return {
        "what": what,
        "file": problem.file,
        "record": None if problem.is_line else problem.record,
        "line": problem.record if problem.is_line else None,
        "path": problem.path or None,
        "message": problem.message,
    }


def write(path: Path, groups: Iterable[tuple[str, Sequence[Problem]]]) -> int:
    """Write every problem of every (label, problems) group to `path`; the number written.

    :raise InputError: the file cannot be written.
    """
    written = 0
    try:
        with path.open("w", encoding="utf-8") as out:
            for what, problems in groups:
                for problem in problems:
                    out.write(json.dumps(entry(what, problem), ensure_ascii=False) + "\n")
                    written += 1
    except OSError as exc:
        msg = f"--report: {path}: cannot be written ({exc.strerror or exc})"
        raise InputError(msg) from exc
    return written


def show(label: str, problems: Sequence[Problem], report: Path | None, out: TextIO | None = None) -> None:
    """The first SHOWN problems, one line each, then how many more there are and where they all are."""
    stream = out or sys.stderr
    for problem in problems[:SHOWN]:
        print(f"{label}: {problem}", file=stream)
    hidden = len(problems) - SHOWN
    if hidden > 0:
        where = f"every one is in {report}" if report else "--report FILE lists every one"
        print(f"{label}: … and {hidden} more ({where})", file=stream)
