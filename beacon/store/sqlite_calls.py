"""How one call runs on an SQLite connection: its deadline, and sqlite3's exceptions as the store's own.

sqlite3 exceptions stop here and become StoreError/StoreUnavailable (with two subclasses the store
acts on: a writer holding the lock, and a file that is no longer a database).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def translated(budget_s: float = math.inf) -> Iterator[None]:
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        unavailable = f"SQLite store unavailable: {exc}"
        if isinstance(exc, sqlite3.ProgrammingError) and "closed database" in text:
            # A call that raced a reopen onto a connection of the generation just closed.
            raise StoreUnavailable(unavailable) from exc
        if isinstance(exc, sqlite3.OperationalError):
            if "interrupted" in text:
                msg = f"the store query took longer than {budget_s:g} s; narrow the query or try again later"
                raise StoreUnavailable(msg) from exc
            if "locked" in text or "busy" in text:
                raise Busy(unavailable) from exc
            if "unable to open" in text:
                raise StoreUnavailable(unavailable) from exc
        if any(sign in text.lower() for sign in CORRUPT):
            raise Corrupt(unavailable) from exc
        msg = f"SQLite error: {exc}"
        raise StoreError(msg) from exc
    except sqlite3.Error as exc:
        msg = f"SQLite error: {exc}"
        raise StoreError(msg) from exc
