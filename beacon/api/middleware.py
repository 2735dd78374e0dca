"""The one place errors become responses: BeaconError → its status, anything else → a generic 500 with a request id.

Every response carries `X-Request-Id`; tracebacks go to the log under that id, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from beacon.answer.envelope import error_document
from beacon.api.keys import CONFIG, ENTRY, PARSED_REQUEST, REQUEST_ID, REQUEST_IDS
from beacon.api.protected_resource import metadata_url
from beacon.errors import BeaconError, MethodNotAllowed, NotFound, PayloadTooLarge, Unavailable

log = logging.getLogger("beacon.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# What a guarded request passes first (api/callers.py: identify); it raises to refuse, and returns
# what is left to await (None when nothing is: one coroutine less for most requests).
Admit = Callable[[web.Request], Awaitable[None] | None]


def _error(request: web.Request, status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    config = request.app[CONFIG]
    body = error_document(config, status, message, request.get(PARSED_REQUEST), request.get(ENTRY))
    return web.json_response(body, status=status, headers={**(headers or {}), "X-Request-Id": request[REQUEST_ID]})


def _answer(request: web.Request, exc: BeaconError) -> web.Response:
    """The Beacon error response for `exc`, with the headers the error carries (Allow, Retry-After, …)."""
    config = request.app[CONFIG]
    headers = exc.response_headers(config.server.retry_after_s)
    if headers.get("WWW-Authenticate", "").startswith("Bearer "):
        # RFC 9728 section 5.1: the refusal names where to learn how to authenticate.
        headers["WWW-Authenticate"] += f', resource_metadata="{metadata_url(config)}"'
    return _error(request, exc.status, exc.message, headers)


def _from_http(request: web.Request, exc: web.HTTPException) -> BeaconError | None:
    """The project's error for one of aiohttp's own (routing, body size); None when it has none."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return MethodNotAllowed(f"method {request.method} not allowed on {request.path}", exc.allowed_methods)
    if isinstance(exc, web.HTTPNotFound):
        return NotFound(f"not found: {request.path}")
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return PayloadTooLarge("request body too large")
    return None


def _logged(request: web.Request) -> dict[str, str]:
    # A field of its own in JSON log lines, to join them with the access line of the same request.
    return {"request_id": request[REQUEST_ID]}


def guard(admit: Admit | None = None) -> Middleware:
    """The error middleware: request id, deadline and, when given, `admit` (who is calling) for every request.

    Whatever they or the handler raise becomes the request's Beacon error. `admit` runs inside it
    rather than as a middleware of its own so its refusals (401, 429) are Beacon errors too, and
    because every layer costs each request a coroutine and a wrapper call.
    """

    @web.middleware
    async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        app = request.app
        ids = app[REQUEST_IDS]
        request_id = request[REQUEST_ID] = ids.next()
        timeout = app[CONFIG].server.request_timeout_s
        try:
            with ids.deadlines.within(timeout):
                if admit is not None and (pending := admit(request)) is not None:
                    await pending
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
            late = Unavailable(f"the request took longer than {timeout:g} s; try again later or narrow the query")
            return _answer(request, late)
        except BeaconError as exc:
            if exc.status >= 500:
                log.error("request %s: %s", request[REQUEST_ID], exc.message, exc_info=exc, extra=_logged(request))
            return _answer(request, exc)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            ours = _from_http(request, exc)
            return _answer(request, ours) if ours is not None else _error(request, exc.status, exc.reason)
        except Exception:  # the top-level handler: anything unexpected is logged, never shown
            log.exception(
                "request %s: unhandled error on %s %s",
                request[REQUEST_ID],
                request.method,
                request.path,
                extra=_logged(request),
            )
            return _error(request, 500, f"internal error; quote request id {request[REQUEST_ID]} when reporting it")
        response.headers["X-Request-Id"] = request_id
        return response

    return error_middleware


# Without a caller step: the aggregator's (it keeps no rate limit and reads no tokens of its own).
error_middleware = guard()
