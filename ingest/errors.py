"""Ingest errors: each carries a locator (file, record, JSON path) and the exit code of the CLI.

IngestError (exit 1)
├── InputError (exit 2): a file is missing, unreadable or not the expected format
├── RejectedRecords (exit 3): records violated the model and --on-error fail was given
└── LoadRefused (exit 4): the load would replace a dataset with less than the steward meant (ingest/safeguard.py)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Problem:
    """One rejected record: where it is and what is wrong with it."""

    file: str
    record: int | None
    path: str
    message: str
    is_line: bool = False  # `record` is a 1-based line number (VCF) rather than a 0-based record index

    def __str__(self) -> str:
        if self.record is None:
            where = self.file
        elif self.is_line:
            where = f"{self.file}:{self.record}"
        else:
            where = f"{self.file}: record {self.record}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class IngestError(Exception):
    """Base class; the message is one line fit for a data steward's terminal."""

    exit_code: ClassVar[int] = 1


class InputError(IngestError):
    exit_code = 2


class RejectedRecords(IngestError):
    exit_code = 3

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{first}{more}; nothing was loaded")


class LoadRefused(IngestError):
    exit_code = 4

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems)
        super().__init__(message)
