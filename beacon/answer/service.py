"""The answer service: a question and its caller in, a Beacon response body and its audit facts out.

Free of aiohttp: the HTTP handlers, the fast lane and the aggregator call the same `AnswerService`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from beacon.answer import body as bodies
from beacon.answer.audit import evaluated
from beacon.answer.decision import Decision, decide, disclosure, granularity, query_rights
from beacon.answer.disclosure import Disclosure
from beacon.answer.envelope import response_meta
from beacon.config import Config
from beacon.errors import Forbidden, InvalidRequest, NotFound
from beacon.genome.genes import GeneTable
from beacon.genome.hgvs import is_transcript_hgvs
from beacon.genome.liftover import Lifter
from beacon.model.entry_types import EntryType, Lookup
from beacon.model.granularity import Granularity
from beacon.model.plan import Compare, Condition, Field, Query, all_of
from beacon.model.request import BeaconRequest
from beacon.ontology import NO_ONTOLOGIES, OntologySet
from beacon.query.assemblies import SearchGroup, assembly_groups
from beacon.query.catalog import read_term_catalog
from beacon.query.planner import PlanContext, filter_warnings, lookup_condition, lookup_datasets, plan_condition
from beacon.query.populations import restricted, selected_population
from beacon.security.access import Access, accessible, unconfigured
from beacon.security.limits import QueryBudget
from beacon.security.tokens import Caller
from beacon.store.base import DatasetInfo, Store, Term
from beacon.store.snapshot import one_snapshot

log = logging.getLogger("beacon.answer")


@dataclass(frozen=True)
class Ask:
    """One question: the path's entry type (and record id, lookup), the parsed request, the caller."""

    entry: EntryType
    request: BeaconRequest
    caller: Caller = field(default_factory=Caller)
    record_id: str | None = None
    lookup: Lookup | None = None


# (entry type, variant query kind, filtered, granularity answered): the labels of the query metrics.
QueryLabels = tuple[str, str, bool, str]


class Answer(NamedTuple):
    """One answer: the response body and what the audit log and the query metrics record of it.

    A NamedTuple rather than a frozen dataclass: one is made per request, and a frozen dataclass's
    `__init__` (one `object.__setattr__` per field) cost 0.8 µs of a point query's ~100.
    """

    document: dict[str, Any]
    target: EntryType
    datasets: tuple[str, ...]
    granularity: Granularity
    audit: dict[str, Any]  # the question as evaluated, for the audit log
    labels: QueryLabels


@dataclass(frozen=True)
class Prepared:
    """Everything decided about a question before any record is counted (the fast lane keeps these)."""

    ask: Ask
    target: EntryType
    loaded: tuple[DatasetInfo, ...]
    decision: Decision
    datasets: tuple[str, ...]  # after the path narrowed them to the holders of its record
    path_condition: Condition | None
    groups: tuple[SearchGroup, ...]
    warnings: tuple[str, ...]
    in_scope: tuple[Access, ...]
    granularity: Granularity
    disclosure: Disclosure

    @property
    def lifted(self) -> bool:
        return any(g.lifted_to for g in self.groups)


@dataclass(frozen=True)
class Search:
    datasets: tuple[str, ...]
    condition: Condition | None


