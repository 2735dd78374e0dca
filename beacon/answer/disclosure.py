"""How counts are disclosed: the floor of docs/security.md, and the questions refused for it.

The guarantee, for every dataset whose policy sets a count floor k > 1 for the caller: each count
reported from it (result sets and totals alike) is 0 when the true count is below k, and otherwise
the true count rounded up to a multiple of k (k..k read as k, k+1..2k as 2k). A group of 1..k-1
people therefore reads exactly as no group at all: a question that isolates one person (an id, a
record path, a rare allele) answers the same whether or not that person holds what is asked.
Complements and unions (`noneOf`, `anyOf` of two or more filters, the `!` operator) are refused
there, because they let a caller pad or subtract sets of known size. A dataset whose true count is
below k returns no records, and records never embed a group smaller than k.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from beacon.errors import Forbidden
from beacon.model.request import BeaconRequest


class Precision(StrEnum):
    """Beacon v2.2 `countPrecision`."""

    EXACT = "exact"
    ROUNDED = "rounded"


def rounded(n: int, base: int) -> int:
    """Below `base`: 0; otherwise rounded up to a multiple of `base` (base 0 or 1: unchanged)."""
    if base <= 1:
        return n
    if n < base:
        return 0
    return -(-n // base) * base


@dataclass(frozen=True)
class Disclosure:
    """The rounding base (count floor) of each dataset an answer draws on; 0 or 1 for none."""

    floors: Mapping[str, int] = field(default_factory=dict)

    @cached_property
    def floored(self) -> bool:
        # Asked for every count of every answer (the fast lane's too); the floors never change.
        return any(k > 1 for k in self.floors.values())

    def count(self, dataset: str, n: int) -> int:
        return rounded(n, self.floors.get(dataset, 0))

    def shows_records(self, dataset: str, n: int) -> bool:
        """Records are returned only for groups of at least the floor."""
        return n >= self.floors.get(dataset, 0)

    def within_floor(
        self, dataset: str, groups: tuple[str, ...], records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`records` without the embedded groups (a variant's carriers) smaller than the dataset's floor.

        A variant record listing one carrier would say "exactly one person" where every count says k.
        """
        k = self.floors.get(dataset, 0)
        if k <= 1 or not groups:
            return records
        return [_without_small_groups(r, groups, k) for r in records]

    def precision(self, datasets: Iterable[str]) -> dict[str, Any]:
        """`countPrecision` and `countAdjustedTo` for counts drawn from `datasets` ({} when all are exact).

        Pass every dataset the count draws on, whatever its true count: the fields must depend on the
        policies only, since marking a reported 0 "exact" would tell a true 0 from a suppressed 1..k-1.
        """
        bases = sorted({k for d in datasets if (k := self.floors.get(d, 0)) > 1})
        if not bases:
            return {}
        return {"countPrecision": Precision.ROUNDED.value, "countAdjustedTo": bases}

    def check(self, request: BeaconRequest) -> None:
        """:raise Forbidden: the request combines filters in a way that defeats rounding on floored data."""
        if not self.floored:
            return
        reasons = []
        if any(g.kind == "noneOf" for g in request.filter_groups):
            reasons.append("noneOf filter groups")
        if any(g.kind == "anyOf" and len(g.filters) > 1 for g in request.filter_groups):
            reasons.append("anyOf filter groups of more than one filter")
        every = [*request.filters, *(f for g in request.filter_groups for f in g.filters)]
        if any(f.operator == "!=" for f in every):
            reasons.append("the '!' (not equal) operator")
        if reasons:
            msg = (
                f"{' and '.join(reasons)} are not answered from datasets whose counts are rounded for this caller: "
                "complements and unions would reveal small counts by difference (docs/security.md)"
            )
            raise Forbidden(msg)


def _without_small_groups(record: dict[str, Any], groups: tuple[str, ...], k: int) -> dict[str, Any]:
    small = [g for g in groups if isinstance(record.get(g), list) and len(record[g]) < k]
    if not small:
        return record
    return {key: value for key, value in record.items() if key not in small}
