"""Both store backends on hand-made records: overlap queries, atomic replacement, idempotent loads.

Every test here runs once per backend (ids `sqlite` and `mongomock-stand-in`, or `mongodb` when
BEACON_TEST_MONGO_URI is set) and asserts the same answers.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from beacon.errors import StoreUnavailable
from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import And, Compare, Field, HasKey, Query
from beacon.store.base import Document, Store
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from beacon.store.sqlite_schema import SCHEMA_VERSION
from tests.backends import new_mongo_source

TABLE = EntryTypeTable()
VARIANTS = TABLE.by_id("genomicVariant")


def variant(vid: str, start: int, end: int, vtype: str = "DEL", carriers: tuple[str, ...] = ()) -> Document:
    return {
        "variantInternalId": vid,
        "variation": {
            "variantType": vtype,
            "referenceBases": "N",
            "alternateBases": "N",
            "location": {
                "type": "SequenceLocation",
                "sequence_id": "refseq:NC_000013.11",
                "interval": {"type": "SequenceInterval", "start": {"value": start}, "end": {"value": end}},
            },
        },
        "caseLevelData": [{"biosampleId": c} for c in carriers],
    }


def overlap(start: int, end: int) -> Any:
    return And((Compare(Field.CHROM, "=", "13"), Compare(Field.START, "<", end), Compare(Field.END, ">", start)))


@pytest.fixture
async def store(tmp_path: Path, backend: str) -> Any:
    source = new_mongo_source("store") if backend != "sqlite" else None
    s: Store = source.store() if source is not None else SqliteStore(tmp_path / "s.db")
    await s.open()
    yield s
    await s.close()
    if source is not None:
        await source.drop()


async def load(store: Store, dataset: str, docs: list[Document], digest: str = "d1") -> None:
    await store.replace_dataset(dataset_load(dataset, "GRCh38", digest, [(VARIANTS, d) for d in docs]))


async def test_a_long_deletion_overlaps_a_range_far_from_its_start(store: Store) -> None:
    await load(store, "d", [variant("long", 1_000, 5_000_000), variant("short", 4_000_000, 4_000_010, "SNP")])
    found = await store.find(Query("g_variants", ("d",), overlap(3_000_000, 3_000_100)))
    assert [v["variantInternalId"] for v in found] == ["long"]
    found = await store.find(Query("g_variants", ("d",), overlap(3_999_999, 4_000_001)))
    assert {v["variantInternalId"] for v in found} == {"long", "short"}
    assert await store.find(Query("g_variants", ("d",), overlap(5_000_000, 5_000_001))) == []


async def test_replacing_a_dataset_leaves_other_datasets_alone(store: Store) -> None:
    await load(store, "a", [variant("a1", 10, 20, carriers=("S1",))])
    await load(store, "b", [variant("b1", 10, 20, carriers=("S1",))])
    await load(store, "a", [variant("a2", 30, 40, carriers=("S2",))], digest="d2")
    ids = await store.find(Query("g_variants", ("a", "b")))
    assert [v["variantInternalId"] for v in ids] == ["b1", "a2"]
    assert await store.count_by_dataset(Query("g_variants", ("a", "b"), HasKey("biosample", ("S1",)))) == {"b": 1}
    assert [d.id for d in await store.datasets()] == ["a", "b"]


async def test_same_digest_is_a_no_op_and_a_failed_load_changes_nothing(store: Store) -> None:
    await load(store, "a", [variant("a1", 10, 20)])

    def broken() -> Any:
        yield VARIANTS, variant("new", 1, 2)
        msg = "disk on fire"
        raise OSError(msg)

    with pytest.raises(OSError, match="disk on fire"):
        await store.replace_dataset(dataset_load("a", "GRCh38", "d9", broken()))
    assert [v["variantInternalId"] for v in await store.find(Query("g_variants", ("a",)))] == ["a1"]
    summary = await store.replace_dataset(dataset_load("a", "GRCh38", "d1", iter(())))
    assert summary.unchanged
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {"a": 1}


async def test_delete_dataset(store: Store) -> None:
    await load(store, "a", [variant("a1", 10, 20)])
    assert await store.delete_dataset("a") is True
    assert await store.delete_dataset("a") is False
    assert await store.datasets() == []


def _old_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()


async def test_a_store_of_another_schema_version_is_refused_with_advice(tmp_path: Path) -> None:
    await asyncio.to_thread(_old_store, tmp_path / "old.db")
    old = SqliteStore(tmp_path / "old.db")
    with pytest.raises(
        StoreUnavailable,
        match=rf"has schema version 1; this version needs {SCHEMA_VERSION}: the stored layout changed \(docs/scaling.md\): load",
    ):
        await old.open()
    await old.close()


async def test_readers_during_a_replacement_see_the_old_dataset_or_the_new_one_never_a_mix(store: Store) -> None:
    await load(store, "a", [variant(f"old{i}", 10 + i, 20 + i) for i in range(10)])
    new = [variant(f"new{i}", 10 + i, 20 + i) for i in range(3500)]
    task = asyncio.ensure_future(load(store, "a", new, digest="d2"))
    seen: set[int] = set()
    while not task.done():
        seen.add((await store.count_by_dataset(Query("g_variants", ("a",)))).get("a", 0))
        await asyncio.sleep(0)
    await task
    seen.add((await store.count_by_dataset(Query("g_variants", ("a",))))["a"])
    assert seen <= {10, 3500}
    assert 3500 in seen


async def test_a_percent_pattern_treats_underscore_literally(store: Store) -> None:
    from beacon.model.plan import HasValue

    await load(store, "a", [variant("a_1", 10, 20), variant("ab1", 30, 40)])
    query = Query("g_variants", ("a",), HasValue("variantInternalId", "=", "a_%", pattern=True))
    assert [v["variantInternalId"] for v in await store.find(query)] == ["a_1"]
    query = Query("g_variants", ("a",), HasValue("variantInternalId", "=", "A%", pattern=True))
    assert len(await store.find(query)) == 2  # case-insensitive, like SQL LIKE


BIOSAMPLES = TABLE.by_id("biosample")
INDIVIDUALS = TABLE.by_id("individual")


async def test_filters_on_a_records_own_id_answer_as_on_any_text_value(store: Store) -> None:
    """SQLite reads a record's own id from its id column (no value row); text values are cut at 256
    characters when indexed, the id's too, and a duration-like id is also a number: both backends alike."""
    from beacon.model.plan import HasValue, Not

    long_id = "L" * 300
    records = [
        (INDIVIDUALS, {"id": i, "sex": {"id": "NCIT:C16576", "label": "female"}}) for i in ("I1", "I_2", long_id)
    ]
    records.append((INDIVIDUALS, {"id": "P2D"}))
    await store.replace_dataset(dataset_load("a", "GRCh38", "a", records))

    async def ids(cond: Any) -> list[str]:
        return sorted(str(r["id"]) for r in await store.find(Query("individuals", ("a",), cond)))

    assert await ids(HasValue("id", "=", "I1")) == ["I1"]
    assert await ids(HasValue("id", "=", "I\\_%", pattern=True)) == []  # a backslash is a literal character
    assert await ids(HasValue("id", "=", "i_%", pattern=True)) == ["I_2"]
    assert await ids(HasValue("id", "!=", "I1")) == sorted(["I_2", long_id, "P2D"])
    assert await ids(Not(HasValue("id", "=", "I%", pattern=True))) == sorted([long_id, "P2D"])
    # The indexed value is the id's first 256 characters: the whole id does not equal it, its cut does.
    assert await ids(HasValue("id", "=", long_id)) == []
    assert await ids(HasValue("id", "=", long_id[:256])) == [long_id]
    assert await ids(HasValue("id", "=", "L" * 256 + "%", pattern=True)) == [long_id]
    # An id that reads as a duration is also the number of its days; no other id is a number.
    assert await ids(HasValue("id", "=", 2.0)) == ["P2D"]
    assert await ids(HasValue("id", "!=", 2.0)) == sorted(["I1", "I_2", long_id])
    assert await ids(HasValue("id", ">", 1.0)) == ["P2D"]
    # Another text value of the same records still comes from its value rows.
    assert await ids(HasValue("sex.label", "=", "female")) == sorted(["I1", "I_2", long_id])


