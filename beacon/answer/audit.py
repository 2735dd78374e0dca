"""The audit record of an answer: the question as evaluated, never a token.

Every filter with its scope, operator, value and group; the variant parameters; the datasets in
scope; the granularity returned; the counts disclosed and the genotype budget spent. An auditor
reading it can replay what the beacon was asked and what it told.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from beacon.model.granularity import Granularity
from beacon.model.request import BeaconRequest, Filter

if TYPE_CHECKING:
    from beacon.answer.service import Prepared


def _filter(f: Filter, group: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": f.id}
    if f.operator is not None:
        out.update(operator=f.operator, value=f.value)
    else:
        out.update(similarity=f.similarity, includeDescendantTerms=f.include_descendant_terms)
    if f.scope is not None:
        out["scope"] = f.scope
    if group is not None:
        out["group"] = group
    return out


def asked(breq: BeaconRequest) -> dict[str, Any]:
    """The request as parsed, every filter with its scope, operator and group (also for refused requests)."""
    filters = [_filter(f) for f in breq.filters]
    for n, group in enumerate(breq.filter_groups):
        filters += [_filter(f, f"{group.kind}[{n}]") for f in group.filters]
    out: dict[str, Any] = {}
    if not breq.variant.is_empty():
        out["requestParameters"] = breq.variant.as_echo()
    if filters:
        out["filters"] = filters
    if breq.dataset_ids:
        out["datasetIds"] = list(breq.dataset_ids)
    out.update(requestedGranularity=breq.granularity.value, testMode=breq.test_mode)
    if breq.skip or breq.granularity is Granularity.RECORD:
        out["pagination"] = {"skip": breq.skip, "limit": breq.limit}
    return out


def evaluated(prepared: Prepared, disclosed: Mapping[str, int]) -> dict[str, Any]:
    """What was asked, where it was searched, and what was told."""
    ask = prepared.ask
    out: dict[str, Any] = {"entryType": prepared.target.id}
    if ask.record_id is not None:
        out["path"] = {"entryType": ask.entry.id, "id": ask.record_id}
    out.update(asked(ask.request))
    out.update(
        datasets=list(prepared.datasets),
        granularity=prepared.granularity.value,
        disclosed={d: disclosed.get(d, 0) for d in prepared.datasets},
        budgetSpent=prepared.decision.cost,
    )
    return out
