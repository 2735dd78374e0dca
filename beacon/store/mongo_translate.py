"""Translate query-plan conditions into MongoDB filter documents and pipelines (golden-tested).

Pure functions: the store passes in what it read from the catalog (the live generations of the
queried datasets and the longest variant span loaded) and, for `Related` conditions, what the first
step of the query found (`related_pipeline`), so a plan always translates the same way.

`Related` is two steps on MongoDB: a `$lookup` joining records of the same dataset needs its
`pipeline`/`let` forms, which the test stand-in (mongomock) does not implement, and would run per
target document, where `count_documents` counts from an index. The first step groups the matching
source records' keys by dataset; the second matches each dataset's records against its own keys only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from beacon.errors import InvalidRequest
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
from beacon.store.mongo_schema import FIELDS, POSITION_INDEX

Filter = dict[str, Any]
Pipeline = list[dict[str, Any]]
# Most source records' keys one pivot may carry into its second step: beyond, the `$in` approaches
# MongoDB's 16 MiB command limit (650,000 ids), and the request is answered 400 instead of 500.
RELATED_LIMIT = 100_000
_OPS = {"=": "$eq", "!=": "$ne", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@dataclass(frozen=True)
class Scope:
    """What the catalog says about the queried datasets at the moment of the query."""

    generations: tuple[int, ...]
    max_span: int = 0
    # Live generations per dataset (a dataset is the union of its loaded parts).
    by_dataset: tuple[tuple[str, tuple[int, ...]], ...] = ()
    # What the first step found for each Related condition: dataset -> stored keys ("kind:value") of the
    # matching source records there; a dataset without matching source records is absent.
    related: Mapping[Related, Mapping[str, tuple[str, ...]]] = field(default_factory=dict, compare=False)
    # The longest span loaded per chromosome, when every queried part recorded it (else max_span serves).
    spans: tuple[tuple[str, int], ...] | None = None
    # Collections whose records hold carrier sets in the queried generations (the catalog's `carriers`).
    carrier_collections: tuple[str, ...] = ()
    # What the set step of each Related condition found: dataset -> `seq`s of the target records whose
    # carrier sets hold a sample linked to a matching source record (mongo_carriers.py).
    carried: Mapping[Related, Mapping[str, tuple[int, ...]]] = field(default_factory=dict, compare=False)

    def of(self, dataset: str) -> Scope:
        """The same scope narrowed to one dataset's generations (counts are taken per dataset)."""
        generations = dict(self.by_dataset).get(dataset, ())
        return replace(self, generations=generations, by_dataset=((dataset, generations),))

    def with_related(self, cond: Related, found: Mapping[str, tuple[str, ...]]) -> Scope:
        """This scope knowing what the first step of `cond` found."""
        return replace(self, related={**self.related, cond: found})

    def with_carried(self, cond: Related, seqs: Mapping[str, tuple[int, ...]]) -> Scope:
        """This scope knowing which target records the carrier sets link to the sources of `cond`."""
        return replace(self, carried={**self.carried, cond: seqs})

    def span_on(self, chrom: object) -> int:
        """The longest variant span that can reach into a range on `chrom` (None: any chromosome)."""
        if self.spans is None or not isinstance(chrom, str):
            return self.max_span
        return dict(self.spans).get(chrom, 0)


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
    if isinstance(cond, Related):
        return _related_filter(cond, scope)
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


def _related_filter(cond: Related, scope: Scope) -> Filter:
    """Each dataset's records against the keys its own matching source records carry (never another's),
    or, for records holding carrier sets, against the `seq`s the set step found in that dataset."""
    if cond not in scope.related:
        msg = f"the first step of {cond!r} has not run"
        raise LookupError(msg)
    found, carried = scope.related[cond], scope.carried.get(cond, {})
    matched = [(d, gens) for d, gens in scope.by_dataset if d in found or carried.get(d)]
    if not matched:
        return condition_filter(Nothing(), scope)
    if cond.via == SAME_DATASET:
        return {"gen": {"$in": sorted(g for _, gens in matched for g in gens)}}
    clauses = [(gens, _linked(found.get(d, ()), carried.get(d, ()))) for d, gens in matched]
    if len(scope.by_dataset) == 1:
        # Counts are taken per dataset: the query's own generation filter already names the dataset.
        return clauses[0][1]
    return {"$or": [{"gen": {"$in": list(gens)}, **clause} for gens, clause in clauses]}


def _linked(keys: tuple[str, ...], seqs: tuple[int, ...]) -> Filter:
    by_key: Filter = {"keys": {"$in": list(keys)}}
    if not seqs:
        return by_key
    by_set: Filter = {"seq": {"$in": list(seqs)}}
    return {"$or": [by_key, by_set]} if keys else by_set


