"""The one place errors become responses: BeaconError → its status, anything else → a generic 500 with a request id.

Every response carries `X-Request-Id`; tracebacks go to the log under that id, never to the client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from beacon.answer.envelope import error_document
from beacon.api.keys import CONFIG, ENTRY, PARSED_REQUEST, REQUEST_ID, REQUEST_IDS
from beacon.errors import BeaconError

log = logging.getLogger("beacon.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_MESSAGES = {
    404: "not found: {path}",
    405: "method {method} not allowed on {path}",
    413: "request body too large",
}


def _error(request: web.Request, status: int, message: str) -> web.Response:
    config = request.app[CONFIG]
    body = error_document(config, status, message, request.get(PARSED_REQUEST), request.get(ENTRY))
    headers = {"X-Request-Id": request[REQUEST_ID]}
    if status in (503, 429):
        headers["Retry-After"] = str(config.server.retry_after_s)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="beacon", error="invalid_token"'

    return web.json_response(body, status=status, headers=headers)


def _logged(request: web.Request) -> dict[str, str]:
    # A field of its own in JSON log lines, to join them with the access line of the same request.
    return {"request_id": request[REQUEST_ID]}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = request.app[REQUEST_IDS].next()
    timeout = request.app[CONFIG].server.request_timeout_s
    try:
        async with asyncio.timeout(timeout):
            response = await handler(request)
    except TimeoutError:
        log.warning(
            "request %s: %s %s exceeded %s s",
            request[REQUEST_ID],
            request.method,
            request.path,
            timeout,
            extra=_logged(request),
        )
        return _error(request, 503, f"the request took longer than {timeout:g} s; try again later or narrow the query")
    except BeaconError as exc:
        if exc.status >= 500:
            log.error("request %s: %s", request[REQUEST_ID], exc.message, exc_info=exc, extra=_logged(request))
        return _error(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        template = _HTTP_MESSAGES.get(exc.status, exc.reason)
        return _error(request, exc.status, template.format(path=request.path, method=request.method))
    except Exception:  # the top-level handler: anything unexpected is logged, never shown
        log.exception(
            "request %s: unhandled error on %s %s",
            request[REQUEST_ID],
            request.method,
            request.path,
            extra=_logged(request),
        )
        return _error(request, 500, f"internal error; quote request id {request[REQUEST_ID]} when reporting it")
    response.headers["X-Request-Id"] = request[REQUEST_ID]
    return response
