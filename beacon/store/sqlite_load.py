"""Dataset replacement in the embedded store: one write transaction per part, bulk inserts, then statistics.

Readers (WAL) keep seeing the previous content until COMMIT; a failed or interrupted load rolls back
whole, dropped indexes included. When a load grows larger than what the rest of the store holds,
the secondary indexes are dropped for the rest of it and built again before COMMIT: SQLite inserts
several times faster into unindexed tables, and an index built in one sorted pass is smaller than
one grown row by row. A small load into a large store keeps the indexes and refreshes the planner's
statistics by its own row counts instead of a full ANALYZE, so it costs time in proportion to itself.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from beacon.store import sqlite_bins, sqlite_sample_map
from beacon.store.base import DatasetLoad, LoadSummary, LoadTally
from beacon.store.loading import DATASET_RECORDS
from beacon.store.sqlite_schema import INDEX_NAMES, INDEX_STATEMENTS

# Records loaded, as a multiple of the records left in the store, from which dropping the indexes and
# building them again beats maintaining them (measured: rebuilding all indexes costs about 6 µs per
# row of the store; maintaining them, over 10 µs per inserted row). Decided as the load goes: its size
# is not known before.
_REBUILD_FROM = 1.5
# A table whose rows a load changes by less than this share keeps its statistics, row counts adjusted.
_FRESH_STATS_FROM = 0.10
# Page cache of the loading connection (KiB), for the index builds; the default is restored after.
_LOAD_CACHE_KIB = 65_536
_SIDE_TABLES = ("keys", "terms", "populations", "vals", "carriers")


def delete_part(
    conn: sqlite3.Connection, dataset_id: str, part: str | None = None, changed: dict[str, int] | None = None
) -> bool:
    """Remove one part of a dataset, or the whole dataset when `part` is None (inside the caller's transaction).

    `changed` gets the rows removed per table, subtracted.
    """
    where, params = ("dataset = ?", (dataset_id,)) if part is None else ("dataset = ? AND part = ?", (dataset_id, part))
    tally = changed if changed is not None else {}
    for table in _SIDE_TABLES:
        _counted(
            conn, tally, table, -1, f"DELETE FROM {table} WHERE rid IN (SELECT rid FROM records WHERE {where})", params
        )
    _counted(conn, tally, "records", -1, f"DELETE FROM records WHERE {where}", params)
    _counted(conn, tally, "term_catalog", -1, f"DELETE FROM term_catalog WHERE {where}", params)
    _counted(conn, tally, "samples", -1, f"DELETE FROM samples WHERE {where}", params)
    sqlite_sample_map.forget(conn, dataset_id, part)
    cur = conn.execute(f"DELETE FROM datasets_loaded WHERE {where}", params)
    sqlite_bins.forget(conn, dataset_id, part)
    return cur.rowcount > 0


def replace(conn: sqlite3.Connection, load: DatasetLoad) -> LoadSummary:
    """Replace part `load.part` of dataset `load.dataset_id`; unchanged (and untouched) when its digest is stored."""
    (cache_size,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT digest, counts FROM datasets_loaded WHERE dataset = ? AND part = ?", (load.dataset_id, load.part)
        ).fetchone()
        if row is not None and row[0] == load.digest:
            conn.execute("ROLLBACK")
            return LoadSummary(load.dataset_id, json.loads(row[1]), unchanged=True)
        previous = json.loads(row[1]) if row is not None else None
        changed: dict[str, int] = {}
        delete_part(conn, load.dataset_id, load.part, changed)
        (remaining,) = conn.execute("SELECT count(*) FROM records").fetchone()
        writer = _Writer(conn, int(remaining * _REBUILD_FROM), changed)
        counts, filled = _insert(conn, load, writer)
        if load.check is not None:
            # Before the index builds: a refused load costs only its inserts, rolled back below.
            load.check(previous, counts)
        rebuild = writer.dropped
        if rebuild:
            load.enter("building indexes")
            for statement in INDEX_STATEMENTS:
                conn.execute(statement)
        if counts.get(DATASET_RECORDS):
            _keep_one_dataset_record(conn, load)
        # With the records indexed by id: a seek per sample.
        sqlite_sample_map.fill(conn, load.dataset_id, load.part, writer.owners)
        conn.execute(
            "INSERT INTO datasets_loaded VALUES (?, ?, ?, ?, ?, ?)",
            (load.dataset_id, load.part, load.assembly, load.digest, datetime.now(UTC).isoformat(), json.dumps(counts)),
        )
        # After the indexes are back (the bins are read through them) and the part is listed (bins are
        # stamped with the loaded parts).
        sqlite_bins.fill(conn)
        # Fresh statistics let the planner prefer the position index over the dataset index
        # (measured: 1.4 ms -> 7 µs for a sequence query on CINECA); sampled statistics (analysis_limit)
        # were not enough to get that plan. Taken before COMMIT, so readers never see rebuilt indexes
        # without them; tables the load wrote nothing to keep theirs unless their indexes were rebuilt.
        load.enter("analysing")
        _statistics(conn, rebuild, ("records", *filled), changed)
        load.enter("switching")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute(f"PRAGMA cache_size = {cache_size}")
    return LoadSummary(load.dataset_id, counts)


def _note_carrier_collections(conn: sqlite3.Connection, base: int) -> None:
    """Add the collections whose records this load gave carrier sets to meta's `carrier_collections`.

    Lookups skip their set branches for the other collections (sqlite_translate.py); the list only
    grows, like `max_span`.
    """
    (known,) = conn.execute("SELECT value FROM meta WHERE key = 'carrier_collections'").fetchone() or ("[]",)
    new = conn.execute(
        "SELECT DISTINCT r.coll FROM carriers c JOIN records r ON r.rid = c.rid WHERE c.rid > ?", (base,)
    ).fetchall()
    found = sorted({*json.loads(known), *(str(c) for (c,) in new)})
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('carrier_collections', ?)", (json.dumps(found),))


def _keep_one_dataset_record(conn: sqlite3.Connection, load: DatasetLoad) -> None:
    """A dataset has one dataset record: the part loaded last that brings one wins."""
    stale = "SELECT rid FROM records WHERE coll = 'datasets' AND dataset = ? AND part != ?"
    params = (load.dataset_id, load.part)
    for table in _SIDE_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE rid IN ({stale})", params)
    conn.execute(f"DELETE FROM records WHERE rid IN ({stale})", params)


def _counted(conn: sqlite3.Connection, tally: dict[str, int], table: str, sign: int, sql: str, params: object) -> None:
    """Run one statement; add the rows it changed, times `sign`, to `tally[table]`."""
    before = conn.total_changes
    conn.execute(sql, params)  # type: ignore[arg-type]
    tally[table] = tally.get(table, 0) + sign * (conn.total_changes - before)


class _Writer:
    """Inserts a load's rows, counting them per table, and drops the indexes once the load outgrows the store."""

    def __init__(self, conn: sqlite3.Connection, drop_from: int, changed: dict[str, int]) -> None:
        self.conn = conn
        self.drop_from = drop_from
        self.changed = changed
        self.records = 0
        self.dropped = False
        self.owners: dict[str, str] = {}  # the batches' key kind -> collection (bulk.LoadBatch.owners)

    def many(self, table: str, sql: str, rows: list[Any]) -> None:
        conn = self.conn
        if table == "records":
            if not self.dropped and self.records + len(rows) > self.drop_from:
                self._drop()
            self.records += len(rows)
        before = conn.total_changes
        conn.executemany(sql, rows)
        self.changed[table] = self.changed.get(table, 0) + conn.total_changes - before

    def one(self, table: str, sql: str) -> None:
        before = self.conn.total_changes
        self.conn.execute(sql)
        self.changed[table] = self.changed.get(table, 0) + self.conn.total_changes - before

    def _drop(self) -> None:
        self.conn.execute(f"PRAGMA cache_size = -{_LOAD_CACHE_KIB}")
        for name in INDEX_NAMES:
            self.conn.execute(f"DROP INDEX IF EXISTS {name}")
        self.dropped = True


def _statistics(conn: sqlite3.Connection, rebuilt: bool, written: tuple[str, ...], changed: dict[str, int]) -> None:
    """Planner statistics after a load: all taken again after a rebuild; else each written table's
    taken again when the load changed a tenth of its rows or more, or its row counts adjusted.

    Adjusting keeps the per-key averages, which a small load barely moves, and costs nothing; a full
    ANALYZE reads every index of the table (seconds on a store of a few million rows).
    """
    conn.execute("PRAGMA analysis_limit=0")
    if rebuilt:
        conn.execute("ANALYZE")
        return
    (known,) = conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone()
    adjusted = False
    for table in dict.fromkeys(written):
        if not known:
            conn.execute(f"ANALYZE {table}")
            continue
        rows = conn.execute("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = ?", (table,)).fetchall()
        delta = changed.get(table, 0)
        total = int(str(rows[0][1]).split()[0]) if rows else 0
        if not rows or total <= 0 or abs(delta) >= _FRESH_STATS_FROM * total:
            conn.execute(f"ANALYZE {table}")
            continue
        if delta == 0:
            continue
        for idx, stat in rows:
            numbers = str(stat).split()
            numbers[0] = str(max(int(numbers[0]) + delta, 1))
            conn.execute("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?", (" ".join(numbers), table, idx))
        adjusted = True
    if adjusted:
        # Makes the planner read the adjusted statistics (https://sqlite.org/lang_analyze.html).
        conn.execute("ANALYZE sqlite_schema")


def _insert(conn: sqlite3.Connection, load: DatasetLoad, writer: _Writer) -> tuple[dict[str, int], tuple[str, ...]]:
    """Insert the load's records; their counts per collection and the side tables that got rows.

    The load's bulk batches (store/bulk.py) are this store's rows as they come: their records are
    numbered from 1 within the load and the SQL adds the store's last rid (and the batch's `offset`), their
    document column is the stored text, so no Python runs per row: inserting costs what sqlite3's executemany
    of the same rows costs. Many keys of one kind on one record (a variant's
    carriers) come as one JSON array that json_each expands inside SQLite into a staging table; they
    go into `keys` at the end in key order (measured on 6.7 M carrier keys: 5.8 s, against 8.7 s
    inserted record by record, each landing in another part of the tree).
    """
    (base,) = conn.execute("SELECT coalesce(max(rid), 0) FROM records").fetchone()
    base = int(base)
    tally = LoadTally()
    filled: dict[str, None] = {}
    staged = False
    part = (load.dataset_id, load.part)
    for batch in load.batches:
        shift = base + batch.offset
        writer.many("records", f"INSERT INTO records VALUES (? + {shift},?,?,?,?,?,?,?,?,?,?,?,?,?)", batch.records)
        if batch.records:
            # Numbered in ascending order within a batch (store/bulk.py).
            sqlite_bins.gather(conn, shift + batch.records[0][0], shift + batch.records[-1][0])
        if batch.key_lists and not staged:
            # In the load's transaction: a failed load leaves no staging table behind.
            conn.execute("CREATE TEMP TABLE staged_keys (kind TEXT, value TEXT, rid INTEGER)")
            staged = True
        for table, sql, rows in (
            ("keys", f"INSERT OR IGNORE INTO keys VALUES (?, ?, ? + {shift})", batch.keys),
            (
                "keys",
                f"INSERT INTO temp.staged_keys SELECT ?1, value, ?2 + {shift} FROM json_each(?3)",
                batch.key_lists,
            ),
            ("terms", f"INSERT OR IGNORE INTO terms VALUES (?, ? + {shift})", batch.terms),
            ("populations", f"INSERT INTO populations VALUES (? + {shift}, ?)", batch.populations),
            ("vals", f"INSERT INTO vals VALUES (? + {shift}, ?, ?, ?)", batch.values),
            ("carriers", f"INSERT INTO carriers VALUES (? + {shift}, ?, ?, ?)", batch.carrier_sets),
            ("samples", "INSERT INTO samples VALUES (?, ?, ?, ?, ?)", [(*part, *row) for row in batch.samples]),
        ):
            if rows:
                writer.many(table, sql, rows)
                filled[table] = None
        tally.merge(batch.tally)
        writer.owners.update(batch.owners)
    if staged:
        writer.one("keys", "INSERT OR IGNORE INTO keys SELECT * FROM temp.staged_keys ORDER BY kind, value, rid")
        conn.execute("DROP TABLE temp.staged_keys")
    if "carriers" in filled:
        _note_carrier_collections(conn, base)
    conn.execute(
        "UPDATE meta SET value = max(CAST(value AS INTEGER), ?) WHERE key = 'max_span'",
        (tally.max_span,),
    )
    writer.many(
        "term_catalog",
        "INSERT OR REPLACE INTO term_catalog VALUES (?,?,?,?,?,?,?)",
        [(load.dataset_id, load.part, coll, t.id, t.type, t.scope, t.label) for coll, t in tally.terms(load)],
    )
    return tally.catalog_counts(), (*filled, "term_catalog")
