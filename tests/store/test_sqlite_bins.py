"""Range counts from the variant bins (beacon/store/sqlite_bins.py) against the general SQL, on real loads.

Stores are built through the real load path (SqliteStore.replace_dataset on indexed documents) with
variants of every kind of span: SNVs, indels, empty intervals, inverted intervals, SVs crossing
many bins and span classes, starts on bin edges, several datasets, parts, assemblies and
chromosomes. For random windows the bins' per-dataset counts must equal the general translation's
(sqlite_translate.count_sql, run on the same file), after loads, replacements and deletions.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import And, Compare, Condition, Field, HasKey, In, Query
from beacon.store import sqlite_bins, sqlite_load
from beacon.store.base import Document
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from beacon.store.sqlite_bins import BIN, SHORT, RangeCount, range_count
from beacon.store.sqlite_schema import SCHEMA_VERSION
from beacon.store.sqlite_translate import count_sql

VARIANTS = EntryTypeTable().by_id("genomicVariant")
GOLDEN = Path(__file__).parent / "golden" / "sqlite_bins.json"
SPAN = 40_000  # positions the variants start in: many bins, and long variants crossing most of them
ASSEMBLIES = (None, "GRCh37", "GRCh38", "GRCh36")
DATASET_LISTS = (("a", "b", "c"), ("a",), ("b", "c"), ("c", "a", "d"))


def variant(vid: str, chrom: str, start: int, end: int | None) -> Document:
    interval: dict[str, Any] = {"type": "SequenceInterval", "start": {"value": start}}
    if end is not None:
        interval["end"] = {"value": end}
    return {
        "variantInternalId": vid,
        "variation": {
            "variantType": "SNP",
            "referenceBases": "A",
            "alternateBases": "T",
            "location": {"type": "SequenceLocation", "sequence_id": f"x:chr{chrom}", "interval": interval},
        },
    }


def random_variants(rng: random.Random, prefix: str, n: int, chroms: tuple[str, ...]) -> list[Document]:
    """Variants of mixed spans; every tenth starts on a bin edge, some end on one."""
    docs = []
    for i in range(n):
        chrom = rng.choice(chroms)
        start = rng.randrange(SPAN) if i % 10 else rng.randrange(SPAN // BIN) * BIN
        kind = rng.random()
        if kind < 0.6:
            end: int | None = start + 1
        elif kind < 0.75:
            end = start + rng.randint(2, 60)
        elif kind < 0.8:
            end = None  # the loader takes the reference length
        elif kind < 0.85:
            end = start  # empty interval (an insertion between two bases)
        elif kind < 0.87:
            end = start - rng.randint(1, 2 * SHORT)  # inverted: malformed, but stored and counted by the SQL
        elif kind < 0.93:
            end = start + rng.randint(SHORT - 2, SHORT + 2)  # both sides of the long-variant threshold
        elif kind < 0.99:
            end = start + rng.randint(SHORT, 30_000)  # SVs over many bins and span classes
        else:
            end = start + rng.choice((10**6, 10**8))  # rare huge classes
        if rng.random() < 0.05 and end is not None:
            end = (end // BIN) * BIN
        docs.append(variant(f"{prefix}{i}", chrom, start, end))
    return docs


# (dataset, part, assembly, chromosomes): parts of one dataset in two assemblies, one without any.
PARTS = (
    ("a", "p1", "GRCh38", ("1", "2")),
    ("a", "p2", "GRCh37", ("1",)),
    ("b", "main", "GRCh38", ("1",)),
    ("c", "main", None, ("1", "2")),
    ("d", "main", "GRCh38", ("1",)),  # never requested
)


async def load_part(store: SqliteStore, dataset: str, part: str, assembly: str | None, docs: list[Document]) -> None:
    digest = f"{dataset}-{part}-{len(docs)}-{docs[0]['variantInternalId'] if docs else ''}"
    await store.replace_dataset(dataset_load(dataset, assembly, digest, [(VARIANTS, d) for d in docs], part=part))


async def build(path: Path, seed: int = 1, n: int = 600) -> SqliteStore:
    rng = random.Random(seed)
    store = SqliteStore(path)
    await store.open()
    for dataset, part, assembly, chroms in PARTS:
        await load_part(store, dataset, part, assembly, random_variants(rng, f"{dataset}{part}-", n, chroms))
    return store


def plan(chrom: str, start: int, end: int, assembly: str | None) -> And:
    parts: list[Condition] = [] if assembly is None else [Compare(Field.ASSEMBLY, "=", assembly)]
    parts += [Compare(Field.CHROM, "=", chrom), Compare(Field.START, "<", end), Compare(Field.END, ">", start)]
    return And(tuple(parts))


def windows(seed: int, n: int) -> Iterator[tuple[int, int]]:
    """Random windows, windows on bin edges, at 0 and before it, one base wide, and longer than SPAN."""
    rng = random.Random(seed)
    yield from [(0, 1), (0, BIN), (0, SPAN), (-5, 3), (BIN, 2 * BIN), (BIN - 1, BIN + 1), (-(10**9), 10**9)]
    for _ in range(n):
        start = rng.randrange(-2 * BIN, SPAN + 2 * BIN)
        if rng.random() < 0.3:
            start -= start % BIN
        width = rng.choice((1, 2, rng.randint(1, BIN), rng.randint(1, 3 * SHORT), rng.randint(1, 2 * SPAN)))
        end = start + width
        if rng.random() < 0.3:
            end += -end % BIN
        yield start, end


def windows_at_variants(conn: sqlite3.Connection, seed: int, n: int) -> Iterator[tuple[int, int]]:
    """Windows starting at, next to, and SHORT after stored variants' starts and ends (the terms' exact edges)."""
    rng = random.Random(seed)
    long = conn.execute("SELECT v_start, v_end FROM records WHERE v_end - v_start > ? ORDER BY rid", (SHORT - 3,))
    empty = conn.execute("SELECT v_start, v_end FROM records WHERE v_end <= v_start ORDER BY rid")
    some_long, some_empty = long.fetchall(), empty.fetchall()
    picked = rng.sample(some_long, min(n, len(some_long))) + rng.sample(some_empty, min(n // 4, len(some_empty)))
    for start, end in picked:
        for edge in (start, end, start + SHORT):
            for at in (edge - 1, edge, edge + 1):
                yield at, at + rng.choice((1, rng.randint(1, BIN), rng.randint(1, SPAN)))


def differences(path: Path, seed: int, n: int = 150) -> list[str]:
    """Windows, assemblies and dataset lists on which the bins and the general SQL disagree."""
    conn = sqlite3.connect(path)
    found: list[str] = []
    checked = 0
    try:
        for start, end in [*windows(seed, n), *windows_at_variants(conn, seed, n // 5)]:
            for chrom in ("1", "2", "3"):
                for assembly in ASSEMBLIES:
                    for datasets in DATASET_LISTS:
                        query = Query("g_variants", datasets, plan(chrom, start, end, assembly))
                        ranged = range_count(query)
                        assert ranged is not None
                        fast = dict(conn.execute(*sqlite_bins.count_sql(ranged, datasets)).fetchall())
                        general = dict(conn.execute(*count_sql(query)).fetchall())
                        checked += 1
                        if fast != general:
                            found.append(f"{chrom}:[{start}, {end}) {assembly} {datasets}: {fast} != {general}")
    finally:
        conn.close()
    assert checked > 1000
    return found


def nonzero_answers(path: Path) -> int:
    """How many datasets the general SQL finds in a few windows: the comparisons must not be of empty answers."""
    conn = sqlite3.connect(path)
    try:
        found = 0
        for start, end in windows(3, 30):
            query = Query("g_variants", ("a", "b", "c"), plan("1", start, end, None))
            found += len(conn.execute(*count_sql(query)).fetchall())
        return found
    finally:
        conn.close()


async def test_bins_count_what_the_general_sql_counts(tmp_path: Path) -> None:
    store = await build(tmp_path / "s.db")
    await store.close()
    assert await asyncio.to_thread(nonzero_answers, tmp_path / "s.db") > 60
    assert await asyncio.to_thread(differences, tmp_path / "s.db", seed=2) == []


@pytest.mark.parametrize("rebuild_indexes", [True, False], ids=["indexes-rebuilt", "indexes-kept"])
async def test_bins_follow_replaced_and_deleted_parts(
    tmp_path: Path, rebuild_indexes: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Indexes dropped at a load's first rows, or never.
    monkeypatch.setattr(sqlite_load, "_REBUILD_FROM", 0 if rebuild_indexes else 10**9)
    store = await build(tmp_path / "s.db")
    rng = random.Random(9)
    await load_part(store, "a", "p1", "GRCh38", random_variants(rng, "again-", 400, ("1", "2")))
    await load_part(store, "b", "main", "GRCh37", random_variants(rng, "moved-", 300, ("2",)))
    await load_part(store, "c", "main", None, [])
    assert await store.delete_dataset("d") is True
    await store.replace_dataset(dataset_load("a", "GRCh37", "gone", [], part="p2"))
    await store.close()
    assert await asyncio.to_thread(differences, tmp_path / "s.db", seed=4) == []
    # Upkeep part by part leaves exactly what a build from scratch makes.
    kept = await asyncio.to_thread(bins_content, tmp_path / "s.db")
    await asyncio.to_thread(run, tmp_path / "s.db", FORGET_STAMP)
    reopened = SqliteStore(tmp_path / "s.db")
    await reopened.open()
    await reopened.close()
    assert await asyncio.to_thread(bins_content, tmp_path / "s.db") == kept


def bins_content(path: Path) -> tuple[list[tuple[Any, ...]], ...]:
    conn = sqlite3.connect(path)
    try:
        groups = "SELECT g.dataset, g.part, g.chrom, g.asm"
        return (
            # Rows of removed groups would hide from the joins below.
            conn.execute("SELECT (SELECT count(*) FROM variant_bins), (SELECT count(*) FROM long_variants)").fetchall(),
            conn.execute(f"{groups} FROM variant_groups g ORDER BY 1, 2, 3, 4").fetchall(),
            conn.execute(
                f"{groups}, b.bin, b.upto FROM variant_bins b JOIN variant_groups g USING (gid) ORDER BY 1, 2, 3, 4, 5"
            ).fetchall(),
            conn.execute(
                f"{groups}, l.cls, l.v_start, l.v_end, l.rid FROM long_variants l JOIN variant_groups g USING (gid) "
                "ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
            ).fetchall(),
        )
    finally:
        conn.close()


def run(path: Path, *statements: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Run `statements` on the store file in one transaction (off the event loop); the last one's rows."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            rows = [conn.execute(sql, params).fetchall() for sql in statements]
        return rows[-1]
    finally:
        conn.close()


FORGET_STAMP = "DELETE FROM meta WHERE key = 'variant_bins'"
TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"


async def test_a_store_without_bins_gains_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await build(path)
    await store.close()
    # The layout of a store written before the bins (version 3 then; the bins kept the version): no bin tables, no stamp.
    drops = ("DROP TABLE variant_bins", "DROP TABLE long_variants", "DROP TABLE variant_groups", FORGET_STAMP)
    await asyncio.to_thread(run, path, *drops)
    assert ("variant_bins",) not in await asyncio.to_thread(run, path, TABLES)
    reopened = SqliteStore(path)
    await reopened.open()
    query = Query("g_variants", ("a", "b", "c"), plan("1", 1_000, 21_000, "GRCh38"))
    counted = await reopened.count_by_dataset(query)
    await reopened.close()
    assert {("variant_groups",), ("variant_bins",), ("long_variants",)} <= set(
        await asyncio.to_thread(run, path, TABLES)
    )
    assert await asyncio.to_thread(run, path, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    general, params = count_sql(query)
    assert counted == dict(await asyncio.to_thread(run, path, general, params=params))
    assert await asyncio.to_thread(differences, path, seed=6, n=40) == []


async def test_bins_left_stale_by_a_writer_that_does_not_keep_them_are_rebuilt_on_open(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await build(path)
    await store.close()
    # What an older version's delete does: records and catalogue go, the bins stay.
    deletes = ("DELETE FROM records WHERE dataset = 'b'", "DELETE FROM datasets_loaded WHERE dataset = 'b'")
    await asyncio.to_thread(run, path, *deletes)
    reopened = SqliteStore(path)
    await reopened.open()
    await reopened.close()
    assert await asyncio.to_thread(differences, path, seed=8, n=40) == []


async def test_the_store_counts_ranges_from_the_bins_and_other_plans_from_the_records(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await build(path)
    ranged = Query("g_variants", ("a", "b"), plan("1", 0, SPAN, "GRCh38"))
    # The same range with one more condition is not the fast path's shape.
    typed = Query("g_variants", ("a", "b"), And((*plan("1", 0, SPAN, "GRCh38").parts, In(Field.TYPE, ("SNP",)))))
    before = await store.count_by_dataset(ranged), await store.count_by_dataset(typed)
    assert before[0] == before[1] != {}
    await asyncio.to_thread(run, path, "UPDATE variant_bins SET upto = upto + 1000")
    after = await store.count_by_dataset(ranged), await store.count_by_dataset(typed)
    await store.close()
    assert after[1] == before[1]
    assert after[0] != before[0]


@pytest.mark.parametrize("assembly", [None, "GRCh38"], ids=["any-assembly", "one-assembly"])
async def test_the_range_count_reads_no_table_whole(tmp_path: Path, assembly: str | None) -> None:
    store = await build(tmp_path / "s.db", n=50)
    await store.close()
    sql, params = sqlite_bins.count_sql(RangeCount("1", assembly, 5_000, 10_005_000), ("a", "b"))
    steps = [
        str(row[3])
        for row in await asyncio.to_thread(run, tmp_path / "s.db", "EXPLAIN QUERY PLAN " + sql, params=params)
    ]
    # The group table is tiny (one row per dataset part, chromosome and assembly): the planner may read it whole.
    whole = {("SCAN", name) for name in ("records", "r", "variant_bins", "b", "long_variants", "l")}
    assert [s for s in steps if tuple(s.split(" ")[:2]) in whole] == []
    assert sum("records_by_position" in s for s in steps) == 4
    assert sum("SEARCH b USING PRIMARY KEY (gid=? AND bin<?)" in s for s in steps) == 2


def condition(*parts: Condition) -> Condition:
    return And(parts)


CHR = Compare(Field.CHROM, "=", "1")
ASM = Compare(Field.ASSEMBLY, "=", "GRCh38")
BEFORE = Compare(Field.START, "<", 200)
AFTER = Compare(Field.END, ">", 100)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (condition(ASM, CHR, BEFORE, AFTER), RangeCount("1", "GRCh38", 100, 200)),
        (condition(AFTER, BEFORE, CHR), RangeCount("1", None, 100, 200)),
        (condition(CHR, BEFORE), None),
        (condition(CHR, BEFORE, AFTER, AFTER), None),
        (condition(CHR, BEFORE, AFTER, Compare(Field.TYPE, "=", "SNP")), None),
        (condition(CHR, BEFORE, AFTER, HasKey("mate", ("2",))), None),
        (condition(CHR, Compare(Field.START, "<=", 200), AFTER), None),
        (condition(CHR, BEFORE, Compare(Field.END, ">=", 100)), None),
        (condition(CHR, Compare(Field.START, "<", 100), Compare(Field.END, ">", 100)), None),
        (condition(CHR, BEFORE, Compare(Field.END, ">", 100.5)), None),
        (condition(CHR, BEFORE, Compare(Field.END, ">", True)), None),
        (condition(Compare(Field.CHROM, "=", 1), BEFORE, AFTER), None),
        (condition(Compare(Field.ASSEMBLY, "=", 38), CHR, BEFORE, AFTER), None),
        (And((CHR, BEFORE, AFTER, condition(ASM))), None),
    ],
    ids=[
        "a range query with an assembly is counted from the bins",
        "in any order and without an assembly too",
        "a start bound alone is not",
        "a repeated bound is not",
        "a variant type is not",
        "a mate is not",
        "an inclusive start bound is not",
        "an inclusive end bound is not",
        "an empty range is not",
        "a fractional position is not",
        "a boolean position is not",
        "a chromosome that is not text is not",
        "an assembly that is not text is not",
        "a nested And is not",
    ],
)
def test_range_count_takes_exactly_the_range_query_shape(where: Condition, expected: RangeCount | None) -> None:
    assert range_count(Query("g_variants", ("a",), where)) == expected


def test_range_count_is_for_variants_only() -> None:
    assert range_count(Query("individuals", ("a",), condition(CHR, BEFORE, AFTER))) is None
    assert range_count(Query("g_variants", ("a",), None)) is None


def test_range_count_sql_matches_golden_file() -> None:
    """The bins' count SQL changes only deliberately (regenerate with BEACON_UPDATE_GOLDEN=1 and review the diff)."""
    rendered = {
        name: list(sqlite_bins.count_sql(ranged, ("d1", "d2")))
        for name, ranged in (
            ("10 Mb range in one assembly", RangeCount("22", "GRCh37", 16_050_100, 26_050_100)),
            ("range in any assembly, edges past the nearest bin edge", RangeCount("X", None, 449, 1_051)),
        )
    }
    rendered = json.loads(json.dumps(rendered))
    if os.environ.get("BEACON_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rendered, indent=1) + "\n")
    assert rendered == json.loads(GOLDEN.read_text())
