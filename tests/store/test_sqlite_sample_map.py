"""The SQLite store's sample map (`sample_records`, beacon/store/sqlite_sample_map.py): carrier lookups
map set members to the records of their own part without key seeks, and answer exactly as through keys.

Each test loads through the store's own load (documents with VCF-shaped caseLevelData, which the indexer
turns into sets) and compares answers with the map against the same store with the map removed, which
answers through link keys as a part without a map does.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from beacon.errors import StoreOutdated
from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.plan import Compare, Field, HasTerm, Query, Related
from beacon.store.carriers import HETEROZYGOUS, HOMOZYGOUS
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from beacon.store.sqlite_schema import SCHEMA_VERSION
from tests.documents import chr22_snv

INDIVIDUALS, BIOSAMPLES, VARIANTS = (DEFAULT_TABLE.by_id(i) for i in ("individual", "biosample", "genomicVariant"))
Records = Iterator[tuple[Any, dict[str, Any]]]


def _carrier(biosample: str, zygosity: dict[str, str] = HETEROZYGOUS) -> dict[str, Any]:
    return {"biosampleId": biosample, "zygosity": dict(zygosity)}


def _people(numbers: range | tuple[int, ...], *, individuals: bool = True) -> Records:
    if individuals:
        for n in numbers:
            yield INDIVIDUALS, {"id": f"I{n}"}
    for n in numbers:
        yield BIOSAMPLES, {"id": f"S{n}", "individualId": f"I{n}"}


def _cohort() -> Records:
    """Five people (I4 without a biosample record of hers), three variants."""
    yield from _people(range(1, 4))
    yield INDIVIDUALS, {"id": "I4"}
    yield BIOSAMPLES, {"id": "S5"}  # no individual
    yield VARIANTS, chr22_snv("v1", 100, [_carrier("S1"), _carrier("S2", HOMOZYGOUS), _carrier("S5")])
    yield VARIANTS, chr22_snv("v2", 200, [_carrier("S3")])
    yield VARIANTS, chr22_snv("v3", 300, [_carrier("S2"), _carrier("S3")])


def _lookups(dataset: str) -> dict[str, Query]:
    def of(target: str, via: str, vid: str) -> Query:
        return Query(target, (dataset,), Related("g_variants", via, Compare(Field.ID, "=", vid)))

    zygous = Related("g_variants", "individual", HasTerm((HOMOZYGOUS["id"],)))
    return {
        "v1 individuals": of("individuals", "individual", "v1"),
        "v1 biosamples": of("biosamples", "biosample", "v1"),
        "v3 individuals": of("individuals", "individual", "v3"),
        "v3 biosamples by individual": of("biosamples", "individual", "v3"),  # no map for this pair
        "homozygous carriers": Query("individuals", (dataset,), zygous),
        "I3's variants": Query(
            "g_variants", (dataset,), Related("individuals", "individual", Compare(Field.ID, "=", "I3"))
        ),
    }


async def _answers(store: SqliteStore, queries: dict[str, Query]) -> dict[str, tuple[dict[str, int], list[str]]]:
    found = {}
    for name, query in queries.items():
        docs = await store.find(query)
        found[name] = (
            await store.count_by_dataset(query),
            sorted(str(d.get("id") or d["variantInternalId"]) for d in docs),
        )
    return found


def _read(path: Path, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


async def _sql(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read or change the store file outside the store, off the event loop."""
    return await asyncio.to_thread(_read, path, sql, params)


async def _loaded_file(path: Path) -> Path:
    """A closed store file holding `_cohort()` as part `p` of dataset `d`."""
    store = await _opened(path)
    try:
        await store.replace_dataset(dataset_load("d", "GRCh38", "x", _cohort(), part="p"))
    finally:
        await store.close()
    return path


async def _opened(path: Path) -> SqliteStore:
    store = SqliteStore(path)
    await store.open()
    return store


async def test_a_part_maps_its_samples_to_the_records_of_their_ids_in_the_part(tmp_path: Path) -> None:
    path = await _loaded_file(tmp_path / "s.db")
    maps = await _sql(
        path, "SELECT kind, coll, rids FROM sample_records WHERE dataset = 'd' AND part = 'p' ORDER BY kind"
    )
    assert [(kind, coll) for kind, coll, _ in maps] == [("biosample", "biosamples"), ("individual", "individuals")]
    samples = await _sql(path, "SELECT idx, biosample, individual FROM samples WHERE dataset = 'd' ORDER BY idx")
    for kind, coll, blob in maps:
        rids = np.frombuffer(blob, dtype="<i8").tolist()
        named = {}
        for idx, biosample, individual in samples:
            rid = rids[idx] if idx < len(rids) else 0
            named[biosample] = await _sql(path, "SELECT coll, id, dataset, part FROM records WHERE rid = ?", (rid,))
            wanted = biosample if kind == "biosample" else individual
            assert named[biosample] == ([(coll, wanted, "d", "p")] if wanted else []), (kind, biosample)
        # S5 has no individual: nothing to map her to.
        assert (kind == "individual") == (named["S5"] == [])


