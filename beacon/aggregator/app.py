"""The aggregator's aiohttp application: a Beacon v2 API whose answers come from its members.

Framework endpoints answer from the aggregator's own configuration (so aggregators stack); entry
endpoints fan out to every member that serves the entry type, concurrently over one client session,
each member bounded by its own timeout and all of them by the overall deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from beacon.aggregator.members import Breaker, Member, Outcome, Status, call, warm_up
from beacon.aggregator.merge import merge
from beacon.aggregator.settings import AggregatorSettings
from beacon.answer.envelope import informational_meta
from beacon.api import framework
from beacon.api.keys import CONFIG, ENTRY, PARSED_REQUEST, REQUEST_IDS
from beacon.api.metrics import install as install_request_metrics
from beacon.api.metrics import metrics_middleware
from beacon.api.middleware import error_middleware
from beacon.api.parse import parse_request
from beacon.api.parse import warm_up as parse_warm_up
from beacon.api.request_ids import RequestIds
from beacon.api.web_page import add_web_routes
from beacon.model.entry_types import EntryType

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("aggregator_settings", AggregatorSettings)
MEMBERS = web.AppKey("members", dict[str, Member])
SESSION = web.AppKey("client_session", aiohttp.ClientSession)
CACHE = web.AppKey("answer_cache", dict[str, tuple[float, dict[str, Any]]])
NDJSON = "application/x-ndjson"
_CACHE_MAX = 1000


class Metrics:
    """Per-member latency and outcomes, in this app's own registry (bounded labels: member ids)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "beacon_aggregator_member_latency_seconds",
            "Latency of member answers",
            ["member"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.outcomes = Counter(
            "beacon_aggregator_member_outcomes_total", "Member outcomes", ["member", "outcome"], registry=self.registry
        )

    def observe(self, outcome: Outcome) -> None:
        self.outcomes.labels(outcome.member, outcome.status.value).inc()
        if outcome.status is not Status.SKIPPED:
            self.latency.labels(outcome.member).observe(outcome.latency_ms / 1000)


METRICS = web.AppKey("metrics", Metrics)


# -- discovery ----------------------------------------------------------------------------------


def _entry_paths(document: dict[str, Any]) -> frozenset[str] | None:
    sets = document.get("response", {}).get("endpointSets")
    if not isinstance(sets, dict):
        return None
    paths = set()
    for endpoint_set in sets.values():
        root = endpoint_set.get("rootUrl") if isinstance(endpoint_set, dict) else None
        if isinstance(root, str) and root.rstrip("/"):
            paths.add(root.rstrip("/").rsplit("/", 1)[-1])
    return frozenset(paths)


async def discover(app: web.Application, member: Member) -> None:
    """Read the member's /map (entry types it serves) and /info (its id); mark it healthy or not."""
    settings = app[SETTINGS]
    session = app[SESSION]
    outcome = await call(session, member, "GET", "/map", "", None, None, settings.max_response_bytes, validate=False)
    if outcome.status is Status.OK and outcome.document is not None:
        member.entry_paths = _entry_paths(outcome.document) or member.entry_paths
        member.beacon_id = outcome.document.get("meta", {}).get("beaconId", member.beacon_id)
        member.healthy = True
    else:
        member.healthy = False
        member.last_error = outcome.message
        log.warning("member %s: discovery failed: %s", member.id, outcome.message)
    member.discovered_at = time.monotonic()


async def _refresh_forever(app: web.Application) -> None:
    members = app[MEMBERS]
    while True:
        await asyncio.sleep(app[SETTINGS].refresh_s)
        await asyncio.gather(*(discover(app, m) for m in members.values()))


# -- fan-out ------------------------------------------------------------------------------------


def _cache_key(request: web.Request, body: bytes | None) -> str:
    auth = request.headers.get("Authorization", "")
    parts = [request.method, request.path, request.query_string, (body or b"").decode("utf-8", "replace")]
    # The caller's token is part of the key only as a digest: answers forwarded with it are theirs alone.
    parts.append(hashlib.sha256(auth.encode()).hexdigest() if auth else "")
    return "\x1f".join(parts)


async def _outcomes(
    app: web.Application, entry_path: str | None, request: web.Request, body: bytes | None, validate: bool = True
) -> AsyncIterator[Outcome]:
    """Outcomes as members answer; pending members at the deadline end as timeouts."""
    settings = app[SETTINGS]
    rel = request.path[len("/api") :]
    authorization = request.headers.get("Authorization")
    tasks: dict[asyncio.Task[Outcome], Member] = {}
    for member in app[MEMBERS].values():
        if entry_path is not None and not member.serves(entry_path):
            yield Outcome(member.id, Status.SKIPPED, message=f"does not serve /{entry_path}")
            continue
        coroutine = call(
            app[SESSION],
            member,
            request.method,
            rel,
            request.query_string,
            body,
            authorization,
            settings.max_response_bytes,
            validate,
        )
        tasks[asyncio.ensure_future(coroutine)] = member
    started = time.perf_counter()
    pending = set(tasks)
    try:
        while pending:
            remaining = settings.deadline_s - (time.perf_counter() - started)
            if remaining <= 0:
                break
            done, pending = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    for task in pending:
        elapsed = (time.perf_counter() - started) * 1000
        yield Outcome(
            tasks[task].id, Status.TIMEOUT, elapsed, f"no answer within the {settings.deadline_s:g} s deadline"
        )


async def answer(request: web.Request, entry: EntryType, lookup_target: EntryType | None) -> web.StreamResponse:
    app = request.app
    settings = app[SETTINGS]
    config = settings.beacon
    target = lookup_target or entry
    request[ENTRY] = target
    breq = await parse_request(request, config.query)  # invalid requests stop here, not at every member
    request[PARSED_REQUEST] = breq
    body = await request.read() if request.method == "POST" else None
    streaming = NDJSON in request.headers.get("Accept", "")
    key = _cache_key(request, body)
    cached = app[CACHE].get(key)
    if cached is not None and not streaming and time.monotonic() - cached[0] < settings.cache_ttl_s:
        return web.json_response(cached[1])
    order = [m for m in app[MEMBERS]]
    outcomes: dict[str, Outcome] = {}
    stream: web.StreamResponse | None = None
    if streaming:
        stream = web.StreamResponse(headers={"Content-Type": NDJSON})
        await stream.prepare(request)
    async for outcome in _outcomes(app, entry.path, request, body):
        outcomes[outcome.member] = outcome
        app[METRICS].observe(outcome)
        if stream is not None:
            line = outcome.report() | ({"response": outcome.document} if outcome.document else {})
            await stream.write(json.dumps(line).encode() + b"\n")
    document = merge(config, breq, target, [outcomes[m] for m in order if m in outcomes])
    if stream is not None:
        await stream.write(json.dumps({"merged": document}).encode() + b"\n")
        await stream.write_eof()
        return stream
    if settings.cache_ttl_s > 0 and all(o.status in (Status.OK, Status.SKIPPED) for o in outcomes.values()):
        if len(app[CACHE]) >= _CACHE_MAX:
            app[CACHE].clear()
        app[CACHE][key] = (time.monotonic(), document)
    return web.json_response(document)


async def filtering_terms(request: web.Request) -> web.Response:
    """The union of the members' filtering terms (first label wins), with every member's outcome."""
    app = request.app
    terms: dict[str, dict[str, Any]] = {}
    resources: dict[str, dict[str, Any]] = {}
    reports = []
    # Terms are read defensively below instead of validated: one malformed term must not drop a member's others.
    async for outcome in _outcomes(app, None, request, None, validate=False):
        reports.append(outcome.report())
        response = (outcome.document or {}).get("response", {})
        for term in response.get("filteringTerms", []):
            if isinstance(term, dict) and isinstance(term.get("id"), str):
                terms.setdefault(term["id"], term)
        for resource in response.get("resources", []):
            if isinstance(resource, dict) and isinstance(resource.get("id"), str):
                resources.setdefault(resource["id"], resource)
    return web.json_response(
        {
            "meta": informational_meta(app[SETTINGS].beacon),
            "response": {"filteringTerms": [terms[k] for k in sorted(terms)], "resources": list(resources.values())},
            "info": {"members": reports},
        }
    )


async def health(request: web.Request) -> web.Response:
    members = request.app[MEMBERS].values()
    report = {m.id: {"healthy": m.healthy, "circuit": "open" if m.breaker.opened_at else "closed"} for m in members}
    ok = any(m.healthy for m in members)
    return web.json_response({"status": "ok" if ok else "unavailable", "members": report}, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_aggregator_app(settings: AggregatorSettings) -> web.Application:
    app = web.Application(
        middlewares=[metrics_middleware, error_middleware], client_max_size=settings.beacon.server.max_body_bytes
    )
    app[CONFIG] = settings.beacon
    app[REQUEST_IDS] = RequestIds()
    app[SETTINGS] = settings
    members: dict[str, Member] = {
        m.id: Member(m, Breaker(settings.breaker_failures, settings.breaker_open_s)) for m in settings.members
    }
    app[MEMBERS] = members
    app[CACHE] = {}
    app[METRICS] = Metrics()
    install_request_metrics(app, app[METRICS].registry)  # requests and queries, beside the member metrics

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_up)
        await asyncio.to_thread(parse_warm_up)
        connector = aiohttp.TCPConnector(limit=settings.max_connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            app[SESSION] = session
            await asyncio.gather(*(discover(app, m) for m in app[MEMBERS].values()))
            refresher = asyncio.ensure_future(_refresh_forever(app))
            yield
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher

    app.cleanup_ctx.append(lifetime)
    routes: list[web.RouteDef] = []

    def both(path: str, handler: Any) -> None:
        routes.extend([web.get(path, handler, allow_head=False), web.post(path, handler)])

    for path, handler in (
        ("/api", framework.info),
        ("/api/info", framework.info),
        ("/api/service-info", framework.service_info),
        ("/api/configuration", framework.configuration),
        ("/api/map", framework.map_),
        ("/api/entry_types", framework.entry_types),
        ("/api/filtering_terms", filtering_terms),
    ):
        both(path, handler)
    table = settings.beacon.entry_types
    for entry in table.enabled():
        root = f"/api/{entry.path}"
        both(root, partial(answer, entry=entry, lookup_target=None))
        both(f"{root}/{{id}}", partial(answer, entry=entry, lookup_target=None))
        for _, target in table.lookups_of(entry):
            both(f"{root}/{{id}}/{target.path}", partial(answer, entry=entry, lookup_target=target))
    app.add_routes(routes)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    # The beacon's clinician page and assets, unchanged: it detects the network from the NDJSON answer.
    add_web_routes(app)
    return app
