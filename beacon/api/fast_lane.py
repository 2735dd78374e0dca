"""The fast lane: anonymous single-allele questions answered from decisions kept per request shape.

"Is this allele here, and in how many datasets?" is the request beacon networks send most. The lane
sits inside the g_variants handler, behind every middleware (request id, rate limit, caller, audit,
errors, metrics), and keeps what the answer service decided for the first request of each shape
(method, assemblyId, requestedGranularity): the rights, scope, granularity, disclosure, meta section
and warnings, until the store changes (its `data_version`, checked every RECHECK_S). Each request then
costs a strict parse, one prepared point lookup and the body, disclosed by the same `Disclosure`.

The lane only takes what it fully understands; anything else, and any failure, goes the general way:
- GET or POST on the g_variants collection from an anonymous caller;
- exactly referenceName, start (one position), referenceBases and alternateBases, optionally
  assemblyId and requestedGranularity boolean or count; bases in ACGT only (no N wildcard), a
  chromosome name (no RefSeq accession), nothing to strip or upper-case;
- a shape is taken only when the service's plan for its first request is exactly the equality lookup
  the lane runs, the echo it builds equals the general one, nothing is charged to a budget, and the
  datasets in scope are searched as asked (no liftover).
Any store that can count one equality inline (`InlineCounting`) gets a lane.
tests/api/test_fast_lane.py asks the same questions with the lane on and off and compares the answers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, runtime_checkable

from aiohttp import web

from beacon.answer.audit import evaluated
from beacon.answer.body import counts_body, disclosed
from beacon.answer.disclosure import Disclosure
from beacon.answer.envelope import response_meta
from beacon.answer.service import Answer, AnswerService, Ask, Prepared, QueryLabels
from beacon.api.keys import AUDIT, CALLER, CONFIG, STORE_METRICS
from beacon.api.parse import parse_request
from beacon.errors import BeaconError
from beacon.genome.alleles import is_trimmable
from beacon.genome.assemblies import canonical_assembly, canonical_chromosome, refseq_chromosome
from beacon.model.entry_types import EntryType
from beacon.model.granularity import Granularity, IncludeResultsets
from beacon.model.plan import And, Compare, Field
from beacon.model.request import API_VERSION
from beacon.query.planner import filter_warnings

try:
    import orjson
except ImportError:  # pragma: no cover - the `fast` extra is not installed
    orjson = None  # type: ignore[assignment]

Counter = Callable[[tuple[object, ...]], dict[str, int]]

_NAME = re.compile(r"[A-Za-z0-9_.]{1,32}")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9_.=&]{1,8190}")
_REQUIRED = frozenset({"referenceName", "start", "referenceBases", "alternateBases"})
_ACCEPTED = _REQUIRED | {"assemblyId"}
_GRANULARITIES = frozenset({"boolean", "count"})
# A lane POST body is a few hundred bytes; anything larger is not one.
_MAX_BODY = 2048
# How often the lane asks the store whether it changed (a load or delete committed). The counts
# themselves always come from the latest commit; only what the lane decided (datasets in scope,
# their assemblies) may lag a commit by this long. Asking per request cost as much as the lookup.
RECHECK_S = 0.01
# Shapes are few (methods x assembly spellings x granularities); the bound keeps odd spellings from growing it.
_MAX_SHAPES = 64


class _Undecided:
    """A shape whose lane is not decided yet (one dict lookup per request instead of two)."""


_UNDECIDED = _Undecided()


@runtime_checkable
class InlineCounting(Protocol):
    """What a store offers the lane (the SQLite store does; others are always asked the general way)."""

    def data_version(self) -> int | None: ...

    def equality_counter(
        self, collection: str, datasets: tuple[str, ...], fields: tuple[Field, ...]
    ) -> Counter | None: ...


class Allele(NamedTuple):
    """A lane request's parameters: the allele and the shape they ask it in (method, assembly, granularity).

    Made per request, so a NamedTuple (a frozen dataclass's `__init__` costs a microsecond more).
    """

    method: str
    reference_name: str
    chrom: str
    start: int
    ref: str
    alt: str
    assembly_id: str | None
    granularity: str | None

    def echo(self) -> dict[str, Any]:
        """receivedRequestSummary.requestParameters, in VariantParams' order as the general path writes it."""
        params: dict[str, Any] = {} if self.assembly_id is None else {"assemblyId": self.assembly_id}
        params.update(
            referenceName=self.reference_name, start=[self.start], referenceBases=self.ref, alternateBases=self.alt
        )
        return {"g_variant": params}


@dataclass(frozen=True)
class Lane:
    """Everything the answer service decided for one shape, until the store changes."""

    target: EntryType
    datasets: tuple[str, ...]
    touched: tuple[str, ...]
    count: Counter
    assembly: tuple[object, ...]  # the value of the assembly condition, when there is one
    granularity: Granularity
    include: IncludeResultsets
    disclosure: Disclosure
    meta: dict[str, Any]
    info: dict[str, Any]
    labels: QueryLabels
    audit: dict[str, Any]  # the audit facts of the shape's first request

    def answer(self, allele: Allele, exact: dict[str, int]) -> Answer:
        summary = {**self.meta["receivedRequestSummary"], "requestParameters": allele.echo()}
        meta = {**self.meta, "receivedRequestSummary": summary}
        body = counts_body(self.target, self.datasets, exact, self.disclosure, self.include, self.granularity)
        if self.info:
            body["info"] = self.info
        audit: dict[str, Any] = {}
        if self.audit:  # kept only when an audit log is written
            shown = disclosed(exact, self.disclosure)
            audit = {
                **self.audit,
                "requestParameters": allele.echo()["g_variant"],
                "disclosed": {d: shown.get(d, 0) for d in self.touched},
            }
        return Answer({"meta": meta, **body}, self.target, self.touched, self.granularity, audit, self.labels)


@lru_cache(maxsize=256)
def _chromosome(name: str) -> str | None:
    """The stored chromosome for a plain chromosome name; None for accessions (they imply an assembly)."""
    if not _NAME.fullmatch(name) or refseq_chromosome(name) is not None:
        return None
    return canonical_chromosome(name)


@lru_cache(maxsize=64)
def _assembly_id(name: str) -> bool:
    return name.strip() == name and canonical_assembly(name) is not None


def _allele(method: str, params: dict[str, Any], granularity: object) -> Allele | None:
    if not _REQUIRED <= params.keys() <= _ACCEPTED:
        return None
    name, start, ref, alt = params["referenceName"], params["start"], params["referenceBases"], params["alternateBases"]
    assembly = params.get("assemblyId")
    if "assemblyId" in params and assembly is None:
        return None
    if isinstance(start, list) and len(start) == 1:
        start = start[0]
    # The character tests below are the regular expressions [0-9]{1,10} and [ACGT]+ at a third of the
    # cost (`strip` leaves nothing exactly when every character is one it strips).
    if isinstance(start, str) and method == "GET" and start.isascii() and start.isdigit() and len(start) <= 10:
        start = int(start)
    if type(start) is not int or not 0 <= start < 1 << 32:
        return None
    if not (isinstance(ref, str) and isinstance(alt, str) and ref and alt):
        return None
    if ref.strip("ACGT") or alt.strip("ACGT"):
        return None
    if is_trimmable(ref, alt):
        return None  # the planner trims it first (query/variants.py: stored_form); the lane looks up as given
    if not isinstance(name, str) or (chrom := _chromosome(name)) is None:
        return None
    if assembly is not None and not (isinstance(assembly, str) and _assembly_id(assembly)):
        return None
    if granularity is not None and granularity not in _GRANULARITIES:
        return None
    return Allele(method, name, chrom, start, ref, alt, assembly, granularity)


def _from_query(query_string: str) -> Allele | None:
    # Lane values are letters, digits, `_` and `.`: a query string of only those, `=` and `&` needs no
    # decoding, so it is split here (a fifth of the cost of the parsed MultiDict) exactly as yarl splits it.
    if not _PLAIN_QUERY.fullmatch(query_string):
        return None
    pairs = [pair.partition("=") for pair in query_string.split("&")]
    params = {name: value for name, sep, value in pairs if sep}
    if len(params) != len(pairs):
        return None  # a repeated parameter, or one without a value
    granularity = params.pop("requestedGranularity", None)
    return _allele("GET", params, granularity)


def _from_body(raw: bytes) -> Allele | None:
    try:
        # UTF-8 only, as the general parser reads bodies. orjson (the `fast` extra) where installed: it
        # reads the same values at 60 % of the cost, and what it refuses (NaN, lone surrogates) or reads
        # otherwise (integers beyond 64 bits, as floats) is declined here or below either way.
        body = orjson.loads(raw) if orjson is not None else json.loads(raw.decode())
    except ValueError:
        return None
    if not isinstance(body, dict) or not body.keys() <= {"meta", "query"}:
        return None
    meta = body.get("meta", {})
    if meta != {} and meta != {"apiVersion": API_VERSION}:
        return None
    query = body.get("query")
    if not isinstance(query, dict) or not query.keys() <= {"requestParameters", "requestedGranularity"}:
        return None
    params = query.get("requestParameters")
    if not isinstance(params, dict):
        return None
    return _allele("POST", params, query.get("requestedGranularity"))


class FastLane:
    """The lanes of one app, rebuilt whenever the store's content changes."""

    def __init__(self, app: web.Application, service: AnswerService, entry: EntryType, store: InlineCounting) -> None:
        self.entry = entry
        self.service = service
        self.store = store
        self._store_metrics = app[STORE_METRICS]
        self._version: int | None = None
        self._recheck_at = 0.0
        self.answered = 0  # requests answered here (tests and benchmarks check the lane is taken)
        self._lanes: dict[tuple[str, str | None, str | None], Lane | None] = {}

    async def _posted(self, request: web.Request) -> Allele | None:
        length = request.content_length
        # The query string rather than the parsed `query` (a MultiDict made for nothing): any is declined.
        if request.method != "POST" or request.query_string or length is None or length > _MAX_BODY:
            return None
        return _from_body(await request.read())

    async def answer(self, request: web.Request) -> Answer | None:
        """The answer, or None when the general path must give it."""
        if request[CALLER].registered:
            return None
        # A GET is parsed without a coroutine of its own (the lane's most frequent request).
        allele = _from_query(request.query_string) if request.method == "GET" else await self._posted(request)
        if allele is None:
            return None
        now = time.monotonic()
        if now >= self._recheck_at:
            version = self.store.data_version()
            if version is None:
                return None
            if version != self._version:
                self._lanes.clear()
                self._version = version
            self._recheck_at = now + RECHECK_S
        shape = allele.method, allele.assembly_id, allele.granularity
        lane = self._lanes.get(shape, _UNDECIDED)
        if isinstance(lane, _Undecided):
            try:
                lane = await self._build(request, allele)
            except BeaconError:
                return None  # invalid in a way the general path reports
            if len(self._lanes) < _MAX_SHAPES:
                self._lanes[shape] = lane
        if lane is None:
            return None
        started = time.perf_counter()
        exact = lane.count((allele.chrom, allele.start, allele.ref, allele.alt, *lane.assembly))
        self._store_metrics.observe("count", time.perf_counter() - started, True)
        self.answered += 1
        return lane.answer(allele, exact)

    async def _build(self, request: web.Request, allele: Allele) -> Lane | None:
        """The lane for `allele`'s shape as the answer service decides it; None when the shape is not for the lane.

        :raise BeaconError: this request is invalid (the general path says how).
        """
        config = request.app[CONFIG]
        entry, service = self.entry, self.service
        breq = await parse_request(request, config.query)
        prepared = await service.prepare(Ask(entry, breq, request[CALLER]))
        if not _lane_shaped(prepared, entry):
            return None
        (search,), context = await service.plan(prepared)
        warnings = list(prepared.warnings) + filter_warnings(breq, entry, context)
        expected = {Field.CHROM: allele.chrom, Field.START: allele.start, Field.REF: allele.ref, Field.ALT: allele.alt}
        assembly = canonical_assembly(allele.assembly_id) if allele.assembly_id else None
        if assembly is not None:
            expected[Field.ASSEMBLY] = assembly
        if not _is_exactly(search.condition, expected) or breq.variant.as_echo() != allele.echo()["g_variant"]:
            return None
        fields = (Field.CHROM, Field.START, Field.REF, Field.ALT) + ((Field.ASSEMBLY,) if assembly else ())
        count = self.store.equality_counter(entry.collection, search.datasets, fields)
        if count is None:
            return None
        granularity = prepared.granularity
        return Lane(
            target=entry,
            datasets=search.datasets,
            touched=prepared.datasets,
            count=count,
            assembly=(assembly,) if assembly else (),
            granularity=granularity,
            include=breq.include,
            disclosure=prepared.disclosure,
            meta=response_meta(config, breq, entry, granularity),
            info={"warnings": warnings} if warnings else {},
            labels=(entry.id, breq.variant.query_type(), False, granularity.value),
            audit=evaluated(prepared, {}) if request.app.get(AUDIT) is not None else {},
        )


def _lane_shaped(prepared: Prepared, entry: EntryType) -> bool:
    """One group searched as asked, nothing charged, no path, counts only: what the lane can answer alone."""
    return (
        len(prepared.groups) == 1
        and not prepared.lifted
        and prepared.decision.cost == 0
        and prepared.path_condition is None
        and prepared.granularity is not Granularity.RECORD
        and prepared.target is entry
    )


def _is_exactly(condition: object, expected: dict[Field, object]) -> bool:
    """True when `condition` is an And of `field = value` comparisons, one per entry of `expected`."""
    if not isinstance(condition, And) or len(condition.parts) != len(expected):
        return False
    return all(
        isinstance(p, Compare) and p.op == "=" and p.field in expected and expected[p.field] == p.value
        for p in condition.parts
    )


def install(app: web.Application, service: AnswerService) -> None:
    """Give `app` the lane for the entry type holding alleles when its store can count inline."""
    store = service.store.inner if hasattr(service.store, "inner") else service.store
    entry = service.config.entry_types.variants()
    if entry is not None and isinstance(store, InlineCounting):
        app[FAST_LANES] = FastLane(app, service, entry, store)


FAST_LANES = web.AppKey("fast_lane", FastLane)
