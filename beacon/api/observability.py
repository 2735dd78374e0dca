"""Request metrics and the access log, both from one middleware, and the `/metrics` exposition handler.

Labels come from the route that matched (`/api/individuals/{id}`), never from the raw path or the
query string; requests that matched no route share one label. The access log names the same
template, the request id of the error middleware, the status and the duration, and nothing the
caller sent (no path ids, no query values, no headers, so never an Authorization header).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from beacon.api.keys import (
    ANSWERED,
    ENTRY,
    METRICS_REGISTRY,
    PARSED_REQUEST,
    REQUEST_ID,
    REQUEST_METRICS,
    STORE,
    STORE_METRICS,
)
from beacon.logs import write_access
from beacon.metrics import UNMATCHED, RequestMetrics

access_log = logging.getLogger("beacon.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Probes and scrapes arrive every few seconds: logged at DEBUG so they do not drown the requests.
_QUIET = frozenset({"/health", "/health/live", "/metrics"})
# The caller went away before the answer (nginx's convention): a client-side outcome, not a 5xx.
CLIENT_CLOSED = 499


def install(app: web.Application, registry: CollectorRegistry) -> None:
    """Give `app` its request metrics in `registry` (add `metrics_middleware` outermost to feed them)."""
    app[METRICS_REGISTRY] = registry
    app[REQUEST_METRICS] = RequestMetrics(registry)


def endpoint_of(request: web.Request) -> str:
    """The template of the route that matched, e.g. `/api/individuals/{id}`; `unmatched` for 404/405."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count, time and log every answer with its final status; outermost, so error answers count too."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # only redirects get past the error middleware
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_CLOSED
        raise
    finally:
        _record(request, status, time.perf_counter() - started)


def _record(request: web.Request, status: int, seconds: float) -> None:
    endpoint = endpoint_of(request)
    metrics = request.app[REQUEST_METRICS]
    metrics.observe_request(endpoint, request.method, status, seconds)
    answered = request.get(ANSWERED)
    if answered is not None:
        metrics.observe_query(*answered.labels)
    elif (parsed := request.get(PARSED_REQUEST)) is not None and (entry := request.get(ENTRY)) is not None:
        # Refused or failed after parsing: the granularity asked for stands in for the one answered.
        metrics.observe_query(entry.id, parsed.variant.query_type(), bool(parsed.filters), parsed.granularity.value)
    level = logging.DEBUG if endpoint in _QUIET else logging.INFO
    # Milliseconds to three decimals, as round(seconds * 1000, 3) gives them at a third of its cost.
    duration_ms = round(seconds * 1e6) / 1000
    write_access(access_log, level, request.get(REQUEST_ID), request.method, endpoint, status, duration_ms)


async def exposition(request: web.Request) -> web.Response:
    """The app's registry in the Prometheus text format, with the store's health checked now."""
    store_metrics = request.app.get(STORE_METRICS)
    if store_metrics is not None:
        health = await request.app[STORE].health()
        store_metrics.up.labels(health.backend).set(1 if health.ok else 0)
    body = generate_latest(request.app[METRICS_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
