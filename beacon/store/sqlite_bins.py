"""Range counts over g_variants from per-bin running totals, kept beside the records of each dataset part.

A count of the variants overlapping [S, E) read from the records costs one table row per variant in
the window (10 Mb at chr22 density: about 317,000 rows, 135 ms): the position index holds neither
the dataset nor the assembly. Per dataset part, chromosome and assembly (a *group*), `variant_bins`
keeps, for every BIN-wide bin holding a start, how many of the group's variants start before the
bin's end. For each dataset the count is then, exactly as the general SQL counts it:

    overlapping = starts in [S, E)             two running totals per group, each corrected by the
                                               records between S (or E) and its nearest bin edge
                - starts at S with end == S    empty variants at S do not overlap [S, E)
                + starts in [S - SHORT, S) with end > S     a short scan of the position index
                + starts before S - SHORT with end > S      from `long_variants`, by span class
                + inverted variants (end < start) in the window, from `long_variants` (class 0)

Every variant that can reach over S from further left than SHORT is in `long_variants`; class k
holds spans up to SHORT * 2**k, so each class is read only from S - SHORT * 2**k: a rare 100 Mb
variant costs nothing to queries that its class does not reach. tests/store/test_sqlite_bins.py
compares every term with the general SQL on random windows.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from functools import cache

from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.plan import And, Compare, Field, Query

# The one collection of genomic variants (EntryType.holds_variants); it is a name from the code's
# own table, so the SQL below may hold it literally.
(VARIANTS,) = DEFAULT_TABLE.variant_collections()
# Measured on 10 M variants (docs/scaling.md): bins of 300 bp leave at most 150 bp of records to
# read at each edge (about 5 rows at chr22 density) and cost 1.8 B per variant; 100 bp bins were
# no faster (0.087 ms) at 4.8 B per variant, 1,000 bp bins read more rows when pages are cold.
BIN = 300
# Variants spanning more than this are also kept in `long_variants`; reads of the position index
# reach this far left of S (about 32 index entries at chr22 density, no table rows).
SHORT = 1_000
_META_KEY = "variant_bins"
# Span classes of the records `r`: class k > 0 holds spans in (SHORT * 2**(k-1), SHORT * 2**k], 0 the
# inverted ones; 40 classes pass any genome.
_CLASS = "CASE WHEN r.v_end < r.v_start THEN 0 ELSE {} END".format(
    " + ".join(f"(r.v_end - r.v_start > {SHORT << k})" for k in range(40))
)
# Floor division, also for negative starts (SQLite's integer division truncates towards zero).
_BIN_OF = f"((v_start - ((v_start % {BIN}) + {BIN}) % {BIN}) / {BIN})"
# Starts per bin of the records selected after it (`… FROM records WHERE … AND _PLACED`), and whether the
# bin holds a long or inverted variant.
_COUNTS = (
    f"SELECT dataset, part, v_chr, v_asm, {_BIN_OF}, sum(v_end >= v_start), "
    f"max(v_end < v_start OR v_end - v_start > {SHORT})"
)
_PLACED = (
    f"coll = '{VARIANTS}' AND v_chr IS NOT NULL AND v_start IS NOT NULL AND v_end IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
)
# The per-batch counts of the load in progress (`gather`).
_GATHERED = "bin_gathered"


@dataclass(frozen=True)
class RangeCount:
    """A count of g_variants overlapping [start, end) on one chromosome, in one assembly or any."""

    chrom: str
    assembly: str | None
    start: int
    end: int


def range_count(query: Query) -> RangeCount | None:
    """The range the query counts when it is exactly a range query on g_variants, else None.

    Exactly: an And of one `chrom =`, at most one `assembly =` (text), one `start <` and one `end >`
    (integers, start before end), nothing else. The planner writes a range query in this shape
    (beacon/query/variants.py); anything else goes the general way.
    """
    where = query.where
    if query.collection != VARIANTS or not isinstance(where, And):
        return None
    found: dict[tuple[Field, str], object] = {}
    for part in where.parts:
        if not isinstance(part, Compare) or (part.field, part.op) in found:
            return None
        found[(part.field, part.op)] = part.value
    chrom = found.pop((Field.CHROM, "="), None)
    assembly = found.pop((Field.ASSEMBLY, "="), None)
    end = found.pop((Field.START, "<"), None)
    start = found.pop((Field.END, ">"), None)
    if found or not isinstance(chrom, str) or not (assembly is None or isinstance(assembly, str)):
        return None
    # bool is an int; floats compare differently with the stored integers at the bin edges.
    if type(start) is not int or type(end) is not int or not -(2**62) < start < end < 2**62:
        return None
    return RangeCount(chrom, assembly, start, end)


@cache
def _count_sql(with_assembly: bool) -> str:
    asm = " AND asm = :asm" if with_assembly else ""
    # `+` keeps the planner on the position index (dataset and assembly are checked on the rows it finds).
    rows = (
        f"FROM records r INDEXED BY records_by_position WHERE r.coll = '{VARIANTS}' AND r.v_chr = :chrom "
        "AND +r.dataset IN (SELECT value FROM json_each(:datasets))"
    ) + (" AND +r.v_asm = :asm" if with_assembly else "")
    return f"""
