"""Golden SQL: the SQLite translation of representative plans changes only deliberately.

Regenerate after an intended change with `BEACON_UPDATE_GOLDEN=1 make test` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from beacon.model.plan import (
    SAME_DATASET,
    And,
    Compare,
    Field,
    HasKey,
    HasTerm,
    HasValue,
    In,
    Not,
    Nothing,
    Or,
    Query,
    Related,
)
from beacon.store.sqlite_translate import count_sql, find_sql, keys_sql

GOLDEN = Path(__file__).parent / "golden" / "sqlite_plans.json"

PLANS = {
    "sequence query": Query(
        "g_variants",
        ("d1",),
        And((Compare(Field.CHROM, "=", "13"), Compare(Field.START, "=", 5), Compare(Field.ALT, "=", "G"))),
    ),
    "range query page": Query(
        "g_variants", ("d1", "d2"), And((Compare(Field.START, "<", 20), Compare(Field.END, ">", 10))), 20, 10
    ),
    "wildcard allele": Query("g_variants", ("d1",), In(Field.ALT, ("A", "C", "G", "T"))),
    "carriers of a lookup": Query("individuals", ("d1",), HasKey("individual", ("HG1", "HG2"))),
    "ontology or alphanumeric": Query(
        "individuals", ("d1",), Or((HasTerm(("HP:0001250",)), HasValue("measures.value", ">", 30.0)))
    ),
    "two ontology filters and a value": Query(
        "individuals",
        ("d1",),
        And((HasTerm(("HP:0001626", "HP:0001627")), HasValue("age", ">", 30.0), HasTerm(("NCIT:C16576",)))),
    ),
    "not equal text": Query("runs", ("d1",), HasValue("libraryStrategy", "!=", "WGS")),
    "negated pattern": Query("runs", ("d1",), Not(HasValue("platform", "=", "Ill%", pattern=True))),
    "nothing": Query("biosamples", ("d1",), Nothing()),
    "unfiltered": Query("cohorts", ("d1",)),
    "carriers of an allele": Query(
        "individuals",
        ("d1", "d2"),
        Related(
            "g_variants",
            "individual",
            And((Compare(Field.CHROM, "=", "13"), Compare(Field.START, "=", 5), Compare(Field.ALT, "=", "G"))),
        ),
    ),
    "carriers in a range, and a term": Query(
        "individuals",
        ("d1",),
        And(
            (
                HasTerm(("NCIT:C16576",)),
                Related("g_variants", "biosample", And((Compare(Field.START, "<", 20), Compare(Field.END, ">", 10)))),
            )
        ),
    ),
    "a variant's individuals lookup": Query(
        "individuals", ("d1", "d2"), Related("g_variants", "individual", Compare(Field.ID, "=", "v1"))
    ),
    "samples of individuals with a blood sample and an old sample": Query(
        "biosamples",
        ("d1",),
        Related(
            "individuals",
            "individual",
            Related("biosamples", "individual", And((HasTerm(("UBERON:0000178",)), HasValue("age", ">", 30.0)))),
        ),
    ),
    "datasets holding a term": Query("datasets", ("d1", "d2"), Related("g_variants", SAME_DATASET, HasTerm(("SO:1",)))),
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
    return out


def test_sql_matches_golden_file() -> None:
    rendered = json.loads(json.dumps(render()))
    if os.environ.get("BEACON_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rendered, indent=1) + "\n")
    assert rendered == json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", sorted(PLANS))
def test_generated_sql_is_accepted_by_sqlite(name: str, tmp_path: Path) -> None:
    import sqlite3

    from beacon.store.sqlite_schema import INDEXES, TABLES

    conn = sqlite3.connect(tmp_path / "x.db")
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
            query = Query("individuals", ("d1",), And((*map(HasTerm, chosen), HasValue("age", ">", 2.0))))
            sql, params = count_sql(query)
            assert "INTERSECT" in sql
            found = dict(conn.execute(sql, params).fetchall()).get("d1", 0)
            expected = sum(1 for rid, terms in held.items() if rid > 2 and all(terms & set(f) for f in chosen))
            assert found == expected, chosen
