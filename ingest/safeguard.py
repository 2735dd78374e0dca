"""The rule that keeps a load from replacing a dataset with less than the steward meant.

The store calls `Safeguard.check` once every record of a load is written and before the new version
becomes visible; raising `LoadRefused` rolls the load back, so the previous version stays whole.
A load is refused when:

- it accepted no record of its input (records a loader makes itself, such as a dataset record, do not count);
- a collection the previous version of the part had would be left with no record at all;
- `--max-rejected N|P%` is given and more records than that were rejected.

`--allow-empty` lifts the first two (the explicit way to empty a dataset or drop a collection).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from beacon.store.base import TRANSCRIPT_ANNOTATED
from ingest.errors import InputError, LoadRefused, Problem

# Not collections a load can lose: a pseudo-count, and the dataset record, which a part brings only
# while no other part's record stands (ingest/dataset_record.py).
_NOT_LOST = frozenset({TRANSCRIPT_ANNOTATED, "datasets"})
_LIMIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class RejectLimit:
    """How many rejected records a load may have: a count, or a percentage of the records read."""

    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str) -> RejectLimit:
        """`N` or `P%`. :raise InputError: anything else."""
        match = _LIMIT.match(text)
        if match is None or (match.group(2) and float(match.group(1)) > 100):
            msg = f"--max-rejected: {text!r} is not a count (e.g. 10) or a percentage (e.g. 5%)"
            raise InputError(msg)
        return cls(float(match.group(1)), bool(match.group(2)))

    def exceeded(self, rejected: int, accepted: int) -> bool:
        if self.percent:
            total = rejected + accepted
            return total > 0 and 100 * rejected / total > self.value
        return rejected > self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g}"


@dataclass(frozen=True)
class Safeguard:
    """The steward's limits for one load, and where the loader's counts of input records are read from.

    `accepted` and `rejected` are read when the store calls `check`, once the input is consumed;
    a refusal carries the rejected records' problems, for the report.
    """

    dataset_id: str
    accepted: Callable[[], int]
    rejected: Callable[[], Sequence[Problem]]
    allow_empty: bool = False
    max_rejected: RejectLimit | None = None

    def check(self, previous: Mapping[str, int] | None, new: Mapping[str, int]) -> None:
        """Return when the load may replace the previous version.

        :raise LoadRefused: the load accepted nothing, would empty a collection, or rejected too much.
        """
        problems = self.rejected()
        rejected = len(problems)
        accepted = self.accepted()
        why = f"{rejected} record(s) rejected" if rejected else "no record rejected"
        if self.max_rejected is not None and self.max_rejected.exceeded(rejected, accepted):
            self._refuse(problems, f"{rejected} record(s) rejected, more than --max-rejected {self.max_rejected}")
        if self.allow_empty:
            return
        if accepted == 0:
            self._refuse(problems, f"no record accepted ({why}); pass --allow-empty to empty it")
        lost = [
            f"{n} {coll}"
            for coll, n in sorted((previous or {}).items())
            if coll not in _NOT_LOST and n > 0 and not new.get(coll)
        ]
        if lost:
            had = ", ".join(lost)
            self._refuse(problems, f"it would lose all of its {had} ({why}); pass --allow-empty to drop them")

    def _refuse(self, problems: Sequence[Problem], reason: str) -> None:
        msg = f"dataset {self.dataset_id} not replaced: {reason}; nothing was changed"
        raise LoadRefused(msg, problems)
