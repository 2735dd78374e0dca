"""Translate query-plan conditions into SQL over the embedded store's tables (golden-tested)."""

from __future__ import annotations

import json

from beacon.model.plan import (
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
)
from beacon.store.sqlite_schema import COLUMNS

Params = list[object]
_SQL_OPS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def condition_sql(cond: Condition, params: Params) -> str:
    """SQL boolean expression over `records r` for `cond`, appending its parameters to `params`."""
    if isinstance(cond, Compare):
        params.append(cond.value)
        return f"{COLUMNS[cond.field]} {_SQL_OPS[cond.op]} ?"
    if isinstance(cond, In):
        params.append(json.dumps(list(cond.values)))
        return f"{COLUMNS[cond.field]} IN (SELECT value FROM json_each(?))"
    if isinstance(cond, HasKey):
        params.extend([cond.kind, json.dumps(list(cond.values))])
        return "r.rid IN (SELECT k.rid FROM keys k WHERE k.kind = ? AND k.value IN (SELECT value FROM json_each(?)))"
    if isinstance(cond, HasTerm):
        params.append(json.dumps(list(cond.terms)))
        return f"r.rid IN ({_TERM_RIDS})"
    if isinstance(cond, HasValue):
        return _value_sql(cond, params)
    if isinstance(cond, HasElement):
        return _element_sql(cond, params)
    if isinstance(cond, And):
        sql = " AND ".join(_and_parts(cond, params)) + _overlap_bound(cond, params)
        return "(" + sql + ")"
    if isinstance(cond, Or):
        return "(" + " OR ".join(condition_sql(p, params) for p in cond.parts) + ")"
    if isinstance(cond, Not):
        return f"NOT ({condition_sql(cond.part, params)})"
    if isinstance(cond, Nothing):
        return "0"
    msg = f"no SQL translation for {cond!r}"
    raise TypeError(msg)


def _and_parts(cond: And, params: Params) -> list[str]:
    """The parts of an And; two or more term conditions become one set intersection.

    `r.rid IN (A) AND r.rid IN (B)` probes the records of A and builds B whole for each query;
    `r.rid IN (A INTERSECT B)` meets the records only for the rids in both. Measured on 100 k
    individuals (326 HPO terms, then a sex term of 40 k individuals): 17.1 -> 13.6 ms, and with the
    filters the other way round 36.7 -> 20.1 ms.
    """
    terms = [p for p in cond.parts if isinstance(p, HasTerm)]
    sqls: list[str] = []
    for part in cond.parts:
        if len(terms) > 1 and isinstance(part, HasTerm):
            if part is terms[0]:
                params.extend(json.dumps(list(t.terms)) for t in terms)
                sets = " INTERSECT ".join([_TERM_RIDS] * len(terms))
                sqls.append(f"r.rid IN ({sets})")
            continue
        sqls.append(condition_sql(part, params))
    return sqls


_TERM_RIDS = "SELECT t.rid FROM terms t WHERE t.term IN (SELECT value FROM json_each(?))"


def _value_sql(cond: HasValue, params: Params) -> str:
    numeric = isinstance(cond.value, int | float)
    column = "v.nval" if numeric else "v.sval"
    if cond.op == "!=":
        # "not equal" = the record has the field, and none of its values equals the given one.
        params.extend([cond.path, cond.path, cond.value])
        return (
            "EXISTS (SELECT 1 FROM vals v WHERE v.rid = r.rid AND v.path = ?) AND NOT EXISTS "
            f"(SELECT 1 FROM vals v WHERE v.rid = r.rid AND v.path = ? AND {column} = ?)"
        )
    if cond.pattern:
        # Only `%` is a wildcard (Beacon filters); `_` and `\` are literal characters.
        pattern = str(cond.value).replace("\\", "\\\\").replace("_", "\\_")
        params.extend([cond.path, pattern])
        return f"r.rid IN (SELECT v.rid FROM vals v WHERE v.path = ? AND {column} LIKE ? ESCAPE '\\')"
    params.extend([cond.path, cond.value])
    return f"r.rid IN (SELECT v.rid FROM vals v WHERE v.path = ? AND {column} {_SQL_OPS[cond.op]} ?)"


def _json_path(dotted: str) -> str:
    return "$" + "".join(f'."{part}"' for part in dotted.split("."))


def _element_sql(cond: HasElement, params: Params) -> str:
    params.append(_json_path(cond.array))
    tests = []
    for path, op, value in cond.where:
        json_path = _json_path(path)
        if isinstance(value, int | float):
            # SQLite orders any text above any number: compare numbers with numbers only.
            params.append(json_path)
            tests.append("json_type(e.value, ?) IN ('integer', 'real')")
        params.extend([json_path, value])
        tests.append(f"json_extract(e.value, ?) {_SQL_OPS[op]} ?")
    return f"EXISTS (SELECT 1 FROM json_each(r.doc, ?) e WHERE {' AND '.join(tests)})"


def _overlap_bound(where: Condition | None, params: Params) -> str:
    """For `end > x`, also require `start >= x - longest span`, so the position index bounds the scan.

    Without it an overlap query reads every variant that starts before the range's end. The
    longest span ever loaded is kept in `meta` (an upper bound: it never shrinks).
    """
    parts = where.parts if isinstance(where, And) else (where,)
    for part in parts:
        if isinstance(part, Compare) and part.field == Field.END and part.op in (">", ">="):
            params.append(part.value)
            return " AND r.v_start >= ? - (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_span')"
    return ""


def _scope(query: Query, params: Params) -> str:
    params.append(query.collection)
    params.append(json.dumps(list(query.datasets)))
    sql = "r.coll = ? AND r.dataset IN (SELECT value FROM json_each(?))"
    if query.where is not None:
        where = query.where if isinstance(query.where, And) else And((query.where,))
        sql += " AND " + condition_sql(where, params)
    return sql


def count_sql(query: Query) -> tuple[str, Params]:
    params: Params = []
    where = _scope(query, params)
    return f"SELECT r.dataset, count(*) FROM records r WHERE {where} GROUP BY r.dataset", params


_DOC_COLUMNS = "r.doc, r.dataset, r.id, r.v_asm, r.v_chr, r.v_start, r.v_end, r.v_ref, r.v_alt, r.v_type"


def find_sql(query: Query) -> tuple[str, Params]:
    params: Params = []
    where = _scope(query, params)
    # The dataset, id and variant columns complete documents stored without what they hold (store/sqlite_docs.py).
    sql = f"SELECT {_DOC_COLUMNS} FROM records r WHERE {where} ORDER BY r.rid"
    if query.limit is not None or query.offset:
        sql += " LIMIT ? OFFSET ?"
        params.extend([-1 if query.limit is None else query.limit, query.offset])
    return sql, params


def keys_sql(query: Query, kind: str) -> tuple[str, Params]:
    params: Params = []
    where = _scope(query, params)
    params.append(kind)
    sql = f"SELECT DISTINCT k.value FROM records r JOIN keys k ON k.rid = r.rid WHERE {where} AND k.kind = ?"
    return sql + " ORDER BY k.value", params
