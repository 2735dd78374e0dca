"""Translate query-plan conditions into SQL over the embedded store's tables (golden-tested)."""

from __future__ import annotations

import json

from beacon.model.plan import (
    SAME_DATASET,
    And,
    Compare,
    Condition,
    Field,
    HasElement,
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
from beacon.store.carriers import carrier_mask
from beacon.store.sqlite_content import (
    SQL_OPS,
    TERM_RIDS,
    At,
    Params,
    element_sql,
    populations_in,
    term_sql,
    value_sql,
)


def condition_sql(cond: Condition, params: Params, collection: str, datasets: tuple[str, ...] = ()) -> str:
    """SQL boolean expression over `records r` of `collection` for `cond`, appending its parameters to `params`.

    `datasets` bound the source records of `Related` conditions (the datasets the query searches).
    """
    return _sql(cond, At(params, datasets, collection=collection))


def _sql(cond: Condition, at: At) -> str:
    params, r = at.params, at.alias
    if isinstance(cond, Compare):
        params.append(cond.value)
        return f"{at.column(cond.field)} {SQL_OPS[cond.op]} ?"
    if isinstance(cond, In):
        params.append(json.dumps(list(cond.values)))
        return f"{at.column(cond.field)} IN (SELECT value FROM json_each(?))"
    if isinstance(cond, HasKey):
        params.extend([cond.kind, json.dumps(list(cond.values))])
        return f"{r}.rid IN (SELECT k.rid FROM keys k WHERE k.kind = ? AND k.value IN (SELECT value FROM json_each(?)))"
    if isinstance(cond, HasTerm):
        return term_sql(cond.terms, at)
    if isinstance(cond, HasValue):
        return value_sql(cond, at)
    if isinstance(cond, HasElement):
        return element_sql(cond, at)
    if isinstance(cond, Related):
        return _related_sql(cond, at)
    if isinstance(cond, And):
        sql = " AND ".join(_and_parts(cond, at)) + _overlap_bound(cond, at)
        return "(" + sql + ")"
    if isinstance(cond, Or):
        return "(" + " OR ".join(_sql(p, at) for p in cond.parts) + ")"
    if isinstance(cond, Not):
        return f"NOT ({_sql(cond.part, at)})"
    if isinstance(cond, Nothing):
        return "0"
    msg = f"no SQL translation for {cond!r}"
    raise TypeError(msg)


def _related_sql(cond: Related, at: At) -> str:
    """Records linked to matching `source` records of the same dataset, as one uncorrelated sub-select.

    The sub-select starts from the source records (bounded by the datasets searched and their own
    indexed condition) and gathers the distinct (dataset, value) pairs of their `via` keys, then seeks
    the records of the target collection carrying the same key in the same dataset: the rid list the
    outer query seeks, as for a literal `HasKey` list, but without the list passing through Python and
    never across datasets. Biosample and individual links are also carrier sets (`_carrier_pairs`,
    `_carrier_targets`); those pairs and targets join the key ones.
    """
    inner = at.inside(cond.source)
    s = inner.alias
    if cond.via == SAME_DATASET:
        at.params.extend([cond.source, json.dumps(list(at.datasets))])
        bound = f"{s}.coll = ? AND {s}.dataset IN (SELECT value FROM json_each(?))"
        where = _sql(_as_and(cond.where), inner)
        return f"{at.alias}.dataset IN (SELECT {s}.dataset FROM records {s} WHERE {bound} AND {where})"
    d = inner.depth
    carried = cond.via in CARRIER_KINDS
    # Set branches only for collections that hold sets: a branch the store knows to be empty still costs
    # its pairs' materialisation (measured: 3 of 6 ms for the 1,000 carriers of one variant).
    from_sets, to_sets = carried and at.holds_sets(cond.source), carried and at.holds_sets(at.collection)
    # The sets' union per part first: its parameters come first in the text.
    ctes = f"{_carrier_union(cond, inner, at.collection)}, " if from_sets else ""
    # The distinct (dataset, value) pairs first: a variant range names the same carriers many times.
    pairs = (
        f"SELECT DISTINCT {s}.dataset AS dataset, ks{d}.value AS value "
        f"FROM records {s} JOIN keys ks{d} ON ks{d}.rid = {s}.rid "
    )
    pairs += f"WHERE {_source_bound(cond, inner)} AND ks{d}.kind = ?"
    at.params.append(cond.via)
    if from_sets:
        # UNION ALL: the set side's samples are distinct already (one union per part), and a pair both
        # sides name only costs the targets a second seek, which `rid IN` folds. Sorting the set side's
        # pairs into a temporary B-tree cost 0.2 of 2.9 ms for the 1,000 carriers of one variant.
        pairs += f" UNION ALL {_carrier_pairs(cond.via, d)}"
    # A key value is on records of every collection (an individual's id on a variant carrying it as a
    # key): the rids of the target collection in each dataset bound the key index seek to its records,
    # read once per dataset searched (b), not once per pair.
    at.params.extend([at.collection, at.collection, json.dumps(list(at.datasets)), cond.via, at.collection])
    # (parameters in the order of the text below: the bounds' two collections and datasets, then the seek's)
    bounds = (
        f"b{d} AS MATERIALIZED (SELECT e{d}.value AS dataset, "
        f"(SELECT min(x{d}.rid) FROM records x{d} WHERE x{d}.coll = ? AND x{d}.dataset = e{d}.value) AS lo, "
        f"(SELECT max(x{d}.rid) FROM records x{d} WHERE x{d}.coll = ? AND x{d}.dataset = e{d}.value) AS hi "
        f"FROM json_each(?) e{d})"
    )
    targets = (
        f"SELECT t{d}.rid FROM p{d} CROSS JOIN b{d} ON b{d}.dataset = p{d}.dataset "
        f"CROSS JOIN keys kt{d} ON kt{d}.kind = ? AND kt{d}.value = p{d}.value "
        f"AND kt{d}.rid BETWEEN b{d}.lo AND b{d}.hi "
        # By rowid, the dataset and collection read from the row: probing the (coll, dataset, rid) index
        # instead cost 0.5 of 2.7 ms for 1,000 carriers.
        f"CROSS JOIN records t{d} ON t{d}.rid = kt{d}.rid AND +t{d}.dataset = p{d}.dataset AND +t{d}.coll = ?"
    )
    if from_sets:
        # The members the part's sample map gives a record: that record, with no key seek. Its part is
        # checked by rowid too (as `_carrier_targets` does), so a map can never lead outside its part.
        targets += (
            f" UNION ALL SELECT tm{d}.rid FROM g{d} CROSS JOIN json_each(roaring_mapped(g{d}.u, g{d}.rids)) mr{d} "
            f"CROSS JOIN records tm{d} ON tm{d}.rid = mr{d}.value AND +tm{d}.dataset = g{d}.dataset "
            f"AND +tm{d}.part = g{d}.part"
        )
    if to_sets:
        targets += f" UNION {_carrier_targets(cond.via, at, d)}"
    return f"{at.alias}.rid IN (WITH {ctes}p{d} AS ({pairs}), {bounds} {targets})"


# Key kinds that carrier sets also link: a set member is a sample, and a sample is a biosample of an individual.
CARRIER_KINDS = ("biosample", "individual")
# True when records of collection `?` hold carrier sets (kept by the load, sqlite_load.py): the set
# branches of a lookup are skipped at once for the others.
_HOLDS_SETS = (
    "EXISTS (SELECT 1 FROM meta WHERE meta.key = 'carrier_collections' "
    "AND ? IN (SELECT value FROM json_each(meta.value)))"
)


def _source_bound(cond: Related, inner: At) -> str:
    """The source records' bound (collection, datasets searched) and condition, parameters appended."""
    s = inner.alias
    inner.params.extend([cond.source, json.dumps(list(inner.datasets))])
    bound = f"{s}.coll = ? AND {s}.dataset IN (SELECT value FROM json_each(?))"
    return f"{bound} AND {_sql(_as_and(cond.where), inner)}"


def _carrier_union(cond: Related, inner: At, target: str) -> str:
    """`g{d}`: per dataset part, the union of the matching source variants' picked sets (`carrier_mask`),
    with the part's sample map to records of the target collection (`sample_records`; NULL when none)."""
    s, d = inner.alias, inner.depth
    inner.params.append(carrier_mask(cond.where))
    bound = _source_bound(cond, inner)
    if inner.sets is None:
        inner.params.append(cond.source)
        bound += f" AND {_HOLDS_SETS}"
    inner.params.extend([cond.via, target])
    union = (
        f"SELECT {s}.dataset AS dataset, {s}.part AS part, roaring_union(?, c{d}.het, c{d}.hom, c{d}.hemi) AS u "
        f"FROM records {s} JOIN carriers c{d} ON c{d}.rid = {s}.rid WHERE {bound} "
        f"GROUP BY {s}.dataset, {s}.part"
    )
    # Materialized: the pairs and the mapped targets both read it, and the union is computed once.
    return (
        f"g{d} AS MATERIALIZED (SELECT n{d}.dataset AS dataset, n{d}.part AS part, n{d}.u AS u, "
        f"sr{d}.rids AS rids FROM ({union}) n{d} LEFT JOIN sample_records sr{d} ON sr{d}.dataset = n{d}.dataset "
        f"AND sr{d}.part = n{d}.part AND sr{d}.kind = ? AND sr{d}.coll = ?)"
    )


def _carrier_pairs(via: str, d: int) -> str:
    """(dataset, value) pairs of the carriers of the unions `g{d}` that the sample map leaves unmapped.

    Their members expanded inside SQLite and met with the part's samples: never across datasets, no
    list in Python. CROSS JOIN fixes the order (SQLite's planner would scan the samples table otherwise).
    """
    return (
        f"SELECT g{d}.dataset, sm{d}.{via} FROM g{d} "
        f"CROSS JOIN json_each(roaring_unmapped(g{d}.u, g{d}.rids)) m{d} "
        f"CROSS JOIN samples sm{d} "
        f"ON sm{d}.dataset = g{d}.dataset AND sm{d}.part = g{d}.part AND sm{d}.idx = m{d}.value "
        f"WHERE sm{d}.{via} IS NOT NULL"
    )


def _carrier_targets(via: str, at: At, d: int) -> str:
    """The target variants whose sets hold a sample of a pair (`p{d}`): per part, the pairs' samples as
    one set, met with each variant's sets of that part (a scan of the part's variants, one call each)."""
    guarded = at.sets is None
    at.params.extend([at.collection, at.collection] if guarded else [at.collection])
    # The guard as the first table of the join: nothing else is read when the target holds no sets.
    guard = f"(SELECT 1 WHERE {_HOLDS_SETS}) h{d} CROSS JOIN " if guarded else ""
    samples = (
        f"SELECT sq{d}.dataset AS dataset, sq{d}.part AS part, roaring_of(sq{d}.idx) AS b "
        f"FROM {guard}p{d} "
        f"CROSS JOIN samples sq{d} ON sq{d}.dataset = p{d}.dataset AND sq{d}.{via} = p{d}.value "
        f"GROUP BY sq{d}.dataset, sq{d}.part"
    )
    # A part's records are one rid range (a load inserts them together): that range, read by rowid.
    ends = [
        f"(SELECT {fn}(y{d}.rid) FROM records y{d} WHERE y{d}.dataset = q{d}.dataset AND y{d}.part = q{d}.part)"
        for fn in ("min", "max")
    ]
    return (
        f"SELECT tc{d}.rid FROM ({samples}) q{d} "
        f"CROSS JOIN records tc{d} ON tc{d}.rid BETWEEN {ends[0]} AND {ends[1]} AND +tc{d}.coll = ? "
        # Checked too, so a lookup stays inside its part even if a part's rids ever stop being one range.
        f"AND +tc{d}.dataset = q{d}.dataset AND +tc{d}.part = q{d}.part "
        f"CROSS JOIN carriers cc{d} ON cc{d}.rid = tc{d}.rid "
        f"WHERE roaring_meets(7, cc{d}.het, cc{d}.hom, cc{d}.hemi, q{d}.b)"
    )


def _as_and(cond: Condition) -> And:
    return cond if isinstance(cond, And) else And((cond,))


def _and_parts(cond: And, at: At) -> list[str]:
    """The parts of an And; two or more term conditions become one set intersection.

    `r.rid IN (A) AND r.rid IN (B)` probes the records of A and builds B whole for each query;
    `r.rid IN (A INTERSECT B)` meets the records only for the rids in both. Measured on 100 k
    individuals (326 HPO terms, then a sex term of 40 k individuals): 17.1 -> 13.6 ms, and with the
    filters the other way round 36.7 -> 20.1 ms.
    """
    terms = [p for p in cond.parts if isinstance(p, HasTerm) and not populations_in(p.terms)]
    sqls: list[str] = []
    for part in cond.parts:
        if len(terms) > 1 and any(part is t for t in terms):
            if part is terms[0]:
                at.params.extend(json.dumps(list(t.terms)) for t in terms)
                sets = " INTERSECT ".join([TERM_RIDS] * len(terms))
                sqls.append(f"{at.alias}.rid IN ({sets})")
            continue
        sqls.append(_sql(part, at))
    return sqls


def _overlap_bound(where: Condition | None, at: At) -> str:
    """For `end > x`, also require `start >= x - longest span`, so the position index bounds the scan.

    Without it an overlap query reads every variant that starts before the range's end. The
    longest span ever loaded is kept in `meta` (an upper bound: it never shrinks).
    """
    parts = where.parts if isinstance(where, And) else (where,)
    for part in parts:
        if isinstance(part, Compare) and part.field == Field.END and part.op in (">", ">="):
            at.params.append(part.value)
            start = at.column(Field.START)
            return f" AND {start} >= ? - (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_span')"
    return ""


def _scope(query: Query, params: Params, sets: frozenset[str] | None = None) -> str:
    params.append(query.collection)
    params.append(json.dumps(list(query.datasets)))
    sql = "r.coll = ? AND r.dataset IN (SELECT value FROM json_each(?))"
    if query.where is not None:
        at = At(params, query.datasets, collection=query.collection, sets=sets)
        sql += " AND " + _sql(_as_and(query.where), at)
    return sql


def count_sql(query: Query, sets: frozenset[str] | None = None) -> tuple[str, Params]:
    """The count per dataset; `sets`: the collections holding carrier sets, when known (see `At`)."""
    params: Params = []
    where = _scope(query, params, sets)
    return f"SELECT r.dataset, count(*) FROM records r WHERE {where} GROUP BY r.dataset", params


_DOC_COLUMNS = "r.doc, r.dataset, r.id, r.v_asm, r.v_chr, r.v_start, r.v_end, r.v_ref, r.v_alt, r.v_type"


def find_sql(query: Query, sets: frozenset[str] | None = None) -> tuple[str, Params]:
    """Documents' text and columns, then the part and the carrier sets that complete them (sqlite.py)."""
    params: Params = []
    where = _scope(query, params, sets)
    # The dataset, id and variant columns complete documents stored without what they hold (store/compact.py).
    sql = (
        f"SELECT {_DOC_COLUMNS}, r.part, c.het, c.hom, c.hemi FROM records r LEFT JOIN carriers c ON c.rid = r.rid "
        f"WHERE {where} ORDER BY r.rid"
    )
    if query.limit is not None or query.offset:
        sql += " LIMIT ? OFFSET ?"
        params.extend([-1 if query.limit is None else query.limit, query.offset])
    return sql, params


def keys_sql(query: Query, kind: str) -> tuple[str, Params]:
    params: Params = []
    where = _scope(query, params)
    params.append(kind)
    sql = f"SELECT k.value FROM records r JOIN keys k ON k.rid = r.rid WHERE {where} AND k.kind = ?"
    if kind in CARRIER_KINDS:
        sql += " UNION " + carrier_values_sql(_scope(query, params), kind)
        return f"SELECT value FROM ({sql}) ORDER BY value", params
    return f"SELECT DISTINCT value FROM ({sql}) ORDER BY value", params


def carrier_values_sql(where: str, kind: str) -> str:
    """The biosample or individual (`kind`) ids of the carriers in the sets of records `r` meeting `where`."""
    union = (
        "SELECT r.dataset AS dataset, r.part AS part, roaring_union(7, c.het, c.hom, c.hemi) AS u "
        f"FROM records r JOIN carriers c ON c.rid = r.rid WHERE {where} GROUP BY r.dataset, r.part"
    )
    return (
        f"SELECT sm.{kind} AS value FROM ({union}) g JOIN json_each(roaring_members(g.u)) m "
        f"JOIN samples sm ON sm.dataset = g.dataset AND sm.part = g.part AND sm.idx = m.value "
        f"WHERE sm.{kind} IS NOT NULL"
    )
