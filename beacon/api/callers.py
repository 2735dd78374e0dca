"""Who is calling, how often, and what they were told: rate limit, authentication, audit log.

`audit_middleware` sits outermost, so it records the final status of every answer including errors;
`identify` runs inside the error middleware's guard (api/middleware.py), so its refusals (401, 429)
are Beacon error responses (a call there, not a middleware layer of its own: see `guard`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from beacon.answer.audit import asked
from beacon.api.keys import ANSWERED, AUDIT, AUTHENTICATOR, CALLER, PARSED_REQUEST, RATE_LIMITER
from beacon.security.tokens import NOBODY
from beacon.store.fairness import STORE_CLIENT

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_address(request: web.Request) -> str:
    # Behind a proxy, configure it to set the peer address (e.g. aiohttp-remotes); headers are not trusted here.
    return request.remote or "unknown"


# Probes and metrics scrapes answer orchestrators and monitoring: never throttled, never counted.
UNLIMITED_PATHS = frozenset({"/health", "/health/live", "/metrics"})


def identify(request: web.Request) -> Awaitable[None] | None:
    """Rate-limit the caller of `request` and set its `CALLER` (anonymous unless a valid token says otherwise).

    Returns what is left to await when there is a token to validate: an anonymous request, the most
    frequent, is admitted without a coroutine of its own.

    :raise TooManyRequests: the client has used its allowance.
    :raise Unauthorized: the token is not valid (raised by the awaitable).
    """
    if request.path in UNLIMITED_PATHS:
        return None
    client = client_address(request)
    request.app[RATE_LIMITER].check(client)
    # The store shares its workers between clients by this name (beacon/store/fairness.py).
    STORE_CLIENT.set(client)
    request[CALLER] = NOBODY  # anonymous until the token (if any) is validated
    authorization = request.headers.get("Authorization")
    return None if authorization is None else _authenticate(request, authorization)


async def _authenticate(request: web.Request, authorization: str) -> None:
    request[CALLER] = await request.app[AUTHENTICATOR].caller(authorization)


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    audit = request.app.get(AUDIT)
    if audit is not None and request.path.startswith("/api"):
        parsed = request.get(PARSED_REQUEST)
        caller = request.get(CALLER, NOBODY)
        answered = request.get(ANSWERED)
        audit.record(
            identity=caller.identity,
            client=client_address(request),
            method=request.method,
            path=request.path,
            status=response.status,
            datasets=list(answered.datasets) if answered is not None else [],
            granularity=answered.granularity.value if answered is not None else None,
            query=(answered.audit if answered is not None else None) or (asked(parsed) if parsed is not None else None),
        )
    return response