WITH g AS (
    SELECT gid, dataset FROM variant_groups
    WHERE chrom = :chrom AND dataset IN (SELECT value FROM json_each(:datasets)){asm}
), k(gid, dataset, cls, top) AS (
    SELECT gid, dataset, 0, (SELECT max(cls) FROM long_variants l WHERE l.gid = g.gid) FROM g
    UNION ALL SELECT gid, dataset, cls + 1, top FROM k WHERE cls < top
)
SELECT dataset, sum(n) FROM (
    SELECT g.dataset AS dataset,
        coalesce((SELECT upto FROM variant_bins b WHERE b.gid = g.gid AND b.bin < :end_cut
                  ORDER BY b.bin DESC LIMIT 1), 0)
      - coalesce((SELECT upto FROM variant_bins b WHERE b.gid = g.gid AND b.bin < :start_cut
                  ORDER BY b.bin DESC LIMIT 1), 0) AS n
    FROM g
    UNION ALL SELECT r.dataset, :end_sign * count(*) {rows}
        AND r.v_start >= :end_lo AND r.v_start < :end_hi AND r.v_end >= r.v_start GROUP BY r.dataset
    UNION ALL SELECT r.dataset, -:start_sign * count(*) {rows}
        AND r.v_start >= :start_lo AND r.v_start < :start_hi AND r.v_end >= r.v_start GROUP BY r.dataset
    UNION ALL SELECT r.dataset, -count(*) {rows} AND r.v_start = :start AND r.v_end = :start GROUP BY r.dataset
    UNION ALL SELECT r.dataset, count(*) {rows}
        AND r.v_start >= :start - {SHORT} AND r.v_start < :start AND r.v_end > :start GROUP BY r.dataset
    UNION ALL SELECT k.dataset, count(*) FROM k CROSS JOIN long_variants l
        ON l.gid = k.gid AND l.cls = k.cls AND l.v_start >= :start - ({SHORT} << k.cls)
        AND l.v_start < :start - {SHORT} AND l.v_end > :start
        WHERE k.cls > 0 GROUP BY k.dataset
    UNION ALL SELECT k.dataset, count(*) FROM k CROSS JOIN long_variants l
        ON l.gid = k.gid AND l.cls = 0 AND l.v_start > :start AND l.v_start < :end AND l.v_end > :start
        WHERE k.cls = 0 GROUP BY k.dataset
) GROUP BY dataset HAVING sum(n) > 0"""


def _cut(position: int) -> tuple[int, int, int, int]:
    """(bin k, lo, hi, sign): starts before `position` = starts before k * BIN + sign * starts in [lo, hi)."""
    k = (position + BIN // 2) // BIN
    edge = k * BIN
    return (k, edge, position, 1) if edge <= position else (k, position, edge, -1)


def count_sql(rc: RangeCount, datasets: tuple[str, ...]) -> tuple[str, dict[str, object]]:
    """SQL and parameters giving (dataset, count) of the variants overlapping the range, per dataset with any."""
    start_cut, start_lo, start_hi, start_sign = _cut(rc.start)
    end_cut, end_lo, end_hi, end_sign = _cut(rc.end)
    params: dict[str, object] = {
        "chrom": rc.chrom,
        "datasets": json.dumps(list(datasets)),
        "start": rc.start,
        "end": rc.end,
        "start_cut": start_cut,
        "start_lo": start_lo,
        "start_hi": start_hi,
        "start_sign": start_sign,
        "end_cut": end_cut,
        "end_lo": end_lo,
        "end_hi": end_hi,
        "end_sign": end_sign,
    }
    if rc.assembly is not None:
        params["asm"] = rc.assembly
    return _count_sql(rc.assembly is not None), params


# -- upkeep: per dataset part, inside the loader's transaction ---------------------------------------


def gather(conn: sqlite3.Connection, first: int, last: int) -> None:
    """Count the bins of the records `first`..`last` (rids) a load has just inserted, into a temporary table
    of the load's transaction that `fill` reads.

    Counted batch by batch while the parser still works, from pages still in the cache: read again
    after the inserts, the part's records cost 0.5 s of the serial end of a chr22 load.
    """
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_GATHERED} (dataset, part, chrom, asm, bin, n, odd)")
    sql = f"INSERT INTO temp.{_GATHERED} {_COUNTS} FROM records WHERE rid BETWEEN ? AND ? AND {_PLACED}"
    conn.execute(sql, (first, last))


def fill(conn: sqlite3.Connection) -> None:
    """Add the bins of the part just loaded (its previous bins must be gone: `forget`), from what `gather`
    counted of the records the load inserted."""
    (gathered,) = conn.execute("SELECT count(*) FROM temp.sqlite_schema WHERE name = ?", (_GATHERED,)).fetchone()
    if gathered:
        # A bin may span two batches: their counts add up.
        summed = "SELECT dataset, part, chrom, asm, bin, sum(n), max(odd)"
        _fill(conn, f"{summed} FROM temp.{_GATHERED} GROUP BY 1, 2, 3, 4, 5")
        conn.execute(f"DROP TABLE temp.{_GATHERED}")
    _mark_current(conn)


def forget(conn: sqlite3.Connection, dataset: str, part: str | None = None) -> None:
    """Remove the bins of one part, or of every part of the dataset when `part` is None."""
    where, params = ("dataset = ?", (dataset,)) if part is None else ("dataset = ? AND part = ?", (dataset, part))
    for table in ("variant_bins", "long_variants"):
        conn.execute(f"DELETE FROM {table} WHERE gid IN (SELECT gid FROM variant_groups WHERE {where})", params)
    conn.execute(f"DELETE FROM variant_groups WHERE {where}", params)
    _mark_current(conn)


def ensure(conn: sqlite3.Connection) -> bool:
    """Build the bins of every loaded part unless they match the loaded parts; True when they were built.

    This is an additive migration, not a schema version: stores of version 3 written before the bins
    existed (the cached 10 M benchmark store takes 18 minutes to load again) gain them on first open,
    and a store changed by a version that does not keep them is noticed (the loaded parts no longer
    match the ones the bins were built for) and rebuilt, never answered from stale bins.
    """
    if _current(conn):
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _current(conn):  # another process may have built them while this one waited
            for table in ("variant_bins", "long_variants", "variant_groups"):
                conn.execute(f"DELETE FROM {table}")
            _fill(conn, f"{_COUNTS} FROM records WHERE {_PLACED}")
            _mark_current(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return True


def _stamp(conn: sqlite3.Connection) -> str:
    """What the bins are built for: their parameters and every loaded part's digest and load time."""
    rows = conn.execute("SELECT dataset, part, digest, loaded_at FROM datasets_loaded ORDER BY dataset, part")
    parts = hashlib.sha256(json.dumps(rows.fetchall()).encode()).hexdigest()[:16]
    return f"bin {BIN}, short {SHORT}, parts {parts}"