class AnswerService:
    """Answers questions from one store under one configuration."""

    def __init__(
        self,
        config: Config,
        store: Store,
        budget: QueryBudget | None = None,
        lifters: Mapping[tuple[str, str], Lifter] | None = None,
        genes: Mapping[str, GeneTable] | None = None,
        ontologies: OntologySet = NO_ONTOLOGIES,
    ) -> None:
        self.config, self.store, self.budget = config, store, budget
        self.lifters = lifters or {}
        self.genes = genes or {}
        self.ontologies = ontologies
        self._unserved: frozenset[str] = frozenset()

    def _warn_unserved(self, loaded: tuple[DatasetInfo, ...]) -> None:
        """Say once, in the log, which loaded datasets are not served for want of a policy."""
        unserved = frozenset(unconfigured(self.config, loaded))
        if unserved - self._unserved:
            log.warning(
                "not serving dataset(s) %s: the configuration names them nowhere and sets no datasets_default",
                ", ".join(sorted(unserved)),
            )
        self._unserved = unserved

    def target_of(self, ask: Ask) -> EntryType:
        return self.config.entry_types.by_id(ask.lookup.target) if ask.lookup else ask.entry

    async def prepare(self, ask: Ask) -> Prepared:
        """Rights, scope, granularity and disclosure of `ask`; spends the caller's genotype budget."""
        target = self.target_of(ask)
        breq = ask.request
        _check_schemas(breq, target)
        loaded = tuple(await self.store.datasets())
        self._warn_unserved(loaded)
        decision = decide(self.config, loaded, ask.caller, breq, ask.entry, target, ask.record_id, self.budget)
        datasets, path_condition = await self._scope(ask, decision.datasets)
        _check_transcript_hgvs(breq, [d for d in loaded if d.id in datasets])
        known = {d.id: d.assembly for d in loaded}
        groups, warnings = assembly_groups(breq.variant, {d: known.get(d) for d in datasets}, self.lifters)
        in_scope = decision.within(datasets)
        disclosed = disclosure(target, in_scope)
        level = granularity(self.config, breq, target, in_scope)
        # Groups below the floor read as empty, so even a yes/no answer says "at least k": a union padded
        # with people of known number would find that threshold. Refused at every granularity.
        disclosed.check(breq)
        return Prepared(
            ask,
            target,
            loaded,
            decision,
            datasets,
            path_condition,
            tuple(groups),
            tuple(warnings),
            tuple(in_scope),
            level,
            disclosed,
        )

    async def _scope(self, ask: Ask, datasets: tuple[str, ...]) -> tuple[tuple[str, ...], Condition | None]:
        """Datasets to search and the condition the path itself imposes (`/{entry}/{id}[/{target}]`)."""
        entry, record_id, lookup = ask.entry, ask.record_id, ask.lookup
        if record_id is None:
            return datasets, None
        if lookup is not None:
            narrowed = lookup_datasets(record_id, lookup.via, datasets)
            if narrowed is not None:
                if not narrowed:
                    raise NotFound(f"{entry.path}/{record_id}: no such {entry.id}")
                return narrowed, None
        holders = tuple(await self.store.record_datasets(entry.collection, record_id, datasets))
        if not holders:
            raise NotFound(f"{entry.path}/{record_id}: no such {entry.id}")
        if lookup is None:
            return holders, Compare(Field.ID, "=", record_id)
        # Every dataset in scope is searched (and listed with includeResultsetResponses=ALL); the
        # condition pairs target records with the source record of their own dataset only.
        return datasets, lookup_condition(entry, record_id, lookup.via)

    async def plan(self, prepared: Prepared) -> tuple[list[Search], PlanContext]:
        """One condition per group of datasets searched alike (lifted groups differ), and the context
        they were planned in (the term catalog, read here: planning itself never reads the store)."""
        breq, target, table = prepared.ask.request, prepared.target, self.config.entry_types
        terms = await read_term_catalog(self.store, breq, target, table, prepared.datasets)
        context = PlanContext(table, self.ontologies, terms)
        searches = []
        for group in prepared.groups:
            grouped = replace(breq, variant=group.params)
            genes = self.genes.get(group.assembly or "")
            regions = genes.lookup(breq.variant.geneId) if genes and breq.variant.geneId else ()
            condition = plan_condition(grouped, target, replace(context, gene_regions=regions))
            searches.append(Search(group.datasets, all_of(prepared.path_condition, condition)))
        return searches, context

    async def answer(self, ask: Ask) -> Answer:
        # The counts, records and pages of one answer read one version of each dataset (store/snapshot.py).
        with one_snapshot():
            return await self._answer(ask)

    async def _answer(self, ask: Ask) -> Answer:
        prepared = await self.prepare(ask)
        breq, target = ask.request, prepared.target
        if (
            not target.non_filtered_queries_allowed
            and ask.record_id is None
            and not breq.filters
            and not breq.filter_groups
            and breq.variant.is_empty()
        ):
            msg = f"{target.path} needs at least one filter or request parameter"
            raise InvalidRequest(msg)
        searches, context = await self.plan(prepared)
        exact: dict[str, int] = {}
        for search in searches:
            exact.update(await self.store.count_by_dataset(Query(target.collection, search.datasets, search.condition)))
        body = await self._body(prepared, searches, exact)
        warnings = list(prepared.warnings) + filter_warnings(breq, target, context)
        info: dict[str, Any] = {}
        if warnings:
            info["warnings"] = warnings
        if breq.filter_groups:
            # The anyOf/noneOf extension is echoed here: receivedRequestSummary has no place for it.
            info["filterGroups"] = [g.as_echo() for g in breq.filter_groups]
        lifted = [_lifted(g) for g in prepared.groups if g.lifted_to]
        if lifted:
            info["liftover"] = lifted
        if info:
            body["info"] = info
        meta = response_meta(self.config, breq, target, prepared.granularity)
        disclosed = bodies.disclosed(exact, prepared.disclosure)
        audit = evaluated(prepared, disclosed)
        labels = (target.id, breq.variant.query_type(), bool(breq.filters), prepared.granularity.value)
        return Answer({"meta": meta, **body}, target, prepared.datasets, prepared.granularity, audit, labels)

    async def _body(self, prepared: Prepared, searches: list[Search], exact: dict[str, int]) -> dict[str, Any]:
        """responseSummary plus, as the granularity allows, collections or result sets."""
        target, breq, level = prepared.target, prepared.ask.request, prepared.granularity
        datasets = tuple(d for s in searches for d in s.datasets)
        if level is not Granularity.RECORD:
            return bodies.counts_body(target, datasets, exact, prepared.disclosure, breq.include, level)
        counts = bodies.disclosed(exact, prepared.disclosure)
        precision = prepared.disclosure.precision(datasets)
        out: dict[str, Any] = {"responseSummary": bodies.summary(sum(counts.values()), level, precision)}
        offset, limit = breq.skip * breq.limit, breq.limit
        if target.is_collection:
            records = await self._collections(target, searches, offset, limit) if counts else []
            if target.lists_datasets:
                records = [self._with_access(prepared, d) for d in records]
            out["response"] = {"collections": records}
            return out
        where = {d: s.condition for s in searches for d in s.datasets}
        population, _ = selected_population(breq)
        sets = []
        for dataset in datasets:
            n = counts.get(dataset, 0)
            if not breq.include.keeps(n > 0):
                continue
            results: list[dict[str, Any]] = []
            if n and prepared.disclosure.shows_records(dataset, exact[dataset]):
                page = Query(target.collection, (dataset,), where[dataset], offset=offset, limit=limit)
                found = await self.store.find(page)
                results = prepared.disclosure.within_floor(dataset, target.embedded_groups, found)
                if population is not None and target.holds_variants:
                    results = [restricted(r, population) for r in results]
            sets.append(bodies.result_set(dataset, n, results, prepared.disclosure.precision((dataset,))))
        out["response"] = {"resultSets": sets}
        return out

    async def _collections(
        self, target: EntryType, searches: list[Search], offset: int, limit: int
    ) -> list[dict[str, Any]]:
        """One page over the collections of every group, in group order (a group per assembly)."""
        if len({s.condition for s in searches}) == 1:
            every = tuple(d for s in searches for d in s.datasets)
            return await self.store.find(
                Query(target.collection, every, searches[0].condition, offset=offset, limit=limit)
            )
        found: list[dict[str, Any]] = []
        for s in searches:
            found += await self.store.find(Query(target.collection, s.datasets, s.condition, limit=offset + limit))
        return found[offset : offset + limit]

    async def filtering_terms(
        self, request: BeaconRequest, caller: Caller, entry: EntryType | None = None, record_id: str | None = None
    ) -> list[Term]:
        """Terms over every entry type, one entry type, or one record (`/{entry}/{id}/filtering_terms`),
        from the datasets the caller may query only."""
        with one_snapshot():
            return await self._filtering_terms(request, caller, entry, record_id)

    async def _filtering_terms(
        self, request: BeaconRequest, caller: Caller, entry: EntryType | None, record_id: str | None
    ) -> list[Term]:
        table = self.config.entry_types
        loaded = await self.store.datasets()
        if entry is None:
            datasets = tuple(a.id for a in query_rights(self.config, loaded, caller, request))
            return await self.store.terms(tuple(e.collection for e in table.enabled()), datasets)
        decision = decide(self.config, loaded, caller, request, entry, entry, record_id, self.budget)
        datasets = decision.datasets
        collections: tuple[str, ...] = (entry.collection,)
        record = None
        if record_id is not None:
            if decision.listing:
                # A listed dataset's description is not its records: their terms need the query right.
                datasets = tuple(a.id for a in query_rights(self.config, loaded, caller, request))
            datasets = tuple(await self.store.record_datasets(entry.collection, record_id, datasets))
            if not datasets:
                raise NotFound(f"{entry.path}/{record_id}: no such {entry.id}")
            if entry.is_collection:
                # A dataset's or cohort's terms are those of every record it holds.
                collections = tuple(e.collection for e in table.enabled())
            else:
                _check_record_terms(entry, record_id, decision.within(datasets))
                record = (entry.collection, record_id)
        return await self.store.terms(collections, datasets, record)

    def _with_access(self, prepared: Prepared, dataset: dict[str, Any]) -> dict[str, Any]:
        """The dataset record with `info.beaconAccess`: its security level and what this caller may get from it.

        Clients (the web page, aggregators) show access per dataset from this instead of probing (docs/security.md).
        """
        queryable = {
            a.id: a
            for a in accessible(self.config, prepared.loaded, prepared.ask.caller, prepared.ask.request.test_mode)
        }
        access = queryable.get(dataset["id"])
        policy = self.config.dataset_policy(dataset["id"])
        described: dict[str, Any] = {"securityLevel": policy.security.value if policy else "controlled"}
        described["queryable"] = access is not None
        if access is not None:
            described["granularity"] = access.granularity.value
            if access.count_floor > 1:
                # Counts below it read as 0: clients say "none, or fewer than k" instead of "none".
                described["countFloor"] = access.count_floor
        info = dataset.get("info")
        return {**dataset, "info": {**(info if isinstance(info, dict) else {}), "beaconAccess": described}}


