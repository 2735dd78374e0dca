"""The aggregator's application factory: the beacon's own route table answered by the members; no I/O until start.

Framework endpoints answer from the aggregator's own configuration (so aggregators stack); entry and
filtering-terms endpoints fan out (beacon/aggregator/handlers.py). The routes are the beacon's,
from beacon/api/routes.py, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from beacon.aggregator.discovery import discover_all, refresh_forever
from beacon.aggregator.handlers import AGGREGATOR, health
from beacon.aggregator.members import warm_up
from beacon.aggregator.network import NETWORK, Network
from beacon.aggregator.settings import AggregatorSettings
from beacon.api import observability
from beacon.api.keys import CONFIG, REQUEST_IDS
from beacon.api.middleware import error_middleware
from beacon.api.parse import warm_up as parse_warm_up
from beacon.api.request_ids import RequestIds
from beacon.api.routes import route_table
from beacon.api.web_page import add_web_routes
from beacon.metrics import MemberMetrics


def create_aggregator_app(settings: AggregatorSettings) -> web.Application:
    """A Beacon API answered by the members of `settings`."""
    app = web.Application(
        middlewares=[observability.metrics_middleware, error_middleware],
        client_max_size=settings.beacon.server.max_body_bytes,
    )
    app[CONFIG] = settings.beacon
    app[REQUEST_IDS] = RequestIds()
    registry = CollectorRegistry()
    observability.install(app, registry)  # requests and queries, beside the member metrics
    network = Network.of(settings, MemberMetrics(registry))
    app[NETWORK] = network

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        schemas = tuple(t.schema_file for t in settings.beacon.entry_types.enabled())
        await asyncio.to_thread(warm_up, schemas)
        await asyncio.to_thread(parse_warm_up)
        connector = aiohttp.TCPConnector(limit=settings.max_connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            network.attach(session)
            await discover_all(network)
            refresher = asyncio.ensure_future(refresh_forever(network))
            yield
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            network.attach(None)

    app.cleanup_ctx.append(lifetime)
    app.add_routes(route_table(settings.beacon.entry_types, AGGREGATOR))
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", observability.exposition)
    # The beacon's clinician page and assets, unchanged: it detects the network from the NDJSON answer.
    add_web_routes(app)
    return app
