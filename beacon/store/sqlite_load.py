"""Dataset replacement in the embedded store: one write transaction per part, bulk inserts, then statistics.

Readers (WAL) keep seeing the previous content until COMMIT; a failed or interrupted load rolls back
whole, dropped indexes included. When the rest of the store is small, the secondary indexes are
dropped for the load and built again before COMMIT: SQLite inserts several times faster into
unindexed tables, and an index built in one sorted pass is smaller than one grown row by row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

from beacon.store import sqlite_bins
from beacon.store.base import DatasetLoad, LoadSummary, LoadTally
from beacon.store.sqlite_docs import RowBatch, RowPacker, RowStream
from beacon.store.sqlite_schema import INDEX_NAMES, INDEX_STATEMENTS

# Rows left in the store below which dropping and rebuilding the indexes beats maintaining them
# (measured: rebuilding all indexes costs about 6 µs per row; maintaining them, over 10 µs per inserted row).
_REBUILD_BELOW = 250_000
# Page cache of the loading connection (KiB), for the index builds; the default is restored after.
_LOAD_CACHE_KIB = 65_536
_SIDE_TABLES = ("keys", "terms", "vals")


def delete_part(conn: sqlite3.Connection, dataset_id: str, part: str | None = None) -> bool:
    """Remove one part of a dataset, or the whole dataset when `part` is None (inside the caller's transaction)."""
    where, params = ("dataset = ?", (dataset_id,)) if part is None else ("dataset = ? AND part = ?", (dataset_id, part))
    for table in _SIDE_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE rid IN (SELECT rid FROM records WHERE {where})", params)
    conn.execute(f"DELETE FROM records WHERE {where}", params)
    conn.execute(f"DELETE FROM term_catalog WHERE {where}", params)
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
        delete_part(conn, load.dataset_id, load.part)
        (remaining,) = conn.execute("SELECT count(*) FROM records").fetchone()
        rebuild = remaining < _REBUILD_BELOW
        if rebuild:
            conn.execute(f"PRAGMA cache_size = -{_LOAD_CACHE_KIB}")
            for name in INDEX_NAMES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        counts, filled = _insert(conn, load)
        if rebuild:
            for statement in INDEX_STATEMENTS:
                conn.execute(statement)
        if counts.get("datasets"):
            _keep_one_dataset_record(conn, load)
        conn.execute(
            "INSERT INTO datasets_loaded VALUES (?, ?, ?, ?, ?, ?)",
            (load.dataset_id, load.part, load.assembly, load.digest, datetime.now(UTC).isoformat(), json.dumps(counts)),
        )
        # After the indexes are back (the bins are read through them) and the part is listed (bins are
        # stamped with the loaded parts).
        sqlite_bins.fill(conn, load.dataset_id, load.part)
        # Fresh statistics let the planner prefer the position index over the dataset index
        # (measured: 1.4 ms -> 7 µs for a sequence query on CINECA); sampled statistics (analysis_limit)
        # were not enough to get that plan. Taken before COMMIT, so readers never see rebuilt indexes
        # without them; tables the load wrote nothing to keep theirs unless their indexes were rebuilt.
        conn.execute("PRAGMA analysis_limit=0")
        for table in ("",) if rebuild else ("records", *filled):
            conn.execute(f"ANALYZE {table}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute(f"PRAGMA cache_size = {cache_size}")
    return LoadSummary(load.dataset_id, counts)


def _keep_one_dataset_record(conn: sqlite3.Connection, load: DatasetLoad) -> None:
    """A dataset has one dataset record: the part loaded last that brings one wins."""
    stale = "SELECT rid FROM records WHERE coll = 'datasets' AND dataset = ? AND part != ?"
    params = (load.dataset_id, load.part)
    for table in _SIDE_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE rid IN ({stale})", params)
    conn.execute(f"DELETE FROM records WHERE rid IN ({stale})", params)


def _insert(conn: sqlite3.Connection, load: DatasetLoad) -> tuple[dict[str, int], tuple[str, ...]]:
    """Insert the load's records; their counts per collection and the side tables that got rows.

    Rows arrive numbered from 1 within the load (a RowStream's batches; other loads are packed into
    rows here) and the SQL adds the store's last rid, so no Python runs per row: inserting costs what
    sqlite3's executemany of the same rows costs. Many keys of one kind on one record (a variant's
    carriers) come as one JSON array that json_each expands inside SQLite into a staging table; they
    go into `keys` at the end in key order (measured on 6.7 M carrier keys: 5.8 s, against 8.7 s
    inserted record by record, each landing in another part of the tree).
    """
    (base,) = conn.execute("SELECT coalesce(max(rid), 0) FROM records").fetchone()
    base = int(base)
    records = load.records
    batches = records.batches() if isinstance(records, RowStream) else _packed(load)
    tally = LoadTally()
    filled: dict[str, None] = {}
    staged = False
    for batch in batches:
        conn.executemany(f"INSERT INTO records VALUES (? + {base},?,?,?,?,?,?,?,?,?,?,?,?,?)", batch.records)
        if batch.key_lists and not staged:
            # In the load's transaction: a failed load leaves no staging table behind.
            conn.execute("CREATE TEMP TABLE staged_keys (kind TEXT, value TEXT, rid INTEGER)")
            staged = True
        for table, sql, rows in (
            ("keys", f"INSERT OR IGNORE INTO keys VALUES (?, ?, ? + {base})", batch.keys),
            ("keys", f"INSERT INTO temp.staged_keys SELECT ?1, value, ?2 + {base} FROM json_each(?3)", batch.key_lists),
            ("terms", f"INSERT OR IGNORE INTO terms VALUES (?, ? + {base})", batch.terms),
            ("vals", f"INSERT INTO vals VALUES (? + {base}, ?, ?, ?)", batch.vals),
        ):
            if rows:
                conn.executemany(sql, rows)
                filled[table] = None
        tally.merge(batch.tally)
    if staged:
        conn.execute("INSERT OR IGNORE INTO keys SELECT * FROM temp.staged_keys ORDER BY kind, value, rid")
        conn.execute("DROP TABLE temp.staged_keys")
    conn.execute(
        "UPDATE meta SET value = max(CAST(value AS INTEGER), ?) WHERE key = 'max_span'",
        (tally.max_span,),
    )
    conn.executemany(
        "INSERT OR REPLACE INTO term_catalog VALUES (?,?,?,?,?,?,?)",
        [(load.dataset_id, load.part, coll, t.id, t.type, t.scope, t.label) for coll, t in tally.terms(load)],
    )
    return tally.catalog_counts(), (*filled, "term_catalog")


def _packed(load: DatasetLoad) -> Iterator[RowBatch]:
    """A load of IndexedRecords as row batches."""
    packer = RowPacker(load.dataset_id, load.part)
    for rec in load.records:
        packer.add(rec)
        if packer.full:
            yield packer.take()
    yield packer.take()
