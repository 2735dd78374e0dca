"""Keep a record whose sub-values break the schema: coerce what is unambiguous, drop the rest, say what was done.

`repair` asks the official schema (through `RecordChecker`) where a record is invalid, one violation
at a time, and changes only that sub-value:

- coerced, when exactly one reading is possible and the schema accepts it there: `"TRUE"`/`"false"`
  to a boolean, a numeric string to a number, a timestamp string where a time element is expected
  to the time element of that instant (`{"start": t, "end": t}`, the TimeInterval form: the
  model's bare Timestamp branch cannot satisfy its `type: object`), one object where a list is
  expected to a list of it, a one-item list where its item is expected to the item;
- otherwise dropped: the property, or the list item, that holds the invalid value.

A violation of the record itself (a required top-level property missing, its id) cannot be
repaired: the record is rejected, as under `--on-error skip`.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Protocol

# A date or a date-time, as ISO 8601 writes them.
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_BOOLEANS = {"true": True, "false": False}
_PATH_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
# Each repair changes or removes a value, so a record converges; this bounds a pathological one.
_MAX_REPAIRS = 200


class Checker(Protocol):
    def problems(self, document: object, limit: int = 1) -> list[tuple[str, str]]: ...


@dataclass(frozen=True)
class Repair:
    """One change to a record: where (JSON path) and what was done."""

    path: str
    action: str


@dataclass(frozen=True)
class Repaired:
    """The record as it will be stored (None: rejected), its repairs, and why it was rejected."""

    doc: dict[str, Any] | None
    repairs: tuple[Repair, ...]
    rejected: tuple[str, str] | None = None  # (JSON path, message)


def _steps(where: str) -> list[str | int] | None:
    """`$.a[0].b` as ["a", 0, "b"]; None when the path is not one this module wrote."""
    if not where.startswith("$"):
        return None
    steps: list[str | int] = []
    pos = 1
    for match in _PATH_STEP.finditer(where, 1):
        if match.start() != pos:
            return None
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    return steps if pos == len(where) else None


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _candidates(value: object) -> list[object]:
    """The unambiguous other readings of a value, most specific first."""
    out: list[object] = []
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _BOOLEANS:
            out.append(_BOOLEANS[text.lower()])
        if _NUMBER.match(text):
            number = float(text)
            out.append(int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number)
        if _TIMESTAMP.match(text):
            out.append({"start": text, "end": text})
    if isinstance(value, dict):
        out.append([value])
    if isinstance(value, list) and len(value) == 1:
        out.append(value[0])
    return out


def _invalid_under(checker: Checker, doc: dict[str, Any], where: str) -> bool:
    """Whether any violation is at `where` or below it."""
    return any(p == where or p.startswith((where + ".", where + "[")) for p, _ in checker.problems(doc, limit=100))


def repair(doc: dict[str, Any], checker: Checker) -> Repaired:
    """Coerce or drop the invalid sub-values of `doc` (a copy is changed) until the schema accepts it."""
    problems = checker.problems(doc)
    if not problems:
        return Repaired(doc, ())
    doc = copy.deepcopy(doc)
    repairs: list[Repair] = []
    dropped: tuple[str, str] | None = None  # the last top-level property dropped
    while problems and len(repairs) < _MAX_REPAIRS:
        where, message = problems[0]
        steps = _steps(where)
        if not steps:
            # The record itself is invalid: when that is because a property it requires was just
            # dropped, that property's violation is the reason to give.
            return Repaired(None, (), dropped or (where, message))
        parent: Any = doc
        for step in steps[:-1]:
            parent = parent[step]
        last = steps[-1]
        value = parent[last]
        for candidate in _candidates(value):
            parent[last] = candidate
            if not _invalid_under(checker, doc, where):
                repairs.append(Repair(where, f"coerced {_show(value)} to {_show(candidate)}"))
                break
        else:
            parent[last] = value
            del parent[last]
            repairs.append(Repair(where, f"dropped {_show(value)}: {message}"))
            dropped = (where, message) if len(steps) == 1 else None
        problems = checker.problems(doc)
    if problems:
        return Repaired(None, (), problems[0])
    return Repaired(doc, tuple(repairs))
