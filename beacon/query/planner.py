"""A BeaconRequest for one entry type into the store-neutral condition, resolving cross-entity pivots.

Conditions on other entry types (variant parameters on /individuals, a filter scoped to biosamples
on /individuals) are resolved in two steps: the matching records of that other type are reduced to
shared keys (individual or biosample ids), and the target records must carry one of those keys.
"""

from __future__ import annotations

from beacon.errors import InvalidRequest
from beacon.genome.genes import GeneRegion
from beacon.model.entry_types import DATASET_KEY, EntryType, EntryTypeTable
from beacon.model.plan import Condition, Field, HasKey, In, Not, Nothing, Or, Query, all_of
from beacon.model.request import BeaconRequest, Filter
from beacon.ontology import NO_ONTOLOGIES, OntologySet
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


class StoreTerms:
    """The filtering terms the store holds per collection in `datasets`, each collection read at most once."""

    def __init__(self, store: Store, datasets: tuple[str, ...]) -> None:
        self._store = store
        self._datasets = datasets
        self._read: dict[str, frozenset[str]] = {}

    async def of(self, collection: str) -> frozenset[str]:
        found = self._read.get(collection)
        if found is None:
            found = frozenset(t.id for t in await self._store.terms((collection,), self._datasets))
            self._read[collection] = found
        return found


def _scope_entry(f: Filter, target: EntryType, table: EntryTypeTable) -> EntryType:
    if f.scope is None:
        return target
    scopes = table.by_scope()
    if f.scope not in scopes:
        msg = f"filter {f.id!r}: unknown scope {f.scope!r}; known: {', '.join(sorted(scopes))}"
        raise InvalidRequest(msg)
    return scopes[f.scope]


async def _filter(
    f: Filter,
    target: EntryType,
    table: EntryTypeTable,
    store: Store,
    datasets: tuple[str, ...],
    ontologies: OntologySet,
    terms: StoreTerms,
) -> Condition:
    scope_entry = _scope_entry(f, target, table)
    # A hierarchy can widen a term to thousands (HP:0000118: 18,386): keep those the store holds.
    widened = not f.is_alphanumeric and ontologies.knows(f.id)
    present = await terms.of(scope_entry.collection) if widened else None
    cond = filter_condition(f, scope_entry.id, ontologies, present)
    if scope_entry.id == target.id:
        return cond
    return await _through(store, scope_entry, target, cond, datasets)


async def plan_condition(
    request: BeaconRequest,
    target: EntryType,
    table: EntryTypeTable,
    store: Store,
    datasets: tuple[str, ...],
    gene_regions: tuple[GeneRegion, ...] = (),
    ontologies: OntologySet = NO_ONTOLOGIES,
    terms: StoreTerms | None = None,
) -> Condition | None:
    """Everything the request asks of `target` records, as one condition (None: no restriction).

    `gene_regions` are the regions of the queried gene in the datasets' assembly, when a gene table is configured.
    Ontology filters are widened through `ontologies` (docs/filters.md); filter groups (the anyOf/noneOf
    extension) are ANDed with the filters.

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
    # One catalog read per request: callers pass the reader they share with `filter_warnings`.
    terms = terms or StoreTerms(store, datasets)
    for f in request.filters:
        parts.append(await _filter(f, target, table, store, datasets, ontologies, terms))
    for group in request.filter_groups:
        members = [await _filter(f, target, table, store, datasets, ontologies, terms) for f in group.filters]
        anyof: Condition = members[0] if len(members) == 1 else Or(tuple(members))
        parts.append(anyof if group.kind == "anyOf" else Not(anyof))
    return all_of(*parts)


async def filter_warnings(
    request: BeaconRequest,
    target: EntryType,
    table: EntryTypeTable,
    store: Store,
    datasets: tuple[str, ...],
    ontologies: OntologySet,
    terms: StoreTerms | None = None,
) -> list[str]:
    """What `info.warnings` says about the filters: ids nothing can match, similarity without a hierarchy.

    An ontology or custom filter id is unknown when no loaded hierarchy has it and the store holds
    it on no record of the filter's scope in the datasets searched (alphanumeric filters name paths
    and are not checked).
    """
    terms = terms or StoreTerms(store, datasets)
    warnings: list[str] = []
    every = [*request.filters, *(f for g in request.filter_groups for f in g.filters)]
    for f in every:
        if f.is_alphanumeric:
            continue
        scope_entry = _scope_entry(f, target, table)
        if not ontologies.knows(f.id) and f.id not in await terms.of(scope_entry.collection):
            warnings.append(
                f"filter {f.id}: unknown term: in no loaded ontology and on no {scope_entry.path} record "
                "of the datasets searched, so it matches nothing"
            )
        elif f.similarity != "exact" and ontologies.for_term(f.id) is None:
            prefix = f.id.partition(":")[0]
            warnings.append(f"filter {f.id}: similarity {f.similarity} needs a hierarchy for {prefix}; matched exactly")
    return list(dict.fromkeys(warnings))


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
