"""Golden SQL: the SQLite translation of representative plans changes only deliberately.

Regenerate after an intended change with `BEACON_UPDATE_GOLDEN=1 make test` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from beacon.model import plan as nodes
from beacon.store.sqlite_translate import count_sql, find_sql, keys_sql
from tests.store import plan_table

GOLDEN = Path(__file__).parent / "golden" / "sqlite_plans.json"

PLANS = {
    **plan_table.PLANS,
    **plan_table.RELATED_PLANS,
    "sequence query": nodes.Query("g_variants", ("d1",), plan_table.ALLELE),
    "two ontology filters and a value": nodes.Query(
        "individuals",
        ("d1",),
        nodes.And(
            (
                nodes.HasTerm(("HP:0001626", "HP:0001627")),
                nodes.HasValue("age", ">", 30.0),
                nodes.HasTerm(("NCIT:C16576",)),
            )
        ),
    ),
    "carriers in a range, and a term": nodes.Query(
        "individuals",
        ("d1",),
        nodes.And(
            (
                nodes.HasTerm(("NCIT:C16576",)),
                nodes.Related("g_variants", "biosample", plan_table.OVERLAPS_10_TO_20),
            )
        ),
    ),
    "samples of individuals with a blood sample and an old sample": nodes.Query(
        "biosamples",
        ("d1",),
        nodes.Related(
            "individuals",
            "individual",
            nodes.Related(
                "biosamples",
                "individual",
                nodes.And((nodes.HasTerm(("UBERON:0000178",)), nodes.HasValue("age", ">", 30.0))),
            ),
        ),
    ),
    "datasets holding a term": nodes.Query(
        "datasets", ("d1", "d2"), nodes.Related("g_variants", nodes.SAME_DATASET, nodes.HasTerm(("SO:1",)))
    ),
}


def render() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name, query in PLANS.items():
        count, count_params = count_sql(query)
        find, find_params = find_sql(query)
        keys, keys_params = keys_sql(query, "individual")
        out[name] = {
            "count": [count, count_params],
            "find": [find, find_params],
            "keys": [keys, keys_params],
        }
        # The store tells which collections hold carrier sets: variants do, the others not.
        known, known_params = count_sql(query, frozenset({"g_variants"}))
        if known != count:
            out[name]["count, carrier sets on g_variants only"] = [known, known_params]
    return out


def test_sql_matches_golden_file() -> None:
    rendered = json.loads(json.dumps(render()))
    if os.environ.get("BEACON_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rendered, indent=1) + "\n")
    assert rendered == json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", sorted(PLANS))
def test_generated_sql_is_accepted_by_sqlite(name: str, tmp_path: Path) -> None:
    import sqlite3

    from beacon.store import sqlite_roaring
    from beacon.store.sqlite_schema import INDEXES, TABLES

    conn = sqlite3.connect(tmp_path / "x.db")
    sqlite_roaring.register(conn)
    conn.executescript(TABLES + INDEXES)
    for sql, params in (count_sql(PLANS[name]), find_sql(PLANS[name]), keys_sql(PLANS[name], "individual")):
        conn.execute(sql, params).fetchall()
    conn.close()


def test_term_filters_of_an_and_meet_in_one_intersection(tmp_path: Path) -> None:
    """Every subset of terms on eight records: the count is the records holding a term of each filter."""
    import itertools
    import sqlite3

    from beacon.store.sqlite_schema import INDEXES, TABLES

    conn = sqlite3.connect(tmp_path / "x.db")
    conn.executescript(TABLES + INDEXES)
    names = ("A", "B", "C")
    held = {rid: {t for i, t in enumerate(names) if rid >> i & 1} for rid in range(1, 9)}
    for rid, terms in held.items():
        conn.execute("INSERT INTO records (rid, coll, dataset, part, id, doc) VALUES (?, 'individuals', 'd1', 'p', ?, '{}')",
                     (rid, f"i{rid}"))  # fmt: skip
        conn.executemany("INSERT INTO terms VALUES (?, ?)", [(t, rid) for t in terms])
        conn.execute("INSERT INTO vals VALUES (?, 'age', NULL, ?)", (rid, float(rid)))
    filters = [("A",), ("B", "C"), ("C",), ("B",)]
    for size in (2, 3):
        for chosen in itertools.combinations(filters, size):
            query = nodes.Query(
                "individuals", ("d1",), nodes.And((*map(nodes.HasTerm, chosen), nodes.HasValue("age", ">", 2.0)))
            )
            sql, params = count_sql(query)
            assert "INTERSECT" in sql
            found = dict(conn.execute(sql, params).fetchall()).get("d1", 0)
            expected = sum(1 for rid, terms in held.items() if rid > 2 and all(terms & set(f) for f in chosen))
            assert found == expected, chosen
