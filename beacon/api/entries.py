"""The one handler for every entry type, single entry and cross-entity lookup, driven by the entry-type table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from beacon.api.envelope import response_meta, result_set
from beacon.api.keys import (
    CALLER,
    CONFIG,
    ENTRY,
    GENES,
    LIFTERS,
    ONTOLOGIES,
    PARSED_REQUEST,
    QUERY_BUDGET,
    RETURNED_GRANULARITY,
    STORE,
    TOUCHED,
)
from beacon.api.parse import parse_request
from beacon.config import Config
from beacon.errors import InvalidRequest, NotFound
from beacon.genome.hgvs import is_transcript_hgvs
from beacon.genome.liftover import Lifter
from beacon.model.entry_types import EntryType, Lookup
from beacon.model.granularity import Granularity, IncludeResultsets, SecurityLevel
from beacon.model.plan import Compare, Condition, Field, Query, all_of
from beacon.model.request import BeaconRequest
from beacon.query.assemblies import SearchGroup, assembly_groups
from beacon.query.catalog import read_term_catalog
from beacon.query.planner import PlanContext, filter_warnings, lookup_condition, lookup_datasets, plan_condition
from beacon.security.access import Access, disclosed_count, listed_datasets, visible_datasets
from beacon.store.base import TRANSCRIPT_ANNOTATED, DatasetInfo, Store


def _check_schemas(request: BeaconRequest, target: EntryType) -> None:
    unsupported = [s for s in request.requested_schemas if s not in (target.schema_id, target.id)]
    if unsupported:
        names = ", ".join(unsupported)
        msg = f"requested schema(s) not supported for {target.path}: {names}; supported: {target.schema_id}"
        raise InvalidRequest(msg)


async def _scope(
    store: Store, entry: EntryType, record_id: str | None, lookup: Lookup | None, datasets: tuple[str, ...]
) -> tuple[tuple[str, ...], Condition | None]:
    """Datasets to search and the condition the path itself imposes (`/{entry}/{id}[/{target}]`)."""
    if record_id is None:
        return datasets, None
    if lookup is not None:
        narrowed = lookup_datasets(record_id, lookup.via, datasets)
        if narrowed is not None:
            if not narrowed:
                raise NotFound(f"{entry.path}/{record_id}: no such {entry.id}")
            return narrowed, None
    holders = tuple(await store.record_datasets(entry.collection, record_id, datasets))
    if not holders:
        raise NotFound(f"{entry.path}/{record_id}: no such {entry.id}")
    if lookup is None:
        return holders, Compare(Field.ID, "=", record_id)
    return datasets, lookup_condition(entry, record_id, lookup.via)


def _check_transcript_hgvs(request: BeaconRequest, in_scope: list[DatasetInfo]) -> None:
    """A c./p. expression can only match transcript annotations: without any, say so instead of answering empty."""
    expression = request.variant.genomicAlleleShortForm
    if not expression or not is_transcript_hgvs(expression):
        return
    if not any(d.counts.get(TRANSCRIPT_ANNOTATED) for d in in_scope):
        msg = (
            f"genomicAlleleShortForm: {expression} names the allele through a transcript or protein, and the "
            "datasets searched carry no transcript annotations to match it; ask with a genomic (g.) expression "
            "or with coordinates"
        )
        raise InvalidRequest(msg)


def _wanted(breq: BeaconRequest, loaded: list[DatasetInfo]) -> set[str]:
    return set(breq.dataset_ids) if breq.dataset_ids else {d.id for d in loaded}


def _granularity(config: Config, request: BeaconRequest, target: EntryType, in_scope: list[Access]) -> Granularity:
    # One granularity per response: the coarsest that every dataset in scope allows this caller
    # (docs/decisions.md).
    return request.granularity.at_most(
        config.query.max_granularity, target.max_granularity, *(a.granularity for a in in_scope)
    )


@dataclass(frozen=True)
class Scope:
    """What a request may search and how, decided before any condition is planned."""

    target: EntryType
    record_id: str | None
    loaded: list[DatasetInfo]
    policies: list[Access]
    datasets: tuple[str, ...]
    path_condition: Condition | None
    groups: list[SearchGroup]
    warnings: list[str]
    in_scope: list[Access]
    granularity: Granularity

    @property
    def protected(self) -> bool:
        return any(a.policy.security is not SecurityLevel.PUBLIC for a in self.in_scope)

    @property
    def floors(self) -> dict[str, int]:
        # Collections (datasets, cohorts) describe data, not people: they are never floored.
        return {} if self.target.is_collection else {a.id: a.count_floor for a in self.in_scope}


async def scope_of(
    request: web.Request, breq: BeaconRequest, entry: EntryType, lookup: Lookup | None, single: bool
) -> Scope:
    """Datasets, assembly groups and granularity for `breq` from the caller of `request` (no budget spent)."""
    config = request.app[CONFIG]
    store = request.app[STORE]
    target = config.entry_types.by_id(lookup.target) if lookup else entry
    record_id = request.match_info.get("id") if (single or lookup) else None
    loaded = await store.datasets()
    caller = request[CALLER]
    policies = visible_datasets(config, loaded, breq, caller)
    if target.id == "dataset" and lookup is None and config.security.list_inaccessible_datasets:
        policies = [a for a in listed_datasets(config, loaded, breq.test_mode) if a.id in _wanted(breq, loaded)]
    datasets, path_condition = await _scope(store, entry, record_id, lookup, tuple(p.id for p in policies))
    _check_transcript_hgvs(breq, [d for d in loaded if d.id in datasets])
    known = {d.id: d.assembly for d in loaded}
    lifters: dict[tuple[str, str], Lifter] = request.app[LIFTERS]
    groups, warnings = assembly_groups(breq.variant, {d: known.get(d) for d in datasets}, lifters)
    in_scope = [p for p in policies if p.id in datasets]
    granularity = _granularity(config, breq, target, in_scope)
    return Scope(target, record_id, loaded, policies, datasets, path_condition, groups, warnings, in_scope, granularity)


async def answer(request: web.Request, entry: EntryType, lookup: Lookup | None, single: bool) -> web.Response:
    config = request.app[CONFIG]
    store = request.app[STORE]
    request[ENTRY] = config.entry_types.by_id(lookup.target) if lookup else entry
    breq = await parse_request(request, config.query)
    request[PARSED_REQUEST] = breq
    _check_schemas(breq, request[ENTRY])
    scope = await scope_of(request, breq, entry, lookup, single)
    target, record_id, datasets, granularity = scope.target, scope.record_id, scope.datasets, scope.granularity
    request[TOUCHED] = tuple(datasets)
    request[RETURNED_GRANULARITY] = granularity.value
    if target.id == "genomicVariant" and not breq.variant.is_empty() and scope.protected:
        # Allele queries on registered or controlled data spend the caller's budget (docs/security.md).
        request.app[QUERY_BUDGET].spend(request[CALLER].identity)
    if (
        not target.non_filtered_queries_allowed
        and record_id is None
        and not breq.filters
        and not breq.filter_groups
        and breq.variant.is_empty()
    ):
        msg = f"{target.path} needs at least one filter or request parameter"
        raise InvalidRequest(msg)
    genes = request.app[GENES]
    # The store's filtering-term catalog, read once per collection for this request, before planning.
    terms = await read_term_catalog(store, breq, target, config.entry_types, datasets)
    context = PlanContext(config.entry_types, request.app[ONTOLOGIES], terms)
    searches = []
    for group in scope.groups:
        grouped = replace(breq, variant=group.params)
        table = genes.get(group.assembly or "")
        regions = table.lookup(breq.variant.geneId) if table and breq.variant.geneId else ()
        condition = plan_condition(grouped, target, replace(context, gene_regions=regions))
        searches.append((group.datasets, all_of(scope.path_condition, condition)))
    meta = response_meta(config, breq, target, granularity)
    body = await _answer_body(store, target, searches, breq, granularity, scope.floors)
    if target.id == "dataset" and "response" in body:
        queryable = {
            a.id: a for a in visible_datasets(config, scope.loaded, replace(breq, dataset_ids=()), request[CALLER])
        }
        body["response"]["collections"] = [_with_access(config, d, queryable) for d in body["response"]["collections"]]
    warnings = scope.warnings + filter_warnings(breq, target, context)
    info: dict[str, Any] = {}
    if warnings:
        info["warnings"] = warnings
    if breq.filter_groups:
        # The anyOf/noneOf extension is echoed here: receivedRequestSummary has no place for it.
        info["filterGroups"] = [g.as_echo() for g in breq.filter_groups]
    lifted = [_lifted(g) for g in scope.groups if g.lifted_to]
    if lifted:
        info["liftover"] = lifted
    if info:
        body["info"] = info
    return web.json_response({"meta": meta, **body})


def _with_access(config: Config, dataset: dict[str, Any], queryable: dict[str, Access]) -> dict[str, Any]:
    """The dataset record with `info.beaconAccess`: its security level and what this caller may get from it.

    Clients (the web page, aggregators) show access per dataset from this instead of probing (docs/security.md).
    """
    access = queryable.get(dataset["id"])
    described: dict[str, Any] = {"securityLevel": config.dataset_policy(dataset["id"]).security.value}
    described["queryable"] = access is not None
    if access is not None:
        described["granularity"] = access.granularity.value
    info = dataset.get("info")
    return {**dataset, "info": {**(info if isinstance(info, dict) else {}), "beaconAccess": described}}


def _summary(total: int, granularity: Granularity) -> dict[str, Any]:
    summary: dict[str, Any] = {"exists": total > 0}
    if granularity is not Granularity.BOOLEAN:
        summary["numTotalResults"] = total
    return summary


def _lifted(group: SearchGroup) -> dict[str, Any]:
    """How a group of datasets was searched after liftover, for `info.liftover`."""
    p = group.params
    return {
        "datasets": list(group.datasets),
        "assemblyId": group.lifted_to,
        "referenceName": p.referenceName,
        "start": list(p.start),
        **({"end": list(p.end)} if p.end else {}),
    }


async def _answer_body(
    store: Store,
    target: EntryType,
    searches: list[tuple[tuple[str, ...], Condition | None]],
    breq: BeaconRequest,
    granularity: Granularity,
    floors: dict[str, int],
) -> dict[str, Any]:
    """responseSummary plus, as the granularity allows, collections (datasets, cohorts) or result sets.

    `searches` pairs datasets with the condition they are searched with (lifted queries differ).
    Counts below a dataset's floor are reported as the floor, and such a dataset returns no records.
    """
    counts: dict[str, int] = {}
    where_of: dict[str, Condition | None] = {}
    exact: dict[str, int] = {}
    for group, condition in searches:
        exact.update(await store.count_by_dataset(Query(target.collection, group, condition)))
        where_of.update(dict.fromkeys(group, condition))
    datasets = tuple(d for group, _ in searches for d in group)
    if granularity is not Granularity.RECORD:
        return counts_body(target, datasets, exact, floors, breq.include, granularity)
    counts = {d: disclosed_count(n, floors.get(d, 0)) for d, n in exact.items()}
    total = sum(counts.values())
    body: dict[str, Any] = {"responseSummary": _summary(total, granularity)}
    offset, limit = breq.skip * breq.limit, breq.limit
    if target.is_collection:
        # Collections page over all datasets at once; lifted groups do not apply to them.
        (group, condition), *_ = searches
        page = Query(target.collection, group, condition, offset=offset, limit=limit)
        body["response"] = {"collections": await store.find(page) if total else []}
        return body
    sets = []
    for dataset in datasets:
        n = counts.get(dataset, 0)
        if not breq.include.keeps(n > 0):
            continue
        results: list[dict[str, Any]] = []
        if n and exact[dataset] >= floors.get(dataset, 0):
            page = Query(target.collection, (dataset,), where_of[dataset], offset=offset, limit=limit)
            results = await store.find(page)
        sets.append(result_set(dataset, n, results))
    body["response"] = {"resultSets": sets}
    return body


def counts_body(
    target: EntryType,
    datasets: tuple[str, ...],
    exact: dict[str, int],
    floors: dict[str, int],
    include: IncludeResultsets,
    granularity: Granularity,
) -> dict[str, Any]:
    """The boolean or count answer from exact counts per dataset, each disclosed under its floor."""
    counts = {d: disclosed_count(n, floors.get(d, 0)) for d, n in exact.items()}
    body: dict[str, Any] = {"responseSummary": _summary(sum(counts.values()), granularity)}
    if target.is_collection or granularity is Granularity.BOOLEAN:
        return body
    sets = [result_set(d, counts.get(d, 0), []) for d in datasets if include.keeps(counts.get(d, 0) > 0)]
    body["response"] = {"resultSets": sets}
    return body