def _current(conn: sqlite3.Connection) -> bool:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_META_KEY,)).fetchone()
    return row is not None and row[0] == _stamp(conn)


def _mark_current(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_META_KEY, _stamp(conn)))


def _fill(conn: sqlite3.Connection, counts: str) -> None:
    # `counts` gives the starts per bin and flags the bins holding a long or inverted variant; those few
    # bins are then read again through the position index.
    conn.execute("CREATE TEMP TABLE bin_counts (dataset, part, chrom, asm, bin, n, odd)")
    try:
        conn.execute(f"INSERT INTO temp.bin_counts {counts}")
        conn.execute(
            "INSERT INTO variant_groups (dataset, part, chrom, asm) "
            "SELECT DISTINCT dataset, part, chrom, asm FROM temp.bin_counts"
        )
        # CROSS JOIN fixes the join order: the temporary table has no statistics to plan by.
        joined = (
            "FROM temp.bin_counts c CROSS JOIN variant_groups g ON g.dataset = c.dataset AND g.part = c.part "
            "AND g.chrom = c.chrom AND g.asm IS c.asm"
        )
        conn.execute(
            f"INSERT INTO variant_bins SELECT g.gid, c.bin, sum(c.n) OVER (PARTITION BY g.gid ORDER BY c.bin) {joined} "
            "WHERE c.n > 0"
        )
        conn.execute(
            f"INSERT INTO long_variants SELECT g.gid, {_CLASS}, r.v_start, r.v_end, r.rid {joined} "
            f"CROSS JOIN records r INDEXED BY records_by_position ON r.coll = '{VARIANTS}' AND r.v_chr = c.chrom "
            f"AND r.v_start >= c.bin * {BIN} AND r.v_start < (c.bin + 1) * {BIN} "
            f"AND (r.v_end < r.v_start OR r.v_end - r.v_start > {SHORT}) "
            "AND r.dataset = c.dataset AND r.part = c.part AND r.v_asm IS c.asm WHERE c.odd"
        )
    finally:
        conn.execute("DROP TABLE temp.bin_counts")