# The samples collection's field of each key kind carrier sets link.
SAMPLE_FIELDS = {"biosample": "b", "individual": "i"}
CARRIER_PROJECTION = {"_id": 0, "ds": 1, "gen": 1, "cs": 1}
TARGET_PROJECTION = {"_id": 0, "ds": 1, "seq": 1, "cs": 1}


def carrier_sources_filter(cond: Related, scope: Scope) -> Filter:
    """The matching source records of `cond` that hold carrier sets (the set step's first read)."""
    return {"$and": [match_filter(Query(cond.source, (), cond.where), scope), {"cs": {"$exists": True}}]}


def sets_filter(query: Query, scope: Scope) -> Filter:
    """The matching records of `query` that hold carrier sets."""
    return {"$and": [match_filter(query, scope), {"cs": {"$exists": True}}]}


def samples_by_index(generation: int, indexes: list[int]) -> Filter:
    """A generation's samples of the given indexes (set members to ids)."""
    return {"gen": generation, "idx": {"$in": indexes}}


def samples_by_id(generations: tuple[int, ...], via: str, values: list[str]) -> Filter:
    """The samples whose biosample or individual (`via`) is one of `values` (ids to set members)."""
    return {"gen": {"$in": list(generations)}, SAMPLE_FIELDS[via]: {"$in": values}}


def carrier_targets_filter(generation: int) -> Filter:
    """A generation's records holding carrier sets: the candidates of a lookup towards variants."""
    return {"gen": generation, "cs": {"$exists": True}}


def related_targets(cond: Condition | None, collection: str) -> dict[Related, str]:
    """The collection each Related condition in `cond` selects records of (the query's, or the source
    collection of the Related whose condition holds it)."""
    found: dict[Related, str] = {}

    def walk(node: Condition | None, target: str) -> None:
        if isinstance(node, Related):
            found.setdefault(node, target)
            walk(node.where, node.source)
        elif isinstance(node, And | Or):
            for part in node.parts:
                walk(part, target)
        elif isinstance(node, Not):
            walk(node.part, target)

    walk(cond, collection)
    return found


def related_conditions(cond: Condition | None) -> list[Related]:
    """The Related conditions in `cond`, each once, inner ones (in a source's condition) first."""
    found: list[Related] = []

    def walk(node: Condition | None) -> None:
        if isinstance(node, Related):
            walk(node.where)
            if node not in found:
                found.append(node)
        elif isinstance(node, And | Or):
            for part in node.parts:
                walk(part)
        elif isinstance(node, Not):
            walk(node.part)

    walk(cond)
    return found


def related_pipeline(cond: Related, scope: Scope) -> Pipeline:
    """The first step of `cond`: per dataset, the `via` keys of the matching source records (`_id.ds`, `_id.key`).

    With `via` the dataset itself, just the datasets holding a matching source record (`_id`).
    `scope` must already know the Related conditions inside `cond.where` (`related_conditions` order).
    """
    match = {"$match": match_filter(Query(cond.source, (), cond.where), scope)}
    if cond.via == SAME_DATASET:
        return [match, {"$group": {"_id": "$ds"}}, {"$sort": {"_id": 1}}]
    return [
        match,
        {"$project": {"_id": 0, "ds": 1, "keys": keys_of_kind(cond.via)}},
        {"$unwind": "$keys"},
        {"$group": {"_id": {"ds": "$ds", "key": "$keys"}}},
        {"$sort": {"_id.ds": 1, "_id.key": 1}},
        {"$limit": RELATED_LIMIT + 1},  # one more than allowed: the store tells "too many" from "exactly"
    ]


def keys_of_kind(kind: str) -> dict[str, Any]:
    """The `keys` of one kind only, filtered inside each document: only those are unwound, not every key.

    A variant's keys are mostly its carriers' biosample and individual keys; unwinding all of them
    to keep one kind doubled the documents a pivot over a large region produced.
    """
    bounds = key_prefix_range(kind)
    between = {"$and": [{"$gte": ["$$key", bounds["$gte"]]}, {"$lt": ["$$key", bounds["$lt"]]}]}
    return {"$filter": {"input": {"$ifNull": ["$keys", []]}, "as": "key", "cond": between}}