async def load_people(store: Store, dataset: str, variants: list[Document]) -> None:
    """Individuals I1, I2 with biosamples S1, S2 (the same ids in every dataset), then `variants`."""
    records = [
        *((INDIVIDUALS, {"id": i}) for i in ("I1", "I2")),
        *((BIOSAMPLES, {"id": f"S{n}", "individualId": f"I{n}"}) for n in (1, 2)),
        *((VARIANTS, v) for v in variants),
    ]
    await store.replace_dataset(dataset_load(dataset, "GRCh38", dataset, records))


async def test_related_records_are_paired_within_their_dataset(store: Store) -> None:
    """Issue 20 at the store: the same sample ids in a and b; the variant at 10 is in b only."""
    from beacon.model.plan import SAME_DATASET, Related

    await load_people(store, "a", [variant("a1", 50, 60, carriers=("S2",))])
    await load_people(store, "b", [variant("b1", 10, 20, carriers=("S1",))])
    at_10 = Compare(Field.START, "=", 10)
    carriers = Related("g_variants", "individual", at_10)
    assert await store.count_by_dataset(Query("individuals", ("a", "b"), carriers)) == {"b": 1}
    # One find over both datasets (collections page so): each dataset's records meet its own keys only.
    assert [d["id"] for d in await store.find(Query("individuals", ("a", "b"), carriers))] == ["I1"]
    everyone = Related("g_variants", "individual", Compare(Field.START, ">", 0))
    found = await store.find(Query("individuals", ("a", "b"), everyone))
    assert [d["id"] for d in found] == ["I2", "I1"]  # a's carrier of a1, then b's carrier of b1
    # Nested: biosamples of individuals who carry the variant at 10, and the datasets holding it.
    nested = Related("individuals", "individual", carriers)
    assert await store.count_by_dataset(Query("biosamples", ("a", "b"), nested)) == {"b": 1}
    holding = Related("g_variants", SAME_DATASET, at_10)
    assert await store.count_by_dataset(Query("individuals", ("a", "b"), holding)) == {"b": 2}
    # A lookup from a record id: /g_variants/a1/individuals.
    lookup = Related("g_variants", "individual", Compare(Field.ID, "=", "a1"))
    assert await store.count_by_dataset(Query("individuals", ("a", "b"), lookup)) == {"a": 1}
    assert await store.count_by_dataset(Query("individuals", ("b",), lookup)) == {}
