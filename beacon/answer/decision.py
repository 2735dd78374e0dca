"""The one decision point: which datasets a question may touch, how finely, at what cost, how counts are disclosed.

Nothing else in the beacon decides access: entry answers, collections, cross-entity lookups,
filtering terms, the fast lane and the aggregator's local answers all take a `Decision` from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from beacon.answer.cost import genotype_cost
from beacon.answer.disclosure import Disclosure
from beacon.config import Config
from beacon.model.entry_types import EntryType
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.model.request import BeaconRequest
from beacon.security.access import Access, accessible, listed, narrowed
from beacon.security.limits import QueryBudget
from beacon.security.tokens import Caller
from beacon.store.base import DatasetInfo


@dataclass(frozen=True)
class Decision:
    """The rights a question is answered under, before its path narrows them to record holders."""

    rights: tuple[Access, ...]
    listing: bool  # descriptions only: no condition on records may be evaluated
    cost: int  # alleles charged to the caller's budget (0 on public data)

    @property
    def datasets(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.rights)

    def within(self, datasets: Sequence[str]) -> list[Access]:
        kept = set(datasets)
        return [a for a in self.rights if a.id in kept]


def asks_of_records(request: BeaconRequest) -> bool:
    """True when the answer depends on records, not only on dataset descriptions."""
    return bool(request.filters or request.filter_groups or not request.variant.is_empty())


def decide(
    config: Config,
    loaded: Sequence[DatasetInfo],
    caller: Caller,
    request: BeaconRequest,
    entry: EntryType,
    target: EntryType,
    record_id: str | None,
    budget: QueryBudget | None,
) -> Decision:
    """Rights and cost of `request` on `target` (through `entry`'s path) for `caller`; spends the budget.

    Listing dataset descriptions needs only the listing right; anything that evaluates a condition on
    records, or follows a lookup, needs the query right on every dataset it touches.

    :raise InvalidRequest: `datasetIds` names a dataset outside the caller's rights.
    :raise TooManyRequests: the caller's genotype budget cannot cover the question.
    """
    listing = (
        config.security.list_inaccessible_datasets
        and target.lists_datasets
        and entry is target
        and not asks_of_records(request)
    )
    if listing:
        rights = narrowed(listed(config, loaded, request.test_mode), request)
        return Decision(tuple(rights), True, 0)
    rights = query_rights(config, loaded, caller, request)
    protected = [a for a in rights if a.policy.security is not SecurityLevel.PUBLIC]
    cost = genotype_cost(request, entry, target, record_id, config.entry_types) if protected else 0
    if protected and _pages_variant_records(config, request, entry, target, record_id, protected):
        # Each variant record on the page is an allele learned, with its carriers: a page of n costs n.
        cost = max(cost, request.limit)
    if cost and budget is not None:
        # Charged before anything is looked up: even "no such record" answers the question.
        budget.spend(caller.identity, cost)
    return Decision(tuple(rights), False, cost)


def _pages_variant_records(
    config: Config,
    request: BeaconRequest,
    entry: EntryType,
    target: EntryType,
    record_id: str | None,
    protected: Sequence[Access],
) -> bool:
    """True when the answer may be a page of variant records from protected data (not one record by id)."""
    if not target.holds_variants or (record_id is not None and entry is target):
        return False
    asked = request.granularity.at_most(config.query.max_granularity, target.max_granularity)
    return asked is Granularity.RECORD and any(a.granularity is Granularity.RECORD for a in protected)


def query_rights(config: Config, loaded: Sequence[DatasetInfo], caller: Caller, request: BeaconRequest) -> list[Access]:
    """The datasets `caller` may query, narrowed to the request's `datasetIds`."""
    return narrowed(accessible(config, loaded, caller, request.test_mode), request)


def granularity(config: Config, request: BeaconRequest, target: EntryType, in_scope: Sequence[Access]) -> Granularity:
    """One granularity per response: the coarsest that every dataset in scope allows (docs/decisions.md)."""
    return request.granularity.at_most(
        config.query.max_granularity, target.max_granularity, *(a.granularity for a in in_scope)
    )


def disclosure(target: EntryType, in_scope: Sequence[Access]) -> Disclosure:
    """Collections (datasets, cohorts) describe data, not people: their counts are never floored."""
    if target.is_collection:
        return Disclosure()
    return Disclosure({a.id: a.count_floor for a in in_scope})