def _check_record_terms(entry: EntryType, record_id: str, holders: Sequence[Access]) -> None:
    """One record's terms describe one person: only for callers who may see that record itself.

    :raise Forbidden: a dataset holding the record gives this caller less than record granularity, or
        floors its counts (a single record is a group below any floor).
    """
    if all(a.granularity is Granularity.RECORD and a.count_floor <= 1 for a in holders):
        return
    msg = (
        f"{entry.path}/{record_id}/filtering_terms describes one record: it needs record granularity without "
        "a count floor on every dataset holding it (docs/security.md)"
    )
    raise Forbidden(msg)


def _check_schemas(request: BeaconRequest, target: EntryType) -> None:
    # The full schema id, or a short name for it: the entry type id or the id without its `ga4gh-` prefix.
    known = (target.schema_id, target.id, target.schema_id.removeprefix("ga4gh-"))
    unsupported = [s for s in request.requested_schemas if s not in known]
    if unsupported:
        names = ", ".join(unsupported)
        msg = f"requested schema(s) not supported for {target.path}: {names}; supported: {target.schema_id}"
        raise InvalidRequest(msg)


def _check_transcript_hgvs(request: BeaconRequest, in_scope: list[DatasetInfo]) -> None:
    """A c./p. expression can only match transcript annotations: without any, say so instead of answering empty."""
    expression = request.variant.genomicAlleleShortForm
    if not expression or not is_transcript_hgvs(expression):
        return
    if not any(d.transcript_annotated_variants for d in in_scope):
        msg = (
            f"genomicAlleleShortForm: {expression} names the allele through a transcript or protein, and the "
            "datasets searched carry no transcript annotations to match it; ask with a genomic (g.) expression "
            "or with coordinates"
        )
        raise InvalidRequest(msg)


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
