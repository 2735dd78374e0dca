"""How one call runs on an SQLite connection: its deadline, and sqlite3's exceptions as the store's own.

sqlite3 exceptions stop here and become StoreError/StoreUnavailable (with two subclasses the store
acts on: a writer holding the lock, and a file that is no longer a database).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from types import TracebackType

from beacon.errors import StoreError, StoreUnavailable


class CallWatch:
    """The deadline of one worker call: a timer on the event loop interrupts the call's connection.

    sqlite3's `interrupt` is safe from any thread and needs no GIL inside SQLite, unlike a progress
    handler. The lock makes sure the interrupt reaches the connection only while this call runs on it,
    never the next query of the same worker.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._disarmed = False

    def started(self, conn: sqlite3.Connection, loop: asyncio.AbstractEventLoop, budget: float) -> None:
        """On the worker, before the call: the budget counts from here, as the backstop's deadline does."""
        with self._lock:
            self._conn = conn
        loop.call_soon_threadsafe(self._arm, loop, budget)

    def ended(self) -> None:
        """On the worker, after the call."""
        with self._lock:
            self._conn = None

    def _arm(self, loop: asyncio.AbstractEventLoop, budget: float) -> None:
        if not self._disarmed:
            self._timer = loop.call_later(budget, self._expire)

    def _expire(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.interrupt()

    def disarm(self) -> None:
        """On the event loop, once the call is over (or abandoned)."""
        self._disarmed = True
        if self._timer is not None:
            self._timer.cancel()


class Busy(StoreUnavailable):
    """The database is locked by a writer (raised at once on the inline connection)."""


class Corrupt(StoreUnavailable):
    """The file under the connection is not (or no longer) a database: the store checks it at once."""


# What SQLite says when the bytes under a connection are not a database (overwritten, truncated).
CORRUPT = ("file is not a database", "malformed", "disk i/o error", "file has been moved")


def data_version_of(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class translated:  # noqa: N801 - used as `with translated():`, like the function it was
    """SQLite's errors as the store's: unavailable, busy, corrupt, over budget, or a store error.

    A class, not a generator context manager: it wraps every inline point lookup, where the generator's
    set-up was a measurable part of the request.
    """

    __slots__ = ("budget_s",)

    def __init__(self, budget_s: float = math.inf) -> None:
        self.budget_s = budget_s

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if isinstance(exc, sqlite3.DatabaseError):
            raise _database_error(exc, self.budget_s) from exc
        if isinstance(exc, sqlite3.Error):
            msg = f"SQLite error: {exc}"
            raise StoreError(msg) from exc


def _database_error(exc: sqlite3.DatabaseError, budget_s: float) -> Exception:
    text = str(exc)
    unavailable = f"SQLite store unavailable: {exc}"
    if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in text:
        # A call that raced a reopen onto a connection of the generation just closed.
        return StoreUnavailable(unavailable)
    if isinstance(exc, sqlite3.OperationalError):
        if "interrupted" in text:
            return StoreUnavailable(
                f"the store query took longer than {budget_s:g} s; narrow the query or try again later"
            )
        if "locked" in text or "busy" in text:
            return Busy(unavailable)
        if "unable to open" in text:
            return StoreUnavailable(unavailable)
    if any(sign in text.lower() for sign in CORRUPT):
        return Corrupt(unavailable)
    return StoreError(f"SQLite error: {exc}")
