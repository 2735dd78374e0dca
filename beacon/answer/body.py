"""Response bodies from exact counts: summaries, result sets and collections, each count as disclosed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from beacon.answer.disclosure import Disclosure
from beacon.model.entry_types import EntryType
from beacon.model.granularity import Granularity, IncludeResultsets


def result_set(
    dataset_id: str, count: int, results: list[dict[str, Any]], precision: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": dataset_id,
        "setType": "dataset",
        "exists": count > 0,
        "resultsCount": count,
        "results": results,
        **(precision or {}),
    }


def summary(total: int, granularity: Granularity, precision: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"exists": total > 0}
    if granularity is not Granularity.BOOLEAN:
        out["numTotalResults"] = total
        out.update(precision)
    return out


def disclosed(exact: Mapping[str, int], disclosure: Disclosure) -> dict[str, int]:
    if not disclosure.floored:
        return dict(exact)  # nothing to round
    return {d: disclosure.count(d, n) for d, n in exact.items()}


def counts_body(
    target: EntryType,
    datasets: Sequence[str],
    exact: Mapping[str, int],
    disclosure: Disclosure,
    include: IncludeResultsets,
    granularity: Granularity,
) -> dict[str, Any]:
    """The boolean or count answer from exact counts per dataset, each disclosed under its floor."""
    # Unfloored (the common case, and every fast-lane answer on public data): the counts as they are,
    # without a copy or the per-set precision fields, which are empty then.
    floored = disclosure.floored
    counts = disclosed(exact, disclosure) if floored else exact
    precision = disclosure.precision(datasets) if floored else {}
    body: dict[str, Any] = {"responseSummary": summary(sum(counts.values()), granularity, precision)}
    if target.is_collection or granularity is Granularity.BOOLEAN:
        return body
    sets = [
        result_set(d, n, [], disclosure.precision((d,)) if floored else None)
        for d in datasets
        if include.keeps((n := counts.get(d, 0)) > 0)
    ]
    body["response"] = {"resultSets": sets}
    return body
