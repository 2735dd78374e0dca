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

from beacon.model import plan as nodes
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.store.base import DatasetInfo, DatasetLoad, IndexedRecord, LoadSummary, Store
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.backends import MongoSource, new_mongo_source
from tests.conftest import CINECA, CINECA_ID
from tests.documents import snp_variation

PLANS_PER_COLLECTION = int(os.environ.get("BEACON_DIFFERENTIAL_PLANS", "60"))
_VARIANT_FIELDS = {
    nodes.Field.ASSEMBLY: 0,
    nodes.Field.CHROM: 1,
    nodes.Field.START: 2,
    nodes.Field.END: 3,
    nodes.Field.REF: 4,
    nodes.Field.ALT: 5,
    nodes.Field.TYPE: 6,
    nodes.Field.LENGTH: 7,
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


def _field(rec: IndexedRecord, field: nodes.Field) -> Any:
    if field == nodes.Field.ID:
        return rec.id
    return rec.variant.columns()[_VARIANT_FIELDS[field]] if rec.variant is not None else None


def _like(pattern: str, text: str) -> bool:
    regex = "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$"
    # ASCII letters fold case, nothing else does (docs/filters.md).
    return re.match(regex, text, re.IGNORECASE | re.ASCII | re.DOTALL) is not None


class World:
    """Every record loaded (one dataset), for the source side of Related conditions."""

    def __init__(self, records: list[IndexedRecord]) -> None:
        self.records = records
        self._linked: dict[nodes.Related, set[tuple[str, str]] | None] = {}

    def linked(self, cond: nodes.Related) -> set[tuple[str, str]] | None:
        """The `via` keys of the matching source records (None: `via` is the dataset, and some record matches)."""
        if cond not in self._linked:
            sources = [r for r in self.records if r.collection == cond.source and matches(cond.where, r, self)]
            keys = {(k, v) for r in sources for k, v in r.keys if k == cond.via}
            self._linked[cond] = None if cond.via == nodes.SAME_DATASET and sources else keys
        return self._linked[cond]


def matches(cond: nodes.Condition, rec: IndexedRecord, world: World | None = None) -> bool:
    """The reference semantics of a plan node, written out plainly."""
    if isinstance(cond, nodes.Related):
        assert world is not None
        linked = world.linked(cond)
        return linked is None or any(k in linked for k in rec.keys)
    if isinstance(cond, nodes.Compare):
        value = _field(rec, cond.field)
        return value is not None and _OPS[cond.op](value, cond.value)
    if isinstance(cond, nodes.In):
        return _field(rec, cond.field) in cond.values
    if isinstance(cond, nodes.HasKey):
        return any((cond.kind, v) in rec.keys for v in cond.values)
    if isinstance(cond, nodes.HasTerm):
        return any(term in cond.terms for term, _ in rec.terms)
    if isinstance(cond, nodes.HasValue):
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
    if isinstance(cond, nodes.And):
        return all(matches(p, rec, world) for p in cond.parts)
    if isinstance(cond, nodes.Or):
        return any(matches(p, rec, world) for p in cond.parts)
    if isinstance(cond, nodes.Not):
        return not matches(cond.part, rec, world)
    if isinstance(cond, nodes.Nothing):
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

    def leaf(self) -> nodes.Condition:
        rng, rec = self.rng, self._some()
        kinds = ["key", "term", "value", "id"] + (["variant"] * 4 if rec.variant else [])
        kind = rng.choice(kinds + (["related"] if self.others else []))
        if kind == "related":
            return self.related()
        if kind == "variant":
            assert rec.variant is not None
            field = rng.choice(
                [
                    nodes.Field.START,
                    nodes.Field.END,
                    nodes.Field.ALT,
                    nodes.Field.REF,
                    nodes.Field.TYPE,
                    nodes.Field.LENGTH,
                    nodes.Field.CHROM,
                ]
            )
            value = rec.variant.columns()[_VARIANT_FIELDS[field]]
            if value is None:
                return nodes.Compare(nodes.Field.CHROM, "=", "22")
            if isinstance(value, int):
                return nodes.Compare(field, rng.choice(list(_OPS)), value + rng.randint(-50, 50))
            if rng.random() < 0.3:
                return nodes.In(field, (value, rng.choice(["A", "C", "G", "T", "SNP", "INDEL"])))
            return nodes.Compare(field, rng.choice(["=", "!="]), value)
        if kind == "key" and rec.keys:
            chosen = rng.sample(rec.keys, min(len(rec.keys), rng.randint(1, 3)))
            kind_of = chosen[0][0]
            return nodes.HasKey(kind_of, tuple(v for k, v in chosen if k == kind_of) + ("no-such-value",))
        if kind == "term" and rec.terms:
            return nodes.HasTerm((rng.choice(rec.terms)[0], "HP:0000000"))
        if kind == "value" and rec.values:
            path, text, number = rng.choice(rec.values)
            if number is not None and rng.random() < 0.7:
                return nodes.HasValue(path, rng.choice(list(_OPS)), number + rng.choice([-1.0, 0.0, 1.0]))
            if text is not None:
                if rng.random() < 0.3 and len(text) > 2:
                    return nodes.HasValue(path, "=", text[: rng.randint(1, len(text) - 1)].lower() + "%", pattern=True)
                return nodes.HasValue(path, rng.choice(["=", "!="]), text)
        return nodes.Compare(nodes.Field.ID, "=", rec.id)

    def related(self) -> nodes.Related:
        """Linked to records of another collection meeting a leaf condition on them."""
        source = self.rng.choice(sorted(self.others))
        maker = PlanMaker(self.rng, self.others[source])
        # A CINECA variant has ~2,500 carriers: links from or to variants start at one record, or the
        # plans pair millions of keys (the same work as the query, but 60 times per collection).
        wide = "g_variants" in (source, self.records[0].collection)
        where = nodes.Compare(nodes.Field.ID, "=", maker._some().id) if wide else maker.leaf()
        return nodes.Related(source, self.rng.choice(["individual", "biosample", nodes.SAME_DATASET]), where)

    def plan(self, depth: int = 0) -> nodes.Condition:
        roll = self.rng.random()
        if depth >= 2 or roll < 0.45:
            return self.leaf()
        if roll < 0.7:
            return nodes.And(tuple(self.plan(depth + 1) for _ in range(self.rng.randint(2, 3))))
        if roll < 0.9:
            return nodes.Or(tuple(self.plan(depth + 1) for _ in range(self.rng.randint(2, 3))))
        if roll < 0.97:
            return nodes.Not(self.plan(depth + 1))
        return nodes.Nothing()


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
        query = nodes.Query(collection, (CINECA_ID,), where, offset, limit)
        found = [str(d[_ID_FIELD[collection]]) for d in await store.find(query)]
        page = expected[offset : None if limit is None else offset + limit]
        assert found == page, where
        counts = await store.count_by_dataset(nodes.Query(collection, (CINECA_ID,), where))
        assert counts == ({CINECA_ID: len(expected)} if expected else {}), where
        matched_some += bool(expected)
    assert matched_some > PLANS_PER_COLLECTION // 4  # the plans exercise matches, not only empty answers


_ID_FIELD = {"g_variants": "variantInternalId", "individuals": "id", "biosamples": "id", "runs": "id"}


# --- schema 5 forms: population terms (a populations row in SQLite) and own-id values (the id column) ----

# Names as any loader may bring them: JSON-special characters, non-ASCII text, SQL.
_POPULATIONS = ("EUR", "AFR", "NL", "NL_M", "DE", "Zzq", 'a"b\\c', "Éire", "x'); DROP TABLE records;--", "%", "_")
_TABLE = EntryTypeTable()
_TWO = ("d1", "d2")
# Ids that text handling can get wrong: LIKE's `_`, a literal `%`, a backslash, numbers, durations, ids
# sharing their first 256 characters (text values are cut there) and one of exactly 256.
_ODD_IDS = (
    "x_1",
    "xA1",
    "5%",
    "50",
    "42",
    "P1D",
    "P2D",
    "a\\b",
    "Élan",
    "élan",
    "\u212a1",  # KELVIN SIGN: Unicode case folding takes it for k, ASCII folding does not
    "L" * 256 + "-a",
    "L" * 256 + "-b",
    "L" * 256,
    "L" * 255,
)


def _odd_documents(rng: random.Random, dataset: str) -> list[tuple[EntryType, dict[str, Any]]]:
    """Individuals and variants under odd ids, both datasets holding some of the same ids, variants seen in
    random populations (different ones in each dataset)."""
    out: list[tuple[EntryType, dict[str, Any]]] = []
    ids = [*_ODD_IDS, *(f"{dataset}-{i}" for i in range(8))]
    for iid in rng.sample(ids, 16):
        doc: dict[str, Any] = {"id": iid, "sex": {"id": rng.choice(["NCIT:C16576", "NCIT:C20197"])}}
        if rng.random() < 0.3:
            doc["ethnicity"] = {"id": f"population:{rng.choice(_POPULATIONS)}"}
        out.append((_TABLE.by_id("individual"), doc))
    for n, vid in enumerate(rng.sample(ids, 18)):
        names = rng.sample(_POPULATIONS, rng.randint(0, 4))
        frequencies = [{"population": p, "alleleFrequency": 0.5, "alleleCount": 1, "alleleNumber": 2} for p in names]
        doc = {
            "variantInternalId": vid,
            "variation": snp_variation("refseq:NC_000022.11", 100 + n, "A", "G"),
            "molecularAttributes": {"geneIds": [rng.choice(["G1", "G2"])]},
        }
        if names:
            doc["frequencyInPopulations"] = [{"source": "s", "sourceReference": "r", "frequencies": frequencies}]
        out.append((_TABLE.by_id("genomicVariant"), doc))
    return out


class _OddPlanMaker(PlanMaker):
    """Also population terms (alone, several, next to ontology terms) and own-id values in every text form."""

    def __init__(self, rng: random.Random, records: list[IndexedRecord], id_path: str) -> None:
        super().__init__(rng, records)
        self.id_path = id_path

    def leaf(self) -> nodes.Condition:
        rng, rec = self.rng, self._some()
        roll = rng.random()
        if roll < 0.3:
            names = [f"population:{p}" for p in rng.sample(_POPULATIONS, rng.randint(1, 3))]
            others = [t for t, _ in rec.terms if not t.startswith("population:")]
            if others and rng.random() < 0.4:
                names.append(rng.choice(others))
            return nodes.HasTerm(tuple(names))
        if roll < 0.65:
            text = rec.id[:256]
            form = rng.randrange(7)
            if form == 0:
                return nodes.HasValue(self.id_path, "=", text)
            if form == 1:
                return nodes.HasValue(self.id_path, "!=", text)
            if form == 2:
                return nodes.HasValue(self.id_path, "=", text[: rng.randint(0, len(text))].lower() + "%", pattern=True)
            if form == 3:
                return nodes.HasValue(self.id_path, "=", rec.id)  # longer than the cut for the long ids
            if form == 4:
                return nodes.HasValue(
                    self.id_path,
                    "=",
                    rng.choice(["x_%", "5%", "%\\%", "L%-a", "%_1", "é%", "k%", "%LAN"]),
                    pattern=True,
                )
            number = float(rng.choice([1, 2, 42, 50]))
            return nodes.HasValue(self.id_path, rng.choice(list(_OPS)), number)
        return super().leaf()


@pytest.fixture(scope="module")
def odd_records() -> dict[str, list[IndexedRecord]]:
    """Each dataset's indexed records, as a load hands them to a store (the id value and population terms given back)."""
    out: dict[str, list[IndexedRecord]] = {}
    for dataset in _TWO:
        load = dataset_load(dataset, "GRCh38", dataset, _odd_documents(random.Random(dataset), dataset))
        out[dataset] = list(load.records)
    return out


@pytest.fixture
async def odd_store(backend: str, tmp_path: Path) -> AsyncIterator[Store]:
    source = new_mongo_source("odd")
    s: Store = SqliteStore(tmp_path / "odd.db") if backend == "sqlite" else source.store()
    await s.open()
    try:
        for dataset in _TWO:
            await s.replace_dataset(
                dataset_load(dataset, "GRCh38", dataset, _odd_documents(random.Random(dataset), dataset))
            )
        yield s
    finally:
        await s.close()
        await source.drop()


@pytest.mark.parametrize("collection", ["g_variants", "individuals"])
async def test_population_and_id_plans_answer_like_the_reference(
    odd_store: Store, odd_records: dict[str, list[IndexedRecord]], collection: str
) -> None:
    """Each dataset alone and both at once: records and per-dataset counts as the reference, never the other's."""
    id_path = _ID_FIELD[collection]
    own = {d: [r for r in odd_records[d] if r.collection == collection] for d in _TWO}
    maker = _OddPlanMaker(random.Random(f"odd-{collection}"), own["d1"] + own["d2"], id_path)
    matched_some = 0
    for n in range(PLANS_PER_COLLECTION * 2):
        where = maker.plan()
        expected = {d: [r.id for r in own[d] if matches(where, r)] for d in _TWO}
        for datasets in (("d1",), ("d2",), _TWO):
            found = sorted(str(doc[id_path]) for doc in await odd_store.find(nodes.Query(collection, datasets, where)))
            assert found == sorted(i for d in datasets for i in expected[d]), (datasets, where)
            counts = await odd_store.count_by_dataset(nodes.Query(collection, datasets, where))
            assert counts == {d: len(expected[d]) for d in datasets if expected[d]}, (datasets, where)
        matched_some += bool(expected["d1"] or expected["d2"])
        if n % 5 == 0:
            # Pagination over both datasets: pages add up to the whole answer.
            query = nodes.Query(collection, _TWO, where, 3, 4)
            assert len(await odd_store.find(query)) == len((expected["d1"] + expected["d2"])[3:7]), where
    assert matched_some > PLANS_PER_COLLECTION // 2
