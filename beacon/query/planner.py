"""A BeaconRequest for one entry type into the store-neutral condition, resolving cross-entity pivots.

Conditions on other entry types (variant parameters on /individuals, a filter scoped to biosamples
on /individuals) are resolved in two steps: the matching records of that other type are reduced to
shared keys (individual or biosample ids), and the target records must carry one of those keys.
"""

from __future__ import annotations

from beacon.errors import InvalidRequest
from beacon.genome.genes import GeneRegion
from beacon.model.entry_types import DATASET_KEY, EntryType, EntryTypeTable
from beacon.model.plan import Condition, Field, HasKey, In, Nothing, Query, all_of
from beacon.model.request import BeaconRequest
from beacon.query.filters import filter_condition
from beacon.query.variants import variant_condition
from beacon.store.base import Store

# Biosample and individual ids are the keys every layout fills in (carriers name biosamples;
# run and analysis ids on carriers are rare), so they are preferred over a target's own key.
_PIVOT_PREFERENCE = ("biosample", "individual")


def self_kind(entry: EntryType) -> str | None:
    """The key kind whose value is the record's own id (individual for individuals…)."""
    return next((k.kind for k in entry.links if k.path == entry.id_field), None)


def _kinds(entry: EntryType) -> set[str]:
    kinds = {k.kind for k in entry.links}
    if not entry.is_collection:
        kinds.add("cohort")
    return kinds


def pivot(source: EntryType, target: EntryType) -> str | None:
    """The key kind that links records of `source` to records of `target`, or None."""
    shared = _kinds(source) & _kinds(target)
    own = self_kind(target)
    candidates: tuple[str, ...] = (*_PIVOT_PREFERENCE, *((own,) if own else ()), "cohort")
    for kind in candidates:
        if kind in shared:
            return kind
    return None


async def _through(
    store: Store, source: EntryType, target: EntryType, cond: Condition, datasets: tuple[str, ...]
) -> Condition:
    """Target records linked to the `source` records matching `cond`."""
    if target.id == "dataset":
        counts = await store.count_by_dataset(Query(source.collection, datasets, cond))
        return In(Field.ID, tuple(sorted(counts)))
    kind = pivot(source, target)
    if kind is None:
        msg = f"{source.path} cannot be related to {target.path}"
        raise InvalidRequest(msg)
    values = await store.distinct_keys(Query(source.collection, datasets, cond), kind)
    return HasKey(kind, tuple(values)) if values else Nothing()


async def plan_condition(
    request: BeaconRequest,
    target: EntryType,
    table: EntryTypeTable,
    store: Store,
    datasets: tuple[str, ...],
    gene_regions: tuple[GeneRegion, ...] = (),
) -> Condition | None:
    """Everything the request asks of `target` records, as one condition (None: no restriction).

    `gene_regions` are the regions of the queried gene in the datasets' assembly, when a gene table is configured.

    :raise InvalidRequest: malformed variant parameters or an unknown filter scope.
    """
    parts: list[Condition | None] = []
    variants = table.by_id("genomicVariant")
    vcond = variant_condition(request.variant, gene_regions)
    if vcond is not None:
        if target.id == variants.id:
            parts.append(vcond)
        else:
            parts.append(await _through(store, variants, target, vcond, datasets))
    scopes = table.by_scope()
    for f in request.filters:
        scope_entry = target
        if f.scope is not None:
            if f.scope not in scopes:
                msg = f"filter {f.id!r}: unknown scope {f.scope!r}; known: {', '.join(sorted(scopes))}"
                raise InvalidRequest(msg)
            scope_entry = scopes[f.scope]
        cond = filter_condition(f)
        if scope_entry.id == target.id:
            parts.append(cond)
        else:
            parts.append(await _through(store, scope_entry, target, cond, datasets))
    return all_of(*parts)


async def lookup_condition(
    store: Store, source: EntryType, record_id: str, via: str, datasets: tuple[str, ...]
) -> Condition:
    """Target records sharing a `via` key with the source record (`/{source}/{id}/{target}`)."""
    values = await store.keys_of(source.collection, record_id, via, datasets)
    return HasKey(via, tuple(values)) if values else Nothing()


def lookup_datasets(record_id: str, via: str, datasets: tuple[str, ...]) -> tuple[str, ...] | None:
    """For dataset lookups the dataset scope itself narrows; None when `via` is not the dataset key."""
    if via != DATASET_KEY:
        return None
    return tuple(d for d in datasets if d == record_id)
