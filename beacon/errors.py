"""The project's one error hierarchy; each class carries the HTTP status it maps to.

    BeaconError (500)
    ├── InvalidRequest (400)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── NotImplementedQuery (501)
    ├── StoreUnavailable (503)
    ├── StoreError (500)
    └── ConfigError (exit code 2 on the command line; never reaches HTTP)

Handlers and the query layer raise these; `api/middleware.py` is the only place that turns
them into Beacon error responses, and `cli.py` the only place that turns them into exit codes.
"""

from __future__ import annotations

from typing import ClassVar


class BeaconError(Exception):
    """Base class; `message` is safe to show to the caller."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(BeaconError):
    """The request is malformed or asks for something the Beacon does not accept."""

    status = 400


class Unauthorized(BeaconError):
    """Credentials are missing or invalid."""

    status = 401


class Forbidden(BeaconError):
    """Credentials are valid but do not grant what was asked."""

    status = 403


class NotFound(BeaconError):
    """Unknown path, entry type or record id."""

    status = 404


class PayloadTooLarge(BeaconError):
    """The request body exceeds the configured maximum."""

    status = 413


class TooManyRequests(BeaconError):
    """A rate limit or query budget is exhausted."""

    status = 429


class NotImplementedQuery(BeaconError):
    """A well-formed query this Beacon does not support."""

    status = 501


class StoreUnavailable(BeaconError):
    """The store cannot be reached."""

    status = 503


class StoreError(BeaconError):
    """The store failed while executing a query or a load."""

    status = 500


class ConfigError(BeaconError):
    """Configuration is invalid; the message names the file and the path of the bad value."""

    exit_code = 2
