"""The filtering-term catalog planning reads: the terms the store holds per collection, read before planning.

Reading it is the one store access a request's plan needs; the caller awaits `read_term_catalog` and
hands the value to the planner (`PlanContext.terms`), so planning itself never reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.model.request import BeaconRequest
from beacon.query.filters import filter_scope
from beacon.store.base import Store


@dataclass(frozen=True)
class TermCatalog:
    """Term ids the store holds, per collection, in the datasets searched."""

    held: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of(self, collection: str) -> frozenset[str] | None:
        """The terms of `collection`; None when the catalog was not read for it (nothing can be told)."""
        return self.held.get(collection)


def catalog_collections(request: BeaconRequest, target: EntryType, table: EntryTypeTable) -> tuple[str, ...]:
    """The collections whose catalog the plan and the warnings of `request` read, in first-use order.

    One per ontology or custom filter (in `filters` and in filter groups): the collection of its scope.
    Alphanumeric filters name document paths and read no catalog.

    :raise InvalidRequest: a filter names an unknown scope.
    """
    every = [*request.filters, *(f for g in request.filter_groups for f in g.filters)]
    found = (filter_scope(f, target, table).collection for f in every if not f.is_alphanumeric)
    return tuple(dict.fromkeys(found))


async def read_term_catalog(
    store: Store, request: BeaconRequest, target: EntryType, table: EntryTypeTable, datasets: tuple[str, ...]
) -> TermCatalog:
    """The catalog `request` needs on `target`, over `datasets`: each collection read once.

    :raise InvalidRequest: a filter names an unknown scope.
    """
    held: dict[str, frozenset[str]] = {}
    for collection in catalog_collections(request, target, table):
        held[collection] = frozenset(t.id for t in await store.terms((collection,), datasets))
    return TermCatalog(held)
