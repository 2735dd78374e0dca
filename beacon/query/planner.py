"""A BeaconRequest for one entry type into the store-neutral condition: a pure function of values.

Conditions on other entry types (variant parameters on /individuals, a filter scoped to biosamples
on /individuals, the path of `/g_variants/{id}/individuals`) become `Related` conditions: records of
the target type linked, within their own dataset, to the records of the other type that match. The
store evaluates them (a sub-select, or a first step per dataset); planning reads nothing from it.
Everything planning needs besides the request is one `PlanContext` value; the only store read a
plan depends on, the filtering-term catalog, is read before (`beacon/query/catalog.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from beacon.errors import InvalidRequest
from beacon.genome.genes import GeneRegion
from beacon.model.entry_types import DATASET_KEY, EntryType, EntryTypeTable
from beacon.model.plan import SAME_DATASET, Compare, Condition, Field, Not, Nothing, Or, Related, all_of
from beacon.model.request import BeaconRequest, Filter
from beacon.ontology import NO_ONTOLOGIES, OntologySet
from beacon.query.catalog import TermCatalog
from beacon.query.filters import filter_condition, filter_scope
from beacon.query.populations import other_filters, population_condition
from beacon.query.variants import variant_condition

# Biosample and individual ids are the keys every layout fills in (carriers name biosamples;
# run and analysis ids on carriers are rare), so they are preferred over a target's own key.
_PIVOT_PREFERENCE = ("biosample", "individual")


@dataclass(frozen=True)
class PlanContext:
    """What planning reads besides the request: the entry types, hierarchies, term catalog, gene regions.

    `terms` holds the catalog of the collections the request's filters are evaluated on
    (`read_term_catalog`); `gene_regions` are the regions of the queried gene in the assembly of the
    datasets planned for (one context per assembly group).
    """

    table: EntryTypeTable = field(default_factory=EntryTypeTable)
    ontologies: OntologySet = NO_ONTOLOGIES
    terms: TermCatalog = field(default_factory=TermCatalog)
    gene_regions: tuple[GeneRegion, ...] = ()


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


def related(source: EntryType, target: EntryType, cond: Condition) -> Condition:
    """Target records linked, in their own dataset, to the `source` records matching `cond`.

    Dataset records are linked to what their dataset holds; other types through `pivot`.
    :raise InvalidRequest: no key links the two entry types.
    """
    if isinstance(cond, Nothing):
        return cond
    if target.lists_datasets:
        return Related(source.collection, SAME_DATASET, cond)
    kind = pivot(source, target)
    if kind is None:
        msg = f"{source.path} cannot be related to {target.path}"
        raise InvalidRequest(msg)
    return Related(source.collection, kind, cond)


def _filter(f: Filter, target: EntryType, context: PlanContext) -> Condition:
    scope_entry = filter_scope(f, target, context.table)
    # A hierarchy can widen a term to thousands (HP:0000118: 18,386): keep those the store holds.
    widened = not f.is_alphanumeric and context.ontologies.knows(f.id)
    present = context.terms.of(scope_entry.collection) if widened else None
    cond = filter_condition(f, scope_entry.id, context.ontologies, present)
    if scope_entry.id == target.id:
        return cond
    return related(scope_entry, target, cond)


def plan_condition(request: BeaconRequest, target: EntryType, context: PlanContext) -> Condition | None:
    """Everything the request asks of `target` records, as one condition (None: no restriction).

    Ontology filters are widened through `context.ontologies` (docs/filters.md), narrowed to the terms
    `context.terms` holds for the filter's scope; filter groups (the anyOf/noneOf extension) are ANDed
    with the filters. Pure: the same request and context always give the same condition.

    :raise InvalidRequest: malformed variant parameters, an unknown filter scope, or a scope no key links.
    """
    parts: list[Condition | None] = []
    variants = context.table.variant_type()
    vcond = variant_condition(request.variant, context.gene_regions)
    if vcond is not None:
        parts.append(vcond if target.id == variants.id else related(variants, target, vcond))
    population = population_condition(request)
    if population is not None:
        parts.append(population if target.id == variants.id else related(variants, target, population))
    for f in other_filters(request):
        parts.append(_filter(f, target, context))
    for group in request.filter_groups:
        members = [_filter(f, target, context) for f in group.filters]
        anyof: Condition = members[0] if len(members) == 1 else Or(tuple(members))
        parts.append(anyof if group.kind == "anyOf" else Not(anyof))
    return all_of(*parts)


def filter_warnings(request: BeaconRequest, target: EntryType, context: PlanContext) -> list[str]:
    """What `info.warnings` says about the filters: ids nothing can match, similarity without a hierarchy.

    An ontology or custom filter id is unknown when no loaded hierarchy has it and the catalog of its
    scope (`context.terms`, over the datasets searched) does not hold it; alphanumeric filters name
    paths and are not checked, nor are filters on a collection whose catalog was not read.

    :raise InvalidRequest: an unknown filter scope.
    """
    warnings: list[str] = []
    every = [*request.filters, *(f for g in request.filter_groups for f in g.filters)]
    ontologies = context.ontologies
    for f in every:
        if f.is_alphanumeric:
            continue
        scope_entry = filter_scope(f, target, context.table)
        held = context.terms.of(scope_entry.collection)
        if not ontologies.knows(f.id) and held is not None and f.id not in held:
            warnings.append(
                f"filter {f.id}: unknown term: in no loaded ontology and on no {scope_entry.path} record "
                "of the datasets searched, so it matches nothing"
            )
        elif f.similarity != "exact" and ontologies.for_term(f.id) is None:
            prefix = f.id.partition(":")[0]
            warnings.append(f"filter {f.id}: similarity {f.similarity} needs a hierarchy for {prefix}; matched exactly")
    return list(dict.fromkeys(warnings))


def lookup_condition(source: EntryType, record_id: str, via: str) -> Condition:
    """Target records sharing a `via` key with the source record, in its dataset (`/{source}/{id}/{target}`)."""
    return Related(source.collection, SAME_DATASET if via == DATASET_KEY else via, Compare(Field.ID, "=", record_id))


def lookup_datasets(record_id: str, via: str, datasets: tuple[str, ...]) -> tuple[str, ...] | None:
    """For dataset lookups the dataset scope itself narrows; None when `via` is not the dataset key."""
    if via != DATASET_KEY:
        return None
    return tuple(d for d in datasets if d == record_id)
