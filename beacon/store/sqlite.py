"""The embedded store: SQLite in WAL mode; point lookups inline, scans and loads on worker threads.

A 12 µs indexed lookup costs less than a thread hand-off, so plans that are point lookups run on the
event loop's own connection, as do range counts answered from the variant bins (sqlite_bins.py);
everything that may scan runs on a small thread pool with one connection per thread. sqlite3
exceptions stop here and become StoreError/StoreUnavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from beacon.errors import StoreError, StoreUnavailable
from beacon.model.plan import And, Compare, Field, Query
from beacon.store import sqlite_bins, sqlite_withdraw
from beacon.store.base import (
    DatasetInfo,
    DatasetLoad,
    Document,
    LoadedPart,
    LoadSummary,
    StoreOptions,
    Term,
    Tombstone,
    merge_parts,
)
from beacon.store.fairness import STORE_CLIENT, FairShare
from beacon.store.sqlite_docs import decode
from beacon.store.sqlite_file import FileIdentity, Generation, file_identity, same_inode
from beacon.store.sqlite_load import delete_part, replace
from beacon.store.sqlite_schema import COLUMNS, INDEXES, READABLE_VERSIONS, SCHEMA_VERSION, TABLES
from beacon.store.sqlite_translate import count_sql, find_sql, keys_sql

log = logging.getLogger(__name__)
T = TypeVar("T")
# Distinct catalog reads kept (dataset lists and term catalogs per scope); a bound, not a tuning knob.
_CATALOGS_KEPT = 256


def is_point_query(query: Query) -> bool:
    """True when the plan pins an id or an exact position: an index seek, cheap enough to run inline."""
    where = query.where
    parts = where.parts if isinstance(where, And) else (where,)
    pinned = {p.field for p in parts if isinstance(p, Compare) and p.op == "="}
    return Field.ID in pinned or {Field.CHROM, Field.START} <= pinned


# How long a file that could not be opened is left alone while it does not change (a lock, too many files).
_RETRY_UNCHANGED_S = 1.0
# SQLite virtual-machine steps between two deadline checks of a worker's query (see _connect).
_DEADLINE_CHECK_STEPS = 1_000_000


class _Watch:
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


class SqliteStore:
    """Store backend on one SQLite file."""

    name = "sqlite"

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
        except sqlite3.Error as exc:
            msg = f"cannot open SQLite store {self.path}: {exc}"
            # A file that was open and cannot be opened now: the store checks it at once.
            raise (_Corrupt if must_exist else StoreUnavailable)(msg) from exc
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
            with _translated():
                is_store = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
            if not is_store or not same_inode(file_identity(self.path), gen.identity):
                msg = f"SQLite store unavailable: {self.path} changed under the running server"
                raise _Corrupt(msg)
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
        with _translated():
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
                    "load the data into a new store file"
                )
                raise StoreUnavailable(msg)
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

    async def _run(self, fn: Callable[[sqlite3.Connection], T], inline: bool = False, load: bool = False) -> T:
        gen = self._gen
        if gen is None:
            raise self._unavailable()
        if inline and gen.inline is not None:
            try:
                return self._checked_inline(fn, gen.inline)
            except _Busy:
                pass  # a writer holds the lock: wait for it on a worker, not on the event loop
        loop = asyncio.get_running_loop()
        budget = math.inf if load else self._timeout_s
        watch = None if load else _Watch()

        def call() -> T:
            conn = gen.thread_conn()
            self._local.deadline = time.monotonic() + budget
            try:
                if watch is not None:
                    watch.started(conn, loop, budget)
                with _translated(budget):
                    return fn(conn)
            finally:
                if watch is not None:
                    watch.ended()

        self._writing += load
        try:
            if load:
                return await loop.run_in_executor(gen.pool, call)
            # Queries wait for a worker behind their own client's, not everyone's (store/fairness.py).
            async with self._fair.slot(STORE_CLIENT.get()):
                return await loop.run_in_executor(gen.pool, call)
        except _Corrupt:
            self._check_now.set()
            raise
        finally:
            self._writing -= load
            if watch is not None:
                watch.disarm()
            if load:
                # The file changed under this load by design: its new identity is the generation's.
                gen.identity = await asyncio.to_thread(file_identity, self.path)

    def _checked_inline(self, fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
        try:
            return self._run_inline(fn, conn)
        except _Corrupt:
            self._check_now.set()
            raise

    @staticmethod
    def _run_inline(fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
        """The one place SQLite runs on the event loop (point lookups; the test suite exempts it by name)."""
        with _translated():
            return fn(conn)

    # -- queries -----------------------------------------------------------------------------

    async def count_by_dataset(self, query: Query) -> dict[str, int]:
        if not query.datasets:
            return {}
        ranged = sqlite_bins.range_count(query)
        if ranged is not None:
            # A few index seeks per dataset part however long the range, so it runs inline like a point
            # lookup (10 M variants, 10 Mb ranges: median 0.05 ms inline, 0.2 ms through a worker).
            fast, named = sqlite_bins.count_sql(ranged, query.datasets)
            rows = await self._run(lambda c: c.execute(fast, named).fetchall(), inline=True)
        else:
            sql, params = count_sql(query)
            rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=is_point_query(query))
        return {str(d): int(n) for d, n in rows}

    async def find(self, query: Query) -> list[Document]:
        if not query.datasets or query.limit == 0:
            return []
        sql, params = find_sql(query)
        rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=is_point_query(query))
        return [decode(doc, cols) for doc, *cols in rows]

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        if not query.datasets:
            return []
        sql, params = keys_sql(query, kind)
        rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=is_point_query(query))
        return [str(v) for (v,) in rows]

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        sql = (
            "SELECT DISTINCT k.value FROM records r JOIN keys k ON k.rid = r.rid WHERE r.coll = ? AND r.id = ? "
            "AND r.dataset IN (SELECT value FROM json_each(?)) AND k.kind = ? ORDER BY k.value"
        )
        params = (collection, record_id, json.dumps(list(datasets)), kind)
        rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=True)
        return [str(v) for (v,) in rows]

    async def record_datasets(self, collection: str, record_id: str, datasets: tuple[str, ...]) -> list[str]:
        sql = (
            "SELECT DISTINCT r.dataset FROM records r WHERE r.coll = ? AND r.id = ? "
            "AND r.dataset IN (SELECT value FROM json_each(?)) ORDER BY r.dataset"
        )
        params = (collection, record_id, json.dumps(list(datasets)))
        rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=True)
        return [str(v) for (v,) in rows]

    async def terms(
        self, collections: tuple[str, ...], datasets: tuple[str, ...], record: tuple[str, str] | None = None
    ) -> list[Term]:
        params: list[object] = [json.dumps(list(datasets)), json.dumps(list(collections))]
        sql = (
            "SELECT c.term, c.type, c.scope, max(c.label) FROM term_catalog c "
            "WHERE c.dataset IN (SELECT value FROM json_each(?)) AND c.coll IN (SELECT value FROM json_each(?))"
        )
        if record is not None:
            sql += (
                " AND c.term IN (SELECT t.term FROM records r JOIN terms t ON t.rid = r.rid "
                "WHERE r.coll = ? AND r.id = ? AND r.dataset = c.dataset)"
            )
            params.extend(record)
        sql += " GROUP BY c.term, c.type, c.scope ORDER BY c.term, c.scope"
        version = self.data_version() if record is None else None
        key = ("terms", collections, datasets)
        cached = self._catalogs.get(key)
        if cached is not None and cached[0] == version:
            return list(cached[1])
        rows = await self._run(lambda c: c.execute(sql, params).fetchall())
        found = [Term(id=t, type=ty, scope=s, label=lab) for t, ty, s, lab in rows]
        self._keep(key, version, found)
        return list(found)

    async def datasets(self) -> list[DatasetInfo]:
        version = self.data_version()
        cached = self._catalogs.get("datasets")
        if cached is not None and cached[0] == version:
            return list(cached[1])
        sql = (
            "SELECT dataset, part, assembly, digest, loaded_at, counts FROM datasets_loaded "
            f"WHERE {sqlite_withdraw.NOT_WITHDRAWN} ORDER BY dataset, part"
        )
        rows = await self._run(lambda c: c.execute(sql).fetchall(), inline=True)
        found = merge_parts(LoadedPart(d, p, a, dg, at, json.loads(n)) for d, p, a, dg, at, n in rows)
        self._keep("datasets", version, found)
        return list(found)

    def _keep(self, key: object, version: int | None, value: list[Any]) -> None:
        """Keep a catalog read (datasets, a term list) until the store's data_version moves.

        Every query reads the dataset list, and every filtered one a term catalog (4,291 terms on
        the 100 k-individual bench store: half a cohort count's time); both change only with a load.
        """
        if version is None:
            return
        if len(self._catalogs) >= _CATALOGS_KEPT:
            self._catalogs.clear()
        self._catalogs[key] = (version, value)

    async def record_keys(self, collection: str, dataset_id: str, kind: str) -> dict[str, list[str]]:
        sql = (
            "SELECT r.id, k.value FROM records r JOIN keys k ON k.rid = r.rid "
            "WHERE r.coll = ? AND r.dataset = ? AND k.kind = ? ORDER BY r.rid"
        )
        rows = await self._run(lambda c: c.execute(sql, (collection, dataset_id, kind)).fetchall())
        out: dict[str, list[str]] = {}
        for rid, value in rows:
            out.setdefault(str(rid), []).append(str(value))
        return out

    # -- loading -----------------------------------------------------------------------------

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        return await self._run(lambda c: replace(c, load), load=True)

    async def delete_dataset(self, dataset_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            conn.execute("BEGIN IMMEDIATE")
            try:
                existed = delete_part(conn, dataset_id)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return existed

        return await self._run(delete, load=True)

    async def withdraw_dataset(self, tombstone: Tombstone) -> bool:
        return await self._run(lambda c: sqlite_withdraw.withdraw(c, tombstone), load=True)

    async def tombstones(self) -> list[Tombstone]:
        return await self._run(sqlite_withdraw.tombstones)

    async def republish(self, dataset_id: str) -> bool:
        return await self._run(lambda c: sqlite_withdraw.republish(c, dataset_id), load=True)

    # -- on the event loop, for the fast lane (beacon/api/fast_lane.py) --------------------------

    def data_version(self) -> int | None:
        """Changes whenever another connection commits (a load, a delete) and whenever the store reopens
        its file (see _watch); None when the store is closed or unavailable.

        :raise StoreUnavailable: the file is no longer a readable store.
        """
        gen = self._gen
        if gen is None or gen.inline is None:
            return None
        return (gen.number << 32) + int(self._checked_inline(_data_version, gen.inline))

    def equality_counter(
        self, collection: str, datasets: tuple[str, ...], fields: tuple[Field, ...]
    ) -> Callable[[tuple[object, ...]], dict[str, int]] | None:
        """Counts per dataset of the records whose `fields` equal the values it is called with, run inline.

        The same counts as `count_by_dataset` for an And of `=` comparisons on these fields (tested
        side by side), without translating a plan per call. None when the store is closed.
        :raise StoreUnavailable: from the call, when a writer holds the lock or the store reopened its
            file since (ask the general way).
        """
        gen = self._gen
        conn = gen.inline if gen is not None else None
        if conn is None or not datasets:
            return None
        tests = " AND ".join(f"{COLUMNS[f]} = ?" for f in fields)
        marks = ", ".join("?" * len(datasets))
        sql = (
            f"SELECT r.dataset, count(*) FROM records r WHERE r.coll = ? AND {tests} "
            f"AND r.dataset IN ({marks}) GROUP BY r.dataset"
        )
        head, tail = (collection,), datasets

        def count(values: tuple[object, ...]) -> dict[str, int]:
            if self._gen is not gen:
                raise self._unavailable()
            params = head + values + tail
            return dict(self._checked_inline(lambda c: c.execute(sql, params).fetchall(), conn))

        return count


class _Busy(StoreUnavailable):
    """The database is locked by a writer (raised at once on the inline connection)."""


class _Corrupt(StoreUnavailable):
    """The file under the connection is not (or no longer) a database: the store checks it at once."""


# What SQLite says when the bytes under a connection are not a database (overwritten, truncated).
_CORRUPT = ("file is not a database", "malformed", "disk i/o error", "file has been moved")


def _data_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


@contextmanager
def _translated(budget_s: float = math.inf) -> Iterator[None]:
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
                raise _Busy(unavailable) from exc
            if "unable to open" in text:
                raise StoreUnavailable(unavailable) from exc
        if any(sign in text.lower() for sign in _CORRUPT):
            raise _Corrupt(unavailable) from exc
        msg = f"SQLite error: {exc}"
        raise StoreError(msg) from exc
    except sqlite3.Error as exc:
        msg = f"SQLite error: {exc}"
        raise StoreError(msg) from exc


def sqlite_path(uri: str) -> Path:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db` to a Path."""
    rest = uri[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/":
        msg = f"invalid SQLite store URI {uri!r}: expected sqlite:///path/to/file.db"
        raise StoreUnavailable(msg)
    return Path(rest[1:])
