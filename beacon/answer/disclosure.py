"""How counts are disclosed: the floor and rounding of docs/security.md, and the questions refused for it.

The guarantee, for every dataset whose policy sets a count floor k > 1 for the caller: each count
reported from it (result sets and totals alike) is 0 or the true count rounded up to a multiple of k,
so 1..k read as k, k+1..2k as 2k; the difference of any two reported counts fixes the difference of
the true counts only to within k-1 either way. Complements and unions (`noneOf`, `anyOf` of two or
more filters, the `!` operator) are refused there, because they let a caller pad or subtract sets of
known size and so reach exact counts through rounding. A dataset whose true count is below k returns
no records.
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
    """0 stays 0; anything else is rounded up to a multiple of `base` (base 0 or 1: unchanged)."""
    if base <= 1 or n <= 0:
        return n
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

    def precision(self, datasets: Iterable[str]) -> dict[str, Any]:
        """`countPrecision` and `countAdjustedTo` for counts drawn from `datasets` ({} when all are exact).

        Reported whenever the scheme applies, not only when a count moved: saying "exact" for a count
        that happens to be a multiple of the floor would give it away.
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
