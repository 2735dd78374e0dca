"""Merge member answers into one Beacon answer (rules in docs/aggregator.md).

- Only `ok` outcomes contribute; every outcome is reported in `info.members`; an answer that
  deviates from the schemas but is usable is `ok` and its deviations are `warnings`
  (beacon/aggregator/dialects.py).
- The answer's granularity is the coarsest of the request's and every contributing member's.
- `exists` is true when any contributing member says so; `numTotalResults` is the sum.
- Result sets are kept as `includeResultsetResponses` asks, whatever the member sent (HIT: those that
  found something).
- Result sets keep their identity: id `<memberId>:<datasetId>`, with `info.memberId`,
  `info.beaconId` and `info.datasetId`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beacon.aggregator.dialects import returned_granularity
from beacon.aggregator.members import Outcome, Status
from beacon.answer.envelope import informational_meta, response_meta
from beacon.config import Config
from beacon.model.entry_types import EntryType
from beacon.model.granularity import Granularity
from beacon.model.request import BeaconRequest


def _granularity_of(document: dict[str, Any]) -> Granularity:
    return Granularity(returned_granularity(document))


def _hit(result_set: dict[str, Any]) -> bool:
    """Whether a member's result set found something (by `exists`, else by its count)."""
    exists = result_set.get("exists")
    return exists if isinstance(exists, bool) else bool(result_set.get("resultsCount"))


def merge(config: Config, breq: BeaconRequest, entry: EntryType, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    answered = [o for o in outcomes if o.status is Status.OK and o.document is not None]
    granularity = breq.granularity.at_most(*(_granularity_of(o.document) for o in answered if o.document))
    exists = False
    total = 0
    precisions: set[str] = set()
    adjusted: set[object] = set()
    result_sets: list[dict[str, Any]] = []
    collections: list[dict[str, Any]] = []
    for o in answered:
        doc = o.document or {}
        summary = doc.get("responseSummary", {})
        exists = exists or bool(summary.get("exists"))
        total += int(summary.get("numTotalResults", 0) or 0)
        # A member's rounded counts stay marked as such in the sum (docs/security.md).
        if isinstance(summary.get("countPrecision"), str):
            precisions.add(summary["countPrecision"])
        if isinstance(summary.get("countAdjustedTo"), list):
            adjusted.update(v for v in summary["countAdjustedTo"] if isinstance(v, int | str))
        response = doc.get("response", {})
        if granularity is Granularity.BOOLEAN:
            continue
        beacon_id = doc.get("meta", {}).get("beaconId", o.member)
        for rs in response.get("resultSets", []):
            # A member that lists every dataset whatever was asked must not turn HIT into ALL.
            if not breq.include.keeps(_hit(rs)):
                continue
            merged = {**rs, "id": f"{o.member}:{rs.get('id')}"}
            merged["info"] = {
                **rs.get("info", {}),
                "memberId": o.member,
                "beaconId": beacon_id,
                "datasetId": rs.get("id"),
            }
            result_sets.append(merged)
        if granularity is Granularity.RECORD:
            collections.extend(response.get("collections", []))
    body: dict[str, Any] = {
        "meta": response_meta(config, breq, entry, granularity),
        "responseSummary": {"exists": exists}
        | ({} if granularity is Granularity.BOOLEAN else {"numTotalResults": total}),
        "info": {"members": [o.report() for o in outcomes]},
    }
    # Deviating answers are merged; what deviated is said once more at the top, as the beacon says its own warnings.
    warnings = [f"member {o.member}: {w}" for o in answered for w in o.warnings]
    if warnings:
        body["info"]["warnings"] = warnings
    inexact = sorted(precisions - {"exact"})
    if inexact and granularity is not Granularity.BOOLEAN:
        # "imprecise" sorts before "rounded": the least precise member names the sum.
        body["responseSummary"]["countPrecision"] = inexact[0]
        body["responseSummary"]["countAdjustedTo"] = sorted(adjusted, key=str)
    if entry.is_collection:
        if granularity is Granularity.RECORD:
            body["response"] = {"collections": collections}
    elif granularity is not Granularity.BOOLEAN:
        body["response"] = {"resultSets": result_sets}
    return body


def merge_terms(config: Config, outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The union of the members' filtering terms and resources (first seen wins, terms sorted by id).

    Terms are read defensively instead of validated: one malformed term must not drop a member's others.
    """
    terms: dict[str, dict[str, Any]] = {}
    resources: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        response = (outcome.document or {}).get("response", {}) if outcome.status is Status.OK else {}
        if not isinstance(response, dict):
            continue
        for term in response.get("filteringTerms", []):
            if isinstance(term, dict) and isinstance(term.get("id"), str):
                terms.setdefault(term["id"], term)
        for resource in response.get("resources", []):
            if isinstance(resource, dict) and isinstance(resource.get("id"), str):
                resources.setdefault(resource["id"], resource)
    return {
        "meta": informational_meta(config),
        "response": {"filteringTerms": [terms[k] for k in sorted(terms)], "resources": list(resources.values())},
        "info": {"members": [o.report() for o in outcomes]},
    }
