"""Where pymongo and bson exceptions stop: each becomes StoreUnavailable (503) or StoreError (500).

Availability is decided by what the error says, not only by its class: behind mongos, an election,
a stepped-down primary or a timed-out operation often arrives as an `OperationFailure` (or a
`BulkWriteError` holding one) with a server error code or a retryable label, and a client that
reports it as a 500 tells the caller the request is wrong when retrying it later would succeed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bson.errors import InvalidDocument
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    DocumentTooLarge,
    OperationFailure,
    PyMongoError,
)

from beacon.errors import StoreError, StoreUnavailable

# Server error codes that mean "not now" (a member unreachable, an election, a shutdown, a time
# limit), from the server's error_codes.yml; behind mongos they reach the client as OperationFailure.
AVAILABILITY_CODES = frozenset(
    {
        6,  # HostUnreachable
        7,  # HostNotFound
        50,  # MaxTimeMSExpired
        64,  # WriteConcernFailed (wtimeout)
        89,  # NetworkTimeout
        91,  # ShutdownInProgress
        133,  # FailedToSatisfyReadPreference
        189,  # PrimarySteppedDown
        202,  # NetworkInterfaceExceededTimeLimit
        262,  # ExceededTimeLimit
        9001,  # SocketException
        10107,  # NotWritablePrimary
        11600,  # InterruptedAtShutdown
        11602,  # InterruptedDueToReplStateChange
        13435,  # NotPrimaryNoSecondaryOk
        13436,  # NotPrimaryOrSecondary
    }
)
# Labels the server and the driver attach to errors a retry can overcome.
AVAILABILITY_LABELS = ("RetryableWriteError", "TransientTransactionError", "RetryableError", "SystemOverloadedError")
DUPLICATE_KEY = 11000
_MULTIPLE_ERRORS = 65  # a BulkWriteError's own code: says nothing by itself
UNAUTHORIZED = 13


def _codes(exc: PyMongoError) -> set[int]:
    """Every server error code an exception carries (a bulk write error carries one per failed write)."""
    codes: set[int] = set()
    if isinstance(exc, OperationFailure) and exc.code is not None:
        codes.add(int(exc.code))
    if isinstance(exc, BulkWriteError):
        details = exc.details or {}
        codes.update(int(e["code"]) for e in details.get("writeErrors", ()) if "code" in e)
        codes.update(int(e["code"]) for e in details.get("writeConcernErrors", ()) if "code" in e)
    return codes


def is_unavailable(exc: PyMongoError) -> bool:
    """Whether `exc` means the cluster cannot answer now (retry later), rather than that the call is wrong."""
    # A write concern error is one only by code (64: wtimeout); e.g. 100, an unsatisfiable one, is a setup error.
    if isinstance(exc, ConnectionFailure) or exc.timeout:
        return True
    if any(exc.has_error_label(label) for label in AVAILABILITY_LABELS):
        return True
    codes = _codes(exc)
    if isinstance(exc, BulkWriteError):
        codes.discard(_MULTIPLE_ERRORS)
    return bool(codes & AVAILABILITY_CODES)


def only_duplicates(exc: BulkWriteError) -> bool:
    """Whether every failed write of an unordered insert hit an `_id` already stored (a re-sent batch)."""
    details = exc.details or {}
    errors = details.get("writeErrors", ())
    return (
        bool(errors) and not details.get("writeConcernErrors") and all(e.get("code") == DUPLICATE_KEY for e in errors)
    )


def translate(exc: Exception) -> StoreError | StoreUnavailable:
    """The project's error for a pymongo/bson exception (the caller raises it `from exc`)."""
    if isinstance(exc, DocumentTooLarge):
        return StoreError(f"MongoDB refused a document or command over its size limit: {exc}")
    if isinstance(exc, InvalidDocument):
        return StoreError(f"MongoDB cannot store a document: {exc}")
    if isinstance(exc, PyMongoError) and is_unavailable(exc):
        return StoreUnavailable(f"MongoDB unavailable: {type(exc).__name__}{_code_text(exc)}")
    return StoreError(f"MongoDB error: {type(exc).__name__}{_code_text(exc)}")


def _code_text(exc: Exception) -> str:
    codes = sorted(_codes(exc)) if isinstance(exc, PyMongoError) else []
    return f" (code {', '.join(map(str, codes))})" if codes else ""


@asynccontextmanager
async def translated() -> AsyncIterator[None]:
    """Run a block of store calls; pymongo/bson exceptions leave it as StoreUnavailable or StoreError."""
    try:
        yield
    except (PyMongoError, InvalidDocument) as exc:
        raise translate(exc) from exc
