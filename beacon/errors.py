"""The project's one error hierarchy; each class carries the HTTP status it maps to.

    BeaconError (500)
    ├── InvalidRequest (400)
    ├── Unauthorized (401)           WWW-Authenticate
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── MethodNotAllowed (405)       Allow
    ├── PayloadTooLarge (413)
    ├── TooManyRequests (429)        Retry-After
    ├── NotImplementedQuery (501)
    ├── Unavailable (503)            Retry-After
    │   └── StoreUnavailable (503)
    ├── StoreError (500)
    └── ConfigError (exit code 2 on the command line; never reaches HTTP)

Handlers and the query layer raise these; `api/middleware.py` is the only place that turns
them into Beacon error responses, and `cli.py` the only place that turns them into exit codes.
Each error carries the HTTP headers its status needs (`headers`); `retry_after` marks the errors
that tell the client when to come back, with the server's configured delay unless the error
knows better (a rate limit knows when the next request will be accepted).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar


class BeaconError(Exception):
    """Base class; `message` is safe to show to the caller, `headers` go on the response."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    # True for errors answered with Retry-After (the configured delay unless `retry_after_s` is set).
    retry_after: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        self.headers: dict[str, str] = {}

    def response_headers(self, default_retry_after_s: int) -> dict[str, str]:
        """The headers of the response that reports this error."""
        headers = dict(self.headers)
        if self.retry_after:
            seconds = default_retry_after_s if self.retry_after_s is None else math.ceil(self.retry_after_s)
            headers["Retry-After"] = str(max(1, seconds))
        return headers


class InvalidRequest(BeaconError):
    """The request is malformed or asks for something the Beacon does not accept."""

    status = 400


class Unauthorized(BeaconError):
    """Credentials are missing or invalid."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers["WWW-Authenticate"] = 'Bearer realm="beacon", error="invalid_token"'


class Forbidden(BeaconError):
    """Credentials are valid but do not grant what was asked."""

    status = 403


class NotFound(BeaconError):
    """Unknown path, entry type or record id."""

    status = 404


class MethodNotAllowed(BeaconError):
    """The path exists, but not for this method; `Allow` lists the methods it takes (RFC 9110 §15.5.6)."""

    status = 405

    def __init__(self, message: str, allowed: Iterable[str]) -> None:
        super().__init__(message)
        self.allowed = tuple(sorted(set(allowed)))
        self.headers["Allow"] = ", ".join(self.allowed)


class PayloadTooLarge(BeaconError):
    """The request body exceeds the configured maximum."""

    status = 413


class TooManyRequests(BeaconError):
    """A rate limit or query budget is exhausted."""

    status = 429
    retry_after = True


class NotImplementedQuery(BeaconError):
    """A well-formed query this Beacon does not support."""

    status = 501


class Unavailable(BeaconError):
    """The server cannot answer now (overloaded, or a request over its deadline); try again later."""

    status = 503
    retry_after = True


class StoreUnavailable(Unavailable):
    """The store cannot be reached."""


class StoreOutdated(StoreUnavailable):
    """The store was written by an older version whose layout this one cannot read.

    `file` names the store's file when it is one (the demo moves its own outdated store aside).
    """

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.file = file


class StoreError(BeaconError):
    """The store failed while executing a query or a load."""

    status = 500


class ConfigError(BeaconError):
    """Configuration is invalid; the message names the file and the path of the bad value."""

    exit_code = 2
