"""Probes for orchestrators: `/health/live` (the process answers) and `/health` (the store answers too)."""

from __future__ import annotations

from aiohttp import web

from beacon.api.keys import STORE


async def live(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """200 when the store answers a catalog read, else 503 with the reason (never internals)."""
    health = await request.app[STORE].health()
    body = {
        "status": "ok" if health.ok else "unavailable",
        "store": {"backend": health.backend, "ok": health.ok, "message": health.message},
    }
    return web.json_response(body, status=200 if health.ok else 503)
