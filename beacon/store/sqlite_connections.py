"""The SQLite store's connections: one generation of them per file, opened, checked and replaced as the file changes.

A generation is a thread pool with one connection per worker thread plus the event loop's inline
connection (sqlite_file.py). Every check interval the file's identity is compared with the
generation's; a file deleted, replaced or no longer a store gets a new generation, or 503 answers
until there is a readable store again. The query methods and the load entry are in sqlite.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from beacon.errors import StoreOutdated, StoreUnavailable
from beacon.store import sqlite_bins, sqlite_roaring
from beacon.store.base import StoreOptions
from beacon.store.fairness import FairShare
from beacon.store.sqlite_calls import Corrupt, translated
from beacon.store.sqlite_file import FileIdentity, Generation, file_identity, same_inode
from beacon.store.sqlite_schema import INDEXES, READABLE_VERSIONS, SCHEMA_VERSION, TABLES, UPGRADE_ADVICE

log = logging.getLogger("beacon.store.sqlite")

# How long a file that could not be opened is left alone while it does not change (a lock, too many files).
_RETRY_UNCHANGED_S = 1.0
# SQLite virtual-machine steps between two deadline checks of a worker's query (see _connect).
_DEADLINE_CHECK_STEPS = 1_000_000


class SqliteConnections:
    """The file, its current generation of connections and the task that watches the file."""

    def __init__(
        self, path: Path, workers: int = 2, options: StoreOptions | None = None, check_interval_s: float = 0.1
    ) -> None:
        self.path = path
        self._timeout_s = (options or StoreOptions()).timeout_ms / 1000
        self._workers = workers
        # One worker more than a client may hold: while one client's scans fill `workers` threads, another
        # client's query still finds one (FairShare orders the rest by recent store time).
        self._fair = FairShare(slots=workers + 1, per_client=workers)
        self._check_s = check_interval_s
        self._local = threading.local()  # each worker thread's deadline (see _past_deadline)
        self._gen: Generation | None = None
        self._generations = 0
        # Why the store has no generation although it was open (its file deleted, replaced by a non-store, …).
        self._fault: str | None = None
        self._opened = False  # once a store was opened here, a reopen never creates one
        # The file a reopen last failed on, and when: tried again unchanged only after _RETRY_UNCHANGED_S.
        self._failed: FileIdentity | None = None
        self._failed_at = 0.0
        self._watcher: asyncio.Task[None] | None = None
        self._check_now = asyncio.Event()
        self._writing = 0  # loads and deletes in flight: the file changes under them by design
        # Catalog reads by key, with the data_version they were read at (see _keep).
        self._catalogs: dict[object, tuple[int, list[Any]]] = {}

    # -- connections -------------------------------------------------------------------------

    def _connect(self, must_exist: bool) -> sqlite3.Connection:
        # mode=rw: a store that was open and whose file is gone is unavailable, never recreated empty.
        target = self.path.absolute().as_uri() + "?mode=rw" if must_exist else str(self.path)
        try:
            conn = sqlite3.connect(
                target, check_same_thread=False, isolation_level=None, timeout=self._timeout_s, uri=must_exist
            )
            if not must_exist:
                # Persistent in the file. Not on a reopen: while the old connections are open the switch
                # waits for their locks, and a store that was open is in WAL mode already.
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA cache_size=-65536")
            sqlite_roaring.register(conn)
        except sqlite3.Error as exc:
            msg = f"cannot open SQLite store {self.path}: {exc}"
            # A file that was open and cannot be opened now: the store checks it at once.
            raise (Corrupt if must_exist else StoreUnavailable)(msg) from exc
        # Queries on worker threads stop at their deadline (set per call in _run); loads have none. The
        # event loop interrupts a query at its deadline (_Watch); this check, between two statements
        # of one call where an interrupt has no effect, is the backstop. It is Python and takes the
        # GIL: checked every 10,000 steps (~0.1 ms) the two workers and the event loop queued for it,
        # and a 20 ms cohort count served 55 requests/s instead of 66.
        conn.set_progress_handler(self._past_deadline, _DEADLINE_CHECK_STEPS)
        return conn

    def _worker_connection(self, gen: Generation) -> sqlite3.Connection:
        """A worker's connection, made on its first call: on the generation's file, and that file still a store.

        :raise StoreUnavailable: the file was deleted, replaced or emptied since the generation opened it
            (the store checks it at once).
        """
        conn = self._connect(must_exist=True)
        try:
            with translated():
                is_store = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
            if not is_store or not same_inode(file_identity(self.path), gen.identity):
                msg = f"SQLite store unavailable: {self.path} changed under the running server"
                raise Corrupt(msg)
        except BaseException:
            conn.close()
            raise
        return conn

    def _past_deadline(self) -> int:
        return 1 if time.monotonic() > getattr(self._local, "deadline", math.inf) else 0

    async def open(self) -> None:
        self._gen = await self._new_generation()
        self._fault = None
        self._catalogs.clear()
        if self._watcher is None and self._check_s > 0:
            self._check_now = asyncio.Event()  # of this event loop (a store may be opened again on another)
            self._watcher = asyncio.create_task(self._watch(), name=f"sqlite file watch {self.path}")

    async def _new_generation(self) -> Generation:
        """Connections on the file as it is now: checked to be a readable store.

        :raise StoreUnavailable: no file (after a first open), not a database, not a Beacon store.
        """
        must_exist = self._opened
        pool = ThreadPoolExecutor(self._workers + 1, thread_name_prefix="sqlite")
        self._generations += 1
        gen = Generation(self._generations, pool, self._worker_connection)
        try:
            await asyncio.get_running_loop().run_in_executor(pool, self._create, gen, must_exist)
        except BaseException:
            await asyncio.to_thread(gen.shutdown)
            raise
        self._opened = True
        return gen

    def _create(self, gen: Generation, must_exist: bool) -> None:
        if not must_exist:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                msg = f"cannot create the folder of SQLite store {self.path}: {exc.strerror}"
                raise StoreUnavailable(msg) from exc
        # Before connecting: a change from here on differs from this identity and is seen by the next check.
        gen.identity = file_identity(self.path)
        conn = gen.adopt(self._connect(must_exist))
        with translated():
            self._create_schema(conn, must_exist)
            # This becomes the inline connection: the event loop must never wait for a lock, so a busy
            # inline lookup fails at once and goes to a worker instead.
            conn.execute("PRAGMA busy_timeout = 0")
        if gen.identity is None:
            gen.identity = file_identity(self.path)  # created just now
        gen.inline = conn

    def _create_schema(self, conn: sqlite3.Connection, must_exist: bool) -> None:
        has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        if not has_meta and must_exist:
            msg = f"SQLite store unavailable: {self.path} is not a Beacon store (it has no meta table)"
            raise StoreUnavailable(msg)
        if has_meta:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None or int(row[0]) not in READABLE_VERSIONS:
                found = row[0] if row else "unknown"
                msg = (
                    f"SQLite store {self.path} has schema version {found}; this version needs {SCHEMA_VERSION}: "
                    f"{UPGRADE_ADVICE}"
                )
                raise StoreOutdated(msg, file=str(self.path))
            if must_exist and int(row[0]) == SCHEMA_VERSION:
                # A reopen reads: DDL would take the write lock, which a loader may hold for minutes.
                conn.execute("SELECT count(*) FROM datasets_loaded").fetchone()
                return
        conn.executescript(TABLES)
        conn.executescript(INDEXES)
        # Older readable versions differ only in what this version still reads: mark the store as this
        # version's, since the documents it writes from now on are not readable by older versions.
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        # Stores loaded before the variant bins existed gain them here, once (sqlite_bins.ensure).
        sqlite_bins.ensure(conn)

    async def close(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        gen, self._gen = self._gen, None
        if gen is not None:
            # Waiting for in-flight queries blocks: do it off the loop.
            await asyncio.to_thread(gen.shutdown)

    # -- the file under a running server ---------------------------------------------------------

    async def _watch(self) -> None:
        """Compare the file with the open generation every check interval (sooner after a corruption error)."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._check_s):
                    await self._check_now.wait()
            signalled = self._check_now.is_set()  # SQLite said the bytes are not a database
            self._check_now.clear()
            if self._writing:
                continue
            gen = self._gen
            now = await asyncio.to_thread(file_identity, self.path)
            if gen is not None and now == gen.identity and not signalled:
                continue
            unchanged = now == self._failed and time.monotonic() - self._failed_at < _RETRY_UNCHANGED_S
            if gen is None and (now is None or unchanged):
                continue  # still no file, or the file that just could not be opened
            await self._replace(gen, now)

    async def _replace(self, old: Generation | None, now: FileIdentity | None) -> None:
        """Open the file as it is now in place of `old`; without a readable store there, answer 503 until there is."""
        if old is not None and not same_inode(old.identity, now):
            # Another file (or none): its WAL is not the old one's, so the old connections close first.
            self._fault = "the store file was deleted" if now is None else "the store file was replaced"
            self._gen = None
            log.warning("SQLite store %s: %s; reopening", self.path, self._fault)
            await asyncio.to_thread(old.shutdown)
            old = None
        try:
            new = await self._new_generation()
        except StoreUnavailable as exc:
            self._failed, self._failed_at = now, time.monotonic()
            if old is not None or self._fault is None:
                log.warning("SQLite store %s is no longer a readable store: %s", self.path, exc.message)
            self._fault = exc.message.removeprefix("SQLite store unavailable: ")
            self._gen = None
            if old is not None:
                await asyncio.to_thread(old.shutdown)
            return
        self._gen, self._fault, self._failed = new, None, None
        self._catalogs.clear()
        log.info("SQLite store %s reopened (generation %d)", self.path, new.number)
        if old is not None:
            await asyncio.to_thread(old.shutdown)

    def _unavailable(self) -> StoreUnavailable:
        return StoreUnavailable(f"SQLite store unavailable: {self._fault or 'store is not open'}")