def related_found(cond: Related, rows: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """What `related_pipeline` returned, as `Scope.related` holds it."""
    if cond.via == SAME_DATASET:
        return {str(r["_id"]): () for r in rows}
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(str(r["_id"]["ds"]), []).append(str(r["_id"]["key"]))
    return {d: tuple(sorted(keys)) for d, keys in found.items()}


def like_regex(pattern: str) -> str:
    """An anchored regular expression for a Beacon `%` pattern; everything else is literal.

    ASCII letters match either case and nothing else folds, as in the embedded store's LIKE: a regex's
    `i` option folds Unicode too (é% matched Élan, k% the Kelvin sign), so the backends answered differently.
    """
    return "^" + ".*".join("".join(_folded(c) for c in piece) for piece in pattern.split("%")) + "$"


def _folded(char: str) -> str:
    if char.isascii() and char.isalpha():
        return f"[{char.upper()}{char.lower()}]"
    return re.escape(char)


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
        # ASCII case folded in the expression (like_regex); dotall so a newline cannot end a match early.
        match: Any = {"$regex": like_regex(str(cond.value)), "$options": "s"}
    elif cond.op == "=":
        match = cond.value
    else:
        match = {_OPS[cond.op]: cond.value}
    return {"vals": {"$elemMatch": {"p": cond.path, column: match}}}


def _overlap_bound(cond: And, scope: Scope) -> list[Filter]:
    """For `end > x`, also require `start >= x - longest span`, so the position index bounds the scan.

    The longest span on the queried chromosome when known: one large CNV elsewhere widens nothing here.
    """
    chrom = next(
        (p.value for p in cond.parts if isinstance(p, Compare) and p.field == Field.CHROM and p.op == "="), None
    )
    for part in cond.parts:
        if isinstance(part, Compare) and part.field == Field.END and part.op in (">", ">="):
            assert isinstance(part.value, int | float)
            return [{FIELDS[Field.START]: {"$gte": part.value - scope.span_on(chrom)}}]
    return []


def match_filter(query: Query, scope: Scope) -> Filter:
    """The whole filter of a query: live generations of its datasets, then its condition."""
    generations: Filter = {"gen": {"$in": list(scope.generations)}}
    if query.where is None:
        return generations
    where = query.where if isinstance(query.where, And) else And((query.where,))
    condition = condition_filter(where, scope)
    return {"$and": [generations, *condition["$and"]]}


# Load order. `seq` alone defines it (its high bits are the generation), but sorted by (gen, seq) the
# by_generation index supplies the order for any number of generations in `gen $in`: its scan of the
# listed generations, in ascending order, is already sorted, where for `seq` alone the planner merges
# at most 200 index ranges and sorts in memory beyond.
LOAD_ORDER = [("gen", 1), ("seq", 1)]


@dataclass(frozen=True)
class FindSpec:
    filter: Filter
    projection: dict[str, int]
    sort: list[tuple[str, int]]
    skip: int
    limit: int  # 0 = no limit, as in MongoDB
    # The index to use, where the planner would choose by where a region falls in load order: by_generation
    # supplies the `seq` order but scans the whole generation for a sparse region; the position index reads
    # only the region and sorts the page's top `skip + limit` in memory.
    hint: str | None = None


def find_spec(query: Query, scope: Scope) -> FindSpec:
    return FindSpec(
        filter=match_filter(query, scope),
        projection={"_id": 0, "doc": 1, "gen": 1, "cs": 1},
        sort=LOAD_ORDER,
        skip=query.offset,
        limit=query.limit or 0,
        hint=POSITION_INDEX if _on_a_chromosome(query.where) else None,
    )


def _on_a_chromosome(cond: Condition | None) -> bool:
    """Whether every matching record lies on one named chromosome (the position index bounds the query)."""
    parts = cond.parts if isinstance(cond, And) else (cond,)
    return any(isinstance(p, Compare) and p.field == Field.CHROM and p.op == "=" for p in parts)


def keys_pipeline(query: Query, scope: Scope, kind: str) -> Pipeline:
    """Distinct values of key `kind` over the matching records, sorted (values still carry `kind:`)."""
    return [
        {"$match": match_filter(query, scope)},
        {"$project": {"_id": 0, "keys": keys_of_kind(kind)}},
        {"$unwind": "$keys"},
        {"$group": {"_id": "$keys"}},
        {"$sort": {"_id": 1}},
        {"$limit": RELATED_LIMIT + 1},
    ]


def bounded(found: int, source: str, kind: str) -> None:
    """:raise InvalidRequest: a pivot through more keys than RELATED_LIMIT (the pipeline stops one past it)."""
    if found > RELATED_LIMIT:
        msg = (
            f"the query pairs {source} with more than {RELATED_LIMIT} {kind} records; "
            "narrow it (a smaller region, a rarer allele, a filter)"
        )
        raise InvalidRequest(msg)
