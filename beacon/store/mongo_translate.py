"""Translate query-plan conditions into MongoDB filter documents and pipelines (golden-tested).

Pure functions: the store passes in what it read from the catalog (the live generations of the
queried datasets and the longest variant span loaded), so a plan always translates the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
from beacon.store.mongo_schema import FIELDS

Filter = dict[str, Any]
Pipeline = list[dict[str, Any]]
_OPS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@dataclass(frozen=True)
class Scope:
    """What the catalog says about the queried datasets at the moment of the query."""

    generations: tuple[int, ...]
    max_span: int = 0
    # Live generations per dataset (a dataset is the union of its loaded parts).
    by_dataset: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def of(self, dataset: str) -> Scope:
        """The same scope narrowed to one dataset's generations (counts are taken per dataset)."""
        return Scope(
            dict(self.by_dataset).get(dataset, ()), self.max_span, ((dataset, dict(self.by_dataset).get(dataset, ())),)
        )


def key_value(kind: str, value: str) -> str:
    """How a (kind, value) key is stored in a document's `keys` array."""
    return f"{kind}:{value}"


def key_prefix_range(kind: str) -> Filter:
    """Every stored key of `kind`: a string range, so the key index serves it without a regex."""
    return {"$gte": f"{kind}:", "$lt": f"{kind};"}  # ';' sorts right after ':'


def condition_filter(cond: Condition, scope: Scope) -> Filter:
    """A filter document matching the records that meet `cond`."""
    if isinstance(cond, Compare):
        path = FIELDS[cond.field]
        if cond.op == "=":
            return {path: cond.value}
        if cond.op == "!=":
            # As in SQL, a record without the field is neither equal nor unequal.
            return {path: {"$ne": cond.value, "$exists": True}}
        return {path: {_OPS[cond.op]: cond.value}}
    if isinstance(cond, In):
        return {FIELDS[cond.field]: {"$in": list(cond.values)}}
    if isinstance(cond, HasKey):
        return {"keys": {"$in": [key_value(cond.kind, v) for v in cond.values]}}
    if isinstance(cond, HasTerm):
        return {"terms": {"$in": list(cond.terms)}}
    if isinstance(cond, HasValue):
        return _value_filter(cond)
    if isinstance(cond, HasElement):
        match: Filter = {}
        for path, op, value in cond.where:
            test = match.setdefault(path, {})
            test[_OPS[op]] = value
            if op == "!=":
                # $ne alone also matches elements without the field, or with text where a number is
                # compared; as in SQL, such an element is neither equal nor unequal.
                test.update({"$type": "number"} if isinstance(value, int | float) else {"$exists": True})
        return {f"doc.{cond.array}": {"$elemMatch": match}}
    if isinstance(cond, And):
        parts = [condition_filter(p, scope) for p in cond.parts]
        parts.extend(_overlap_bound(cond, scope))
        return {"$and": parts}
    if isinstance(cond, Or):
        return {"$or": [condition_filter(p, scope) for p in cond.parts]}
    if isinstance(cond, Not):
        return {"$nor": [condition_filter(cond.part, scope)]}
    if isinstance(cond, Nothing):
        return {"rid": {"$in": []}}
    msg = f"no MongoDB translation for {cond!r}"
    raise TypeError(msg)


def like_regex(pattern: str) -> str:
    """An anchored regular expression for a Beacon `%` pattern; everything else is literal."""
    return "^" + ".*".join(re.escape(piece) for piece in pattern.split("%")) + "$"


def _value_filter(cond: HasValue) -> Filter:
    column = "n" if isinstance(cond.value, int | float) else "s"
    if cond.op == "!=":
        # "not equal" = the record has the field, and none of its values equals the given one.
        return {
            "$and": [
                {"vals.p": cond.path},
                {"$nor": [{"vals": {"$elemMatch": {"p": cond.path, column: cond.value}}}]},
            ]
        }
    if cond.pattern:
        # Case-insensitive like the embedded store's LIKE; dotall so a newline cannot end a match early.
        match: Any = {"$regex": like_regex(str(cond.value)), "$options": "is"}
    elif cond.op == "=":
        match = cond.value
    else:
        match = {_OPS[cond.op]: cond.value}
    return {"vals": {"$elemMatch": {"p": cond.path, column: match}}}


def _overlap_bound(cond: And, scope: Scope) -> list[Filter]:
    """For `end > x`, also require `start >= x - longest span`, so the position index bounds the scan."""
    for part in cond.parts:
        if isinstance(part, Compare) and part.field == Field.END and part.op in (">", ">="):
            assert isinstance(part.value, int | float)
            return [{FIELDS[Field.START]: {"$gte": part.value - scope.max_span}}]
    return []


def match_filter(query: Query, scope: Scope) -> Filter:
    """The whole filter of a query: live generations of its datasets, then its condition."""
    generations: Filter = {"gen": {"$in": list(scope.generations)}}
    if query.where is None:
        return generations
    where = query.where if isinstance(query.where, And) else And((query.where,))
    condition = condition_filter(where, scope)
    return {"$and": [generations, *condition["$and"]]}


@dataclass(frozen=True)
class FindSpec:
    filter: Filter
    projection: dict[str, int]
    sort: list[tuple[str, int]]
    skip: int
    limit: int  # 0 = no limit, as in MongoDB


def find_spec(query: Query, scope: Scope) -> FindSpec:
    return FindSpec(
        filter=match_filter(query, scope),
        projection={"_id": 0, "doc": 1},
        sort=[("seq", 1)],
        skip=query.offset,
        limit=query.limit or 0,
    )


def keys_pipeline(query: Query, scope: Scope, kind: str) -> Pipeline:
    """Distinct values of key `kind` over the matching records, sorted (values still carry `kind:`)."""
    return [
        {"$match": match_filter(query, scope)},
        {"$project": {"_id": 0, "keys": 1}},
        {"$unwind": "$keys"},
        {"$match": {"keys": key_prefix_range(kind)}},
        {"$group": {"_id": "$keys"}},
        {"$sort": {"_id": 1}},
    ]
