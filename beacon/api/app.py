"""The application factory: routes, middleware and the store's lifetime; no I/O until the app starts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from beacon.answer.service import AnswerService
from beacon.api import fast_lane, health, observability
from beacon.api.callers import audit_middleware, identify
from beacon.api.keys import (
    ANSWERS,
    AUDIT,
    AUTHENTICATOR,
    CONFIG,
    GENES,
    LIFTERS,
    ONTOLOGIES,
    QUERY_BUDGET,
    RATE_LIMITER,
    REQUEST_IDS,
    STORE,
    STORE_METRICS,
)
from beacon.api.middleware import guard
from beacon.api.parse import warm_up
from beacon.api.request_ids import RequestIds
from beacon.api.routes import route_table
from beacon.api.validation import validation_middleware
from beacon.api.web_page import add_web_routes
from beacon.config import Config
from beacon.genome.genes import GeneTable, load_gene_table
from beacon.genome.liftover import Lifter
from beacon.metrics import StoreMetrics
from beacon.security.audit import AuditLog
from beacon.security.jwks import KeyDirectory
from beacon.security.limits import QueryBudget, RateLimiter
from beacon.security.tokens import Authenticator
from beacon.store import open_store
from beacon.store.base import Store
from beacon.store.guard import GuardedStore


def _load_lifters(config: Config) -> dict[tuple[str, str], Lifter]:
    return {(c.source, c.target): Lifter.load(c.source, c.target, c.chain) for c in config.liftover}


def _load_genes(config: Config) -> dict[str, GeneTable]:
    return {g.assembly: load_gene_table(g.assembly, g.path) for g in config.genes}


def create_app(config: Config, store: Store | None = None) -> web.Application:
    """A Beacon application for `config`; `store` overrides the one named by `config.store_uri`."""
    # The caller (rate limit, token) is admitted inside the error middleware: its refusals are Beacon errors.
    middlewares = [guard(identify)]
    if config.security.audit_log is not None:
        # Outside the error middleware, so refusals and errors are recorded with their status too.
        middlewares.insert(0, audit_middleware)
    if config.server.validate_responses:
        # Outside the error middleware, so error bodies are checked too.
        middlewares.insert(0, validation_middleware)
    # Outermost of all: every answer is counted and logged with the status the client finally gets.
    middlewares.insert(0, observability.metrics_middleware)
    app = web.Application(middlewares=middlewares, client_max_size=config.server.max_body_bytes)
    app[CONFIG] = config
    app[REQUEST_IDS] = RequestIds()
    registry = CollectorRegistry()
    observability.install(app, registry)
    app[STORE_METRICS] = StoreMetrics(registry)
    app[STORE] = GuardedStore(
        store if store is not None else open_store(config.store_uri, config.store_options),
        observer=app[STORE_METRICS].observe,
    )

    async def store_lifetime(app: web.Application) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_up)
        app[LIFTERS] = await asyncio.to_thread(_load_lifters, config)
        app[GENES] = await asyncio.to_thread(_load_genes, config)
        from beacon.api import ontologies  # hierarchies for filters (docs/filters.md)

        await ontologies.load(app)
        await app[STORE].open()
        service = AnswerService(config, app[STORE], app[QUERY_BUDGET], app[LIFTERS], app[GENES], app[ONTOLOGIES])
        app[ANSWERS] = service
        if config.server.fast_lane:
            fast_lane.install(app, service)
        yield
        await app[STORE].close()

    app.cleanup_ctx.append(store_lifetime)
    app[RATE_LIMITER] = RateLimiter(config.security.rate_per_s, config.security.rate_burst)
    app[QUERY_BUDGET] = QueryBudget(config.security.budget_queries, config.security.budget_window_s)
    if config.security.audit_log is not None:
        app[AUDIT] = AuditLog(config.security.audit_log)

    async def security_lifetime(app: web.Application) -> AsyncIterator[None]:
        # One client session for every key, discovery and userinfo fetch; never the caller's session.
        async with aiohttp.ClientSession() as session:
            keys = KeyDirectory(session, config.security.jwks_refresh_min_s, config.security.http_timeout_s)
            app[AUTHENTICATOR] = Authenticator(config.security, keys)
            audit = app.get(AUDIT)
            if audit is not None:
                await asyncio.to_thread(audit.start)
            yield
            if audit is not None:
                await asyncio.to_thread(audit.stop)

    app.cleanup_ctx.append(security_lifetime)
    app.add_routes(route_table(config.entry_types))
    app.router.add_get("/health", health.ready)
    app.router.add_get("/health/live", health.live)
    app.router.add_get("/metrics", observability.exposition)
    add_web_routes(app)
    return app
