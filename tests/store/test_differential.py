"""Differential testing: random query plans on the CINECA cohort, each backend against a reference.

The reference evaluates a plan in plain Python over the records the loader produced; each backend
(SQLite, and MongoDB or its stand-in) must return exactly the same records, in load order, and the
same counts. Plans are random trees of every node type with values drawn from the data itself, so
most of them match something.
"""

from __future__ import annotations

import operator
import os
import random
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import (
    SAME_DATASET,
    And,
    Compare,
    Condition,
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
from beacon.store.base import DatasetInfo, DatasetLoad, IndexedRecord, LoadSummary, Store
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.backends import MongoSource
from tests.conftest import CINECA, CINECA_ID

PLANS_PER_COLLECTION = int(os.environ.get("BEACON_DIFFERENTIAL_PLANS", "60"))
_VARIANT_FIELDS = {
    Field.ASSEMBLY: 0,
    Field.CHROM: 1,
    Field.START: 2,
    Field.END: 3,
    Field.REF: 4,
    Field.ALT: 5,
    Field.TYPE: 6,
    Field.LENGTH: 7,
}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Capture:
    """Looks like a store to the loader; keeps the indexed records it is given."""

    name = "capture"

    def __init__(self) -> None:
        self.records: list[IndexedRecord] = []

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        self.records.extend(load.records)
        return LoadSummary(load.dataset_id, {})

    async def datasets(self) -> list[DatasetInfo]:
        return []


@pytest.fixture(scope="module")
def records() -> list[IndexedRecord]:
    import asyncio

    capture = _Capture()
    asyncio.run(load_bff(CINECA, CINECA_ID, capture, assembly="GRCh37"))  # type: ignore[arg-type]
    return capture.records


@pytest.fixture
async def store(backend: str, cineca_db: Path, cineca_mongo: MongoSource) -> AsyncIterator[Store]:
    s: Store = SqliteStore(cineca_db) if backend == "sqlite" else cineca_mongo.store()
    await s.open()
    yield s
    await s.close()


def _field(rec: IndexedRecord, field: Field) -> Any:
    if field == Field.ID:
        return rec.id
    return rec.variant.columns()[_VARIANT_FIELDS[field]] if rec.variant is not None else None


def _like(pattern: str, text: str) -> bool:
    regex = "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$"
    return re.match(regex, text, re.IGNORECASE | re.DOTALL) is not None


class World:
    """Every record loaded (one dataset), for the source side of Related conditions."""

    def __init__(self, records: list[IndexedRecord]) -> None:
        self.records = records
        self._linked: dict[Related, set[tuple[str, str]] | None] = {}

    def linked(self, cond: Related) -> set[tuple[str, str]] | None:
        """The `via` keys of the matching source records (None: `via` is the dataset, and some record matches)."""
        if cond not in self._linked:
            sources = [r for r in self.records if r.collection == cond.source and matches(cond.where, r, self)]
            keys = {(k, v) for r in sources for k, v in r.keys if k == cond.via}
            self._linked[cond] = None if cond.via == SAME_DATASET and sources else keys
        return self._linked[cond]


def matches(cond: Condition, rec: IndexedRecord, world: World | None = None) -> bool:
    """The reference semantics of a plan node, written out plainly."""
    if isinstance(cond, Related):
        assert world is not None
        linked = world.linked(cond)
        return linked is None or any(k in linked for k in rec.keys)
    if isinstance(cond, Compare):
        value = _field(rec, cond.field)
        return value is not None and _OPS[cond.op](value, cond.value)
    if isinstance(cond, In):
        return _field(rec, cond.field) in cond.values
    if isinstance(cond, HasKey):
        return any((cond.kind, v) in rec.keys for v in cond.values)
    if isinstance(cond, HasTerm):
        return any(term in cond.terms for term, _ in rec.terms)
    if isinstance(cond, HasValue):
        at_path = [(s, n) for p, s, n in rec.values if p == cond.path]
        numeric = isinstance(cond.value, int | float)
        if cond.op == "!=":
            equal = any((n if numeric else s) == cond.value for s, n in at_path)
            return bool(at_path) and not equal
        if cond.pattern:
            return any(s is not None and _like(str(cond.value), s) for s, _ in at_path)
        if numeric:
            return any(n is not None and _OPS[cond.op](n, cond.value) for _, n in at_path)
        return any(s is not None and _OPS[cond.op](s, cond.value) for s, _ in at_path)
    if isinstance(cond, And):
        return all(matches(p, rec, world) for p in cond.parts)
    if isinstance(cond, Or):
        return any(matches(p, rec, world) for p in cond.parts)
    if isinstance(cond, Not):
        return not matches(cond.part, rec, world)
    if isinstance(cond, Nothing):
        return False
    raise TypeError(cond)


class PlanMaker:
    """Random plans whose leaves use values present in the collection's records."""

    def __init__(
        self, rng: random.Random, records: list[IndexedRecord], others: dict[str, list[IndexedRecord]] | None = None
    ) -> None:
        self.rng = rng
        self.records = records
        self.others = others or {}

    def _some(self) -> IndexedRecord:
        return self.rng.choice(self.records)

    def leaf(self) -> Condition:
        rng, rec = self.rng, self._some()
        kinds = ["key", "term", "value", "id"] + (["variant"] * 4 if rec.variant else [])
        kind = rng.choice(kinds + (["related"] if self.others else []))
        if kind == "related":
            return self.related()
        if kind == "variant":
            assert rec.variant is not None
            field = rng.choice([Field.START, Field.END, Field.ALT, Field.REF, Field.TYPE, Field.LENGTH, Field.CHROM])
            value = rec.variant.columns()[_VARIANT_FIELDS[field]]
            if value is None:
                return Compare(Field.CHROM, "=", "22")
            if isinstance(value, int):
                return Compare(field, rng.choice(list(_OPS)), value + rng.randint(-50, 50))
            if rng.random() < 0.3:
                return In(field, (value, rng.choice(["A", "C", "G", "T", "SNP", "INDEL"])))
            return Compare(field, rng.choice(["=", "!="]), value)
        if kind == "key" and rec.keys:
            chosen = rng.sample(rec.keys, min(len(rec.keys), rng.randint(1, 3)))
            kind_of = chosen[0][0]
            return HasKey(kind_of, tuple(v for k, v in chosen if k == kind_of) + ("no-such-value",))
        if kind == "term" and rec.terms:
            return HasTerm((rng.choice(rec.terms)[0], "HP:0000000"))
        if kind == "value" and rec.values:
            path, text, number = rng.choice(rec.values)
            if number is not None and rng.random() < 0.7:
                return HasValue(path, rng.choice(list(_OPS)), number + rng.choice([-1.0, 0.0, 1.0]))
            if text is not None:
                if rng.random() < 0.3 and len(text) > 2:
                    return HasValue(path, "=", text[: rng.randint(1, len(text) - 1)].lower() + "%", pattern=True)
                return HasValue(path, rng.choice(["=", "!="]), text)
        return Compare(Field.ID, "=", rec.id)

    def related(self) -> Related:
        """Linked to records of another collection meeting a leaf condition on them."""
        source = self.rng.choice(sorted(self.others))
        maker = PlanMaker(self.rng, self.others[source])
        # A CINECA variant has ~2,500 carriers: links from or to variants start at one record, or the
        # plans pair millions of keys (the same work as the query, but 60 times per collection).
        wide = "g_variants" in (source, self.records[0].collection)
        where = Compare(Field.ID, "=", maker._some().id) if wide else maker.leaf()
        return Related(source, self.rng.choice(["individual", "biosample", SAME_DATASET]), where)

    def plan(self, depth: int = 0) -> Condition:
        roll = self.rng.random()
        if depth >= 2 or roll < 0.45:
            return self.leaf()
        if roll < 0.7:
            return And(tuple(self.plan(depth + 1) for _ in range(self.rng.randint(2, 3))))
        if roll < 0.9:
            return Or(tuple(self.plan(depth + 1) for _ in range(self.rng.randint(2, 3))))
        if roll < 0.97:
            return Not(self.plan(depth + 1))
        return Nothing()


@pytest.mark.parametrize("collection", ["g_variants", "individuals", "biosamples", "runs"])
async def test_random_plans_answer_like_the_reference(
    store: Store, records: list[IndexedRecord], collection: str
) -> None:
    own = [r for r in records if r.collection == collection]
    others = {c: [r for r in records if r.collection == c] for c in _ID_FIELD if c != collection}
    maker = PlanMaker(random.Random(f"{collection}-2026"), own, others)
    world = World(records)
    matched_some = 0
    for n in range(PLANS_PER_COLLECTION):
        where = maker.plan()
        expected = [r.id for r in own if matches(where, r, world)]
        offset, limit = (n % 3, 7) if n % 4 == 0 else (0, None)
        query = Query(collection, (CINECA_ID,), where, offset, limit)
        found = [str(d[_ID_FIELD[collection]]) for d in await store.find(query)]
        page = expected[offset : None if limit is None else offset + limit]
        assert found == page, where
        counts = await store.count_by_dataset(Query(collection, (CINECA_ID,), where))
        assert counts == ({CINECA_ID: len(expected)} if expected else {}), where
        matched_some += bool(expected)
    assert matched_some > PLANS_PER_COLLECTION // 4  # the plans exercise matches, not only empty answers


_ID_FIELD = {"g_variants": "variantInternalId", "individuals": "id", "biosamples": "id", "runs": "id"}
