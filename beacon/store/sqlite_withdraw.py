"""Withdrawn datasets in the embedded store: tombstones in the `meta` table, kept out of the dataset catalog.

A tombstone is the row `withdrawn:<dataset id>` of `meta` (every store has that table, so no schema
change): the catalog query leaves its dataset out, and with it every answer. Withdrawing and, when
hard, deleting the dataset's rows is one transaction.
"""

from __future__ import annotations

import json
import sqlite3

from beacon.store.base import Tombstone
from beacon.store.sqlite_load import delete_part

PREFIX = "withdrawn:"
# The catalog's rows without withdrawn datasets (sqlite.py: datasets).
NOT_WITHDRAWN = f"('{PREFIX}' || dataset) NOT IN (SELECT key FROM meta WHERE key LIKE '{PREFIX}%')"


def withdraw(conn: sqlite3.Connection, tombstone: Tombstone) -> bool:
    """Leave the tombstone and, when hard, delete the dataset, in one transaction. True if there was something."""
    key = PREFIX + tombstone.dataset_id
    conn.execute("BEGIN IMMEDIATE")
    try:
        loaded = conn.execute("SELECT 1 FROM datasets_loaded WHERE dataset = ?", (tombstone.dataset_id,)).fetchone()
        earlier = conn.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone()
        if tombstone.hard:
            delete_part(conn, tombstone.dataset_id)
        if loaded or earlier:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(tombstone.as_record())))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return bool(loaded or earlier)


def tombstones(conn: sqlite3.Connection) -> list[Tombstone]:
    rows = conn.execute("SELECT value FROM meta WHERE key LIKE ? ORDER BY key", (f"{PREFIX}%",)).fetchall()
    return [Tombstone.from_record(json.loads(value)) for (value,) in rows]


def republish(conn: sqlite3.Connection, dataset_id: str) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        removed = conn.execute("DELETE FROM meta WHERE key = ?", (PREFIX + dataset_id,)).rowcount
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return removed > 0