async def test_lookups_answer_the_same_through_the_map_and_through_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await _opened(path)
    try:
        await store.replace_dataset(dataset_load("d", "GRCh38", "x", _cohort(), part="p"))
        mapped = await _answers(store, _lookups("d"))
        await _sql(path, "DELETE FROM sample_records")
        keyed = await _answers(store, _lookups("d"))
    finally:
        await store.close()
    assert mapped == keyed
    assert mapped["v1 individuals"] == ({"d": 2}, ["I1", "I2"])
    assert mapped["v1 biosamples"] == ({"d": 3}, ["S1", "S2", "S5"])
    assert mapped["v3 biosamples by individual"] == ({"d": 2}, ["S2", "S3"])
    assert mapped["homozygous carriers"] == ({"d": 1}, ["I2"])
    assert mapped["I3's variants"] == ({"d": 2}, ["v2", "v3"])


def _metadata_part() -> Records:
    yield from _people(range(1, 4))


def _variant_part() -> Records:
    # Its own biosample S7 (of I7, whose record is nowhere); S1..S3 are records of the other part.
    yield BIOSAMPLES, {"id": "S7", "individualId": "I7"}
    yield VARIANTS, chr22_snv("w1", 100, [_carrier("S1"), _carrier("S3"), _carrier("S7")])


async def test_carriers_whose_records_are_in_another_part_are_found_through_keys(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await _opened(path)
    try:
        await store.replace_dataset(dataset_load("d", "GRCh38", "m", _metadata_part(), part="meta"))
        await store.replace_dataset(dataset_load("d", "GRCh38", "v", _variant_part(), part="vcf"))
        query = Query("biosamples", ("d",), Related("g_variants", "biosample", Compare(Field.ID, "=", "w1")))
        assert await store.count_by_dataset(query) == {"d": 3}
        assert sorted(d["id"] for d in await store.find(query)) == ["S1", "S3", "S7"]
    finally:
        await store.close()
    # The variant part maps only the biosample it holds.
    ((blob,),) = await _sql(path, "SELECT rids FROM sample_records WHERE part = 'vcf' AND kind = 'biosample'")
    assert np.count_nonzero(np.frombuffer(blob, dtype="<i8")) == 1


async def test_a_map_never_leads_outside_its_part(tmp_path: Path) -> None:
    """A map altered to name records of another dataset (which no load writes) still finds nothing there."""
    path = tmp_path / "s.db"
    store = await _opened(path)
    try:
        await store.replace_dataset(dataset_load("a", "GRCh38", "a", _cohort(), part="p"))
        await store.replace_dataset(dataset_load("b", "GRCh38", "b", _people(range(1, 9)), part="p"))
        others = [
            rid for (rid,) in await _sql(path, "SELECT rid FROM records WHERE dataset = 'b' AND coll = 'individuals'")
        ]
        forged = np.array(others, dtype="<i8").tobytes()
        await _sql(path, "UPDATE sample_records SET rids = ? WHERE dataset = 'a' AND kind = 'individual'", (forged,))
        query = Query("individuals", ("a", "b"), Related("g_variants", "individual", Compare(Field.ID, "=", "v1")))
        assert await store.count_by_dataset(query) == {}
        assert await store.find(query) == []
    finally:
        await store.close()


async def test_a_reloaded_or_withdrawn_part_leaves_no_stale_map(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = await _opened(path)
    try:
        await store.replace_dataset(dataset_load("d", "GRCh38", "x", _cohort(), part="p"))
        before = await _sql(path, "SELECT kind, rids FROM sample_records ORDER BY kind")
        # Reloaded with its people in another order: other rids, and only the new ones are mapped.
        again = [*_people((3, 2, 1)), (VARIANTS, chr22_snv("v1", 100, [_carrier("S1"), _carrier("S2")]))]
        await store.replace_dataset(dataset_load("d", "GRCh38", "y", iter(again), part="p"))
        after = await _sql(path, "SELECT kind, rids FROM sample_records ORDER BY kind")
        assert len(after) == 2
        assert after != before
        query = Query("individuals", ("d",), Related("g_variants", "individual", Compare(Field.ID, "=", "v1")))
        assert sorted(d["id"] for d in await store.find(query)) == ["I1", "I2"]
        assert await store.delete_dataset("d") is True
    finally:
        await store.close()
    assert await _sql(path, "SELECT count(*) FROM sample_records") == [(0,)]


async def test_a_version_4_store_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """Version 4 held population terms and own ids as rows version 5 no longer reads: opened, it would
    answer population and id filters wrongly, so it is refused with the advice, the file untouched."""
    path = await _loaded_file(tmp_path / "s.db")
    await _sql(path, "DROP TABLE sample_records")
    await _sql(path, "UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    old = SqliteStore(path)
    with pytest.raises(StoreOutdated, match=f"has schema version 4; this version needs {SCHEMA_VERSION}: "):
        await old.open()
    await old.close()
    assert await _sql(path, "SELECT value FROM meta WHERE key = 'schema_version'") == [("4",)]
    assert await _sql(path, "SELECT name FROM sqlite_schema WHERE name = 'sample_records'") == []
