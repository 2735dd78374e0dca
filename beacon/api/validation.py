"""Development aid (`beacon serve --validate-responses`): check every JSON response against the official schemas.

A violation is logged with the request id and the response is still sent: the point is to see
problems during development, not to change behaviour.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web

from beacon.api.keys import CONFIG, REQUEST_ID
from beacon.api.middleware import Handler
from beacon.api.openapi import OPENAPI_PATH
from beacon.spec import response_problems

log = logging.getLogger("beacon.validation")
_INFORMATIONAL = ("info", "service-info", "configuration", "map", "entry_types", "filtering_terms")


def endpoint_of(path: str) -> str | None:
    """The informational endpoint a path serves, or None for data endpoints."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if path.rstrip("/") == "/api":
        return "info"
    return last if last in _INFORMATIONAL else None


@web.middleware
async def validation_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.path == OPENAPI_PATH or request.path.startswith("/.well-known/"):
        return response  # an OpenAPI document or OAuth metadata, not a Beacon response
    if not isinstance(response, web.Response) or response.content_type != "application/json" or response.body is None:
        return response
    assert isinstance(response.body, bytes)
    document = json.loads(response.body)
    schemas = {t.id: t.schema_file for t in request.app[CONFIG].entry_types.types}
    problems = await asyncio.to_thread(response_problems, document, endpoint_of(request.path), schemas)
    if problems:
        log.warning("request %s: response violates the Beacon schema: %s", request.get(REQUEST_ID), "; ".join(problems))
    return response
