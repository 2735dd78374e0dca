"""The embedded store: SQLite in WAL mode; point lookups inline, scans and loads on worker threads.

A 12 µs indexed lookup costs less than a thread hand-off, so plans that are point lookups run on the
event loop's own connection, as do range counts answered from the variant bins (sqlite_bins.py);
everything that may scan runs on a small thread pool with one connection per thread. This module
holds the store's calls (queries, the fast lane's counter, the load entry); its connections and the
watch over its file are sqlite_connections.py, how one call runs and fails sqlite_calls.py, a load
sqlite_load.py.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from beacon.errors import StoreUnavailable
from beacon.model.plan import And, Compare, Field, Query
from beacon.model.populations import TERM_PREFIX
from beacon.store import sqlite_bins, sqlite_withdraw
from beacon.store.base import (
    DatasetInfo,
    DatasetLoad,
    Document,
    LoadedPart,
    LoadSummary,
    Term,
    Tombstone,
    merge_parts,
)
from beacon.store.carriers import CarrierSets, carriers_in_order, case_level_data
from beacon.store.compact import decode
from beacon.store.fairness import STORE_CLIENT
from beacon.store.sqlite_calls import Busy, CallWatch, Corrupt, data_version_of, translated
from beacon.store.sqlite_connections import SqliteConnections
from beacon.store.sqlite_file import file_identity
from beacon.store.sqlite_load import delete_part, replace
from beacon.store.sqlite_schema import COLUMNS
from beacon.store.sqlite_translate import CARRIER_KINDS, carrier_values_sql, count_sql, find_sql, keys_sql

T = TypeVar("T")
# Distinct catalog reads kept (dataset lists and term catalogs per scope); a bound, not a tuning knob.
_CATALOGS_KEPT = 256


def is_point_query(query: Query) -> bool:
    """True when the plan pins an id or an exact position: an index seek, cheap enough to run inline."""
    where = query.where
    parts = where.parts if isinstance(where, And) else (where,)
    pinned = {p.field for p in parts if isinstance(p, Compare) and p.op == "="}
    return Field.ID in pinned or {Field.CHROM, Field.START} <= pinned


# One translator for every inline lookup (it holds no state between calls).
_INLINE_ERRORS = translated()


class SqliteStore(SqliteConnections):
    """Store backend on one SQLite file (its connections and their generations: SqliteConnections)."""

    name = "sqlite"

    # -- calls -------------------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T], inline: bool = False, load: bool = False) -> T:
        gen = self._gen
        if gen is None:
            raise self._unavailable()
        if inline and gen.inline is not None:
            try:
                return self._checked_inline(fn, gen.inline)
            except Busy:
                pass  # a writer holds the lock: wait for it on a worker, not on the event loop
        loop = asyncio.get_running_loop()
        budget = math.inf if load else self._timeout_s
        watch = None if load else CallWatch()

        def call() -> T:
            conn = gen.thread_conn()
            self._local.deadline = time.monotonic() + budget
            try:
                if watch is not None:
                    watch.started(conn, loop, budget)
                with translated(budget):
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
        except Corrupt:
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
        except Corrupt:
            self._check_now.set()
            raise

    @staticmethod
    def _run_inline(fn: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
        """The one place SQLite runs on the event loop (point lookups; the test suite exempts it by name)."""
        with _INLINE_ERRORS:
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
            sql, params = count_sql(query, await self._sets(query))
            rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=is_point_query(query))
        return {str(d): int(n) for d, n in rows}

    async def find(self, query: Query) -> list[Document]:
        if not query.datasets or query.limit == 0:
            return []
        sql, params = find_sql(query, await self._sets(query))
        return await self._run(lambda c: _documents(c, sql, params), inline=is_point_query(query))

    async def _sets(self, query: Query) -> frozenset[str] | None:
        """The collections holding carrier sets (meta's list, kept until a load changes the store), or None
        when the query has no lookup to translate with it."""
        if query.where is None:
            return None
        version = self.data_version()
        cached = self._catalogs.get("carrier_collections")
        if cached is not None and cached[0] == version:
            found: frozenset[str] = cached[1][0]
            return found
        sql = "SELECT value FROM meta WHERE key = 'carrier_collections'"
        rows = await self._run(lambda c: c.execute(sql).fetchall(), inline=True)
        found = frozenset(json.loads(rows[0][0])) if rows else frozenset()
        self._keep("carrier_collections", version, [found])
        return found

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        if not query.datasets:
            return []
        sql, params = keys_sql(query, kind)
        rows = await self._run(lambda c: c.execute(sql, params).fetchall(), inline=is_point_query(query))
        return [str(v) for (v,) in rows]

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        where = "r.coll = ? AND r.id = ? AND r.dataset IN (SELECT value FROM json_each(?))"
        sql = f"SELECT k.value FROM records r JOIN keys k ON k.rid = r.rid WHERE {where} AND k.kind = ?"
        params: tuple[object, ...] = (collection, record_id, json.dumps(list(datasets)), kind)
        if kind in CARRIER_KINDS:
            sql += f" UNION {carrier_values_sql(where, kind)}"
            params += params[:3]
        sql = f"SELECT DISTINCT value FROM ({sql}) ORDER BY value"
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
                "WHERE r.coll = ? AND r.id = ? AND r.dataset = c.dataset "
                # Population terms are held as one row of names per record (sqlite_schema.py).
                "UNION ALL SELECT ? || j.value FROM records r JOIN populations p ON p.rid = r.rid, "
                "json_each(p.names) j WHERE r.coll = ? AND r.id = ? AND r.dataset = c.dataset)"
            )
            params.extend([*record, TERM_PREFIX, *record])
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
        return (gen.number << 32) + int(self._checked_inline(data_version_of, gen.inline))

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


def _documents(conn: sqlite3.Connection, sql: str, params: list[object]) -> list[Document]:
    """The documents `find_sql` selects, their caseLevelData rebuilt from their carrier sets.

    The biosample ids of the carriers are read for the samples the page names only, per dataset part.
    """
    rows = conn.execute(sql, params).fetchall()
    docs: list[Document] = []
    wanted: dict[tuple[str, str], set[int]] = {}
    carried: list[tuple[Document, tuple[str, str], CarrierSets]] = []
    for doc, *cols, part, het, hom, hemi in rows:
        found = decode(doc, cols)
        docs.append(found)
        if het is not None or hom is not None or hemi is not None:
            where = (str(cols[0]), str(part))
            sets: CarrierSets = (het, hom, hemi)
            wanted.setdefault(where, set()).update(carriers_in_order(sets)[0].tolist())
            carried.append((found, where, sets))
    names: dict[tuple[str, str], dict[int, str]] = {}
    for (dataset, part), indexes in wanted.items():
        found_names = conn.execute(
            "SELECT idx, biosample FROM samples "
            "WHERE dataset = ? AND part = ? AND idx IN (SELECT value FROM json_each(?))",
            (dataset, part, json.dumps(sorted(indexes))),
        ).fetchall()
        names[(dataset, part)] = {int(i): str(b) for i, b in found_names}
    for found, where, sets in carried:
        found["caseLevelData"] = case_level_data(sets, names[where])
    return docs


def sqlite_path(uri: str) -> Path:
    """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db` to a Path."""
    rest = uri[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/":
        msg = f"invalid SQLite store URI {uri!r}: expected sqlite:///path/to/file.db"
        raise StoreUnavailable(msg)
    return Path(rest[1:])
