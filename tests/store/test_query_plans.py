"""Every variant query type is served by an index, never a scan of the records table (SQLite EXPLAIN QUERY PLAN)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from beacon.model.plan import Query, Related
from beacon.query.variants import variant_condition
from beacon.store import sqlite_roaring
from beacon.store.sqlite_translate import count_sql, find_sql
from tests.conftest import CINECA_ID
from tests.store import plan_table

QUERY_TYPES = plan_table.variant_queries(gene="CHR_START-DUXAP8", variant_type="INDEL")


@pytest.mark.parametrize("name", sorted(QUERY_TYPES))
def test_query_type_uses_an_index(cineca_db: Path, name: str) -> None:
    condition = variant_condition(QUERY_TYPES[name])
    conn = sqlite3.connect(cineca_db)
    try:
        for sql, params in (
            count_sql(Query("g_variants", (CINECA_ID,), condition)),
            find_sql(Query("g_variants", (CINECA_ID,), condition, 0, 10)),
        ):
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            records_access = [step for step in plan if step.startswith(("SCAN r", "SEARCH r"))]
            assert records_access, plan
            assert not any(step.startswith("SCAN r") for step in records_access), plan
            if name in ("sequence", "range", "bracket", "variant type in a range"):
                assert any("records_by_position" in step or "records_by_end" in step for step in plan), plan
            else:
                assert any("SEARCH k USING PRIMARY KEY (kind=? AND value=?)" in step for step in plan), plan
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["sequence", "range", "gene"])
def test_carriers_of_a_variant_query_are_found_through_indexes(cineca_db: Path, name: str) -> None:
    """/individuals with variant parameters: the variants by their index, their carriers by key or by their
    sets (carrier_sets: the per-part unions g1, their members m1), no scan of a table."""
    condition = variant_condition(QUERY_TYPES[name])
    assert condition is not None
    related = Related("g_variants", "individual", condition)
    sql, params = count_sql(Query("individuals", (CINECA_ID,), related))
    conn = sqlite3.connect(cineca_db)
    sqlite_roaring.register(conn)
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        conn.close()
    # Materialised or constant: the pairs, the per-part unions (n1, with their sample maps g1) and members
    # (unmapped m1, mapped mr1), the bounds, the set guard.
    materialised = (
        "SCAN json_each",
        "SCAN p1",
        "SCAN n1",
        "SCAN g1",
        "SCAN m1",
        "SCAN mr1",
        "SCAN q1",
        "SCAN e1",
        "SCAN h1",
        "SCAN CONSTANT ROW",
    )
    assert not any(step.startswith("SCAN") and not step.startswith(materialised) for step in plan), plan
    assert "SEARCH c1 USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert "SEARCH sm1 USING PRIMARY KEY (dataset=? AND part=? AND idx=?)" in plan, plan
    assert "SEARCH sr1 USING PRIMARY KEY (dataset=? AND part=? AND kind=? AND coll=?) LEFT-JOIN" in plan, plan
    assert "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert "SEARCH kt1 USING PRIMARY KEY (kind=? AND value=? AND rid>? AND rid<?)" in plan, plan
    source_index = "records_by_position" if name != "gene" else "SEARCH k USING PRIMARY KEY"
    assert any(source_index in step for step in plan), plan
