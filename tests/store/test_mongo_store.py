"""What only the MongoDB backend has: generations, the catalog switch, URI handling, error translation.

Runs on a real server when BEACON_TEST_MONGO_URI is set, else on the mongomock-motor stand-in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from beacon.errors import StoreUnavailable
from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import Query
from beacon.store import open_store, redacted
from beacon.store.base import StoreOptions
from beacon.store.loading import dataset_load
from beacon.store.mongo import MongoStore
from beacon.store.mongo_generations import LoadConflict
from tests.backends import MongoSource
from tests.store.test_backend_store import variant

VARIANTS = EntryTypeTable().by_id("genomicVariant")


async def _generations(store: MongoStore) -> set[int]:
    rows = await store._db["g_variants"].find({}, {"gen": 1}).to_list(None)
    return {int(r["gen"]) for r in rows}


async def test_a_replacement_leaves_only_the_new_generation_once_the_old_one_is_retired(source: MongoSource) -> None:
    store = source.store()
    await store.open()
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", [(VARIANTS, variant("v1", 1, 2))]))
    first = await _generations(store)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d2", [(VARIANTS, variant("v2", 1, 2))]))
    await store.close()  # waits for retirement (retire_after_s=0 in tests)
    store = source.store()
    second = await _generations(store)
    assert len(first) == len(second) == 1
    assert first != second
    assert [v["variantInternalId"] for v in await store.find(Query("g_variants", ("a",)))] == ["v2"]


async def test_an_interrupted_load_is_invisible_and_removed_by_the_next_load(source: MongoSource) -> None:
    store = source.store()
    await store.open()
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", [(VARIANTS, variant("v1", 1, 2))]))

    def dies() -> Iterator[Any]:
        for i in range(2500):  # more than one batch reaches the database before the failure
            yield VARIANTS, variant(f"n{i}", 1, 2)
        raise KeyboardInterrupt

    # Simulate a crash: the load is abandoned without its clean-up (as after kill -9).
    async def no_cleanup(*_: Any) -> None:
        return None

    store._loader._abandon = no_cleanup  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        await store.replace_dataset(dataset_load("a", "GRCh38", "d2", dies()))
    assert len(await _generations(store)) == 2  # the orphan is stored ...
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {"a": 1}  # ... but never visible
    # The dead loader's lease holds the part until it lapses; then the next load takes over and cleans up.
    with pytest.raises(LoadConflict, match=r"^dataset a part main is being loaded by another loader \(generation 2,"):
        await store.replace_dataset(dataset_load("a", "GRCh38", "d3", [(VARIANTS, variant("v3", 1, 2))]))
    later = time.time() + store.generations.lease_s + 1
    store.generations.clock = lambda: later
    await store.replace_dataset(dataset_load("a", "GRCh38", "d3", [(VARIANTS, variant("v3", 1, 2))]))
    await store.close()
    store = source.store()
    assert len(await _generations(store)) == 1
    assert [v["variantInternalId"] for v in await store.find(Query("g_variants", ("a",)))] == ["v3"]


async def test_a_database_of_another_store_schema_version_is_refused_with_advice(source: MongoSource) -> None:
    store = source.store()
    await store._db["meta"].insert_one({"_id": "schema", "version": 99})
    with pytest.raises(
        StoreUnavailable,
        match="has store schema version 99; this version needs 2: carriers are now stored as sample sets: load",
    ):
        await store.open()


def test_the_database_comes_from_the_uri_path_with_beacon_as_default() -> None:
    named = open_store("mongodb://db.example:27017/national_beacon?replicaSet=rs0")
    plain = open_store("mongodb://db.example:27017")
    assert isinstance(named, MongoStore)
    assert isinstance(plain, MongoStore)
    assert named._db.name == "national_beacon"
    assert plain._db.name == "beacon"


async def test_an_unreachable_server_is_store_unavailable_not_a_pymongo_error(refused_sockets_collected: None) -> None:
    # The client inspects its environment (files) when constructed: do that off the event loop.
    store = await asyncio.to_thread(open_store, "mongodb://127.0.0.1:9/beacon", StoreOptions(timeout_ms=300))
    with pytest.raises(StoreUnavailable, match="MongoDB unavailable"):
        await store.open()
    with pytest.raises(StoreUnavailable, match="MongoDB unavailable"):
        await store.count_by_dataset(Query("g_variants", ("a",)))
    await store.close()


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("mongodb://beacon:s3cret@db.example:27017/beacon", "mongodb://beacon:***@db.example:27017/beacon"),
        (
            "mongodb+srv://u:p%40ss@cluster.example/b?authSource=admin",
            "mongodb+srv://u:***@cluster.example/b?authSource=admin",
        ),
        ("mongodb://db.example/beacon", "mongodb://db.example/beacon"),
        ("sqlite:///var/beacon.db", "sqlite:///var/beacon.db"),
    ],
)
def test_store_uris_are_shown_without_their_password(uri: str, shown: str) -> None:
    assert redacted(uri) == shown
