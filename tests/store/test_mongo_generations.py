"""Generations in the MongoDB catalog: retirement, collection (gc), orphans, and the lease per dataset part.

Issue 27, findings 1 (old generations leak) and 3 (one loader per part, enforced). Runs on a real
server when BEACON_TEST_MONGO_URI is set, else on the mongomock-motor stand-in; faults come from
tests/store/faults.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pymongo.errors import DuplicateKeyError, ExecutionTimeout

from beacon.errors import StoreUnavailable
from beacon.model.plan import Query
from beacon.store.base import StoreOptions
from beacon.store.loading import dataset_load
from beacon.store.mongo import MongoStore
from beacon.store.mongo_generations import Lease, LeaseLost, LoadConflict
from beacon.store.snapshot import one_snapshot
from tests.backends import MongoSource
from tests.store.faults import before, fail, faulty, passes
from tests.store.test_backend_store import variant
from tests.store.test_mongo_store import VARIANTS

PROTECTED = StoreOptions(retire_after_s=3600, timeout_ms=5_000)


def store_on(source: MongoSource, options: StoreOptions = PROTECTED) -> MongoStore:
    """A store on the source's database with its own options (a long protection period by default)."""
    plain = source.store()
    return MongoStore(plain._client, plain._db.name, options)


def variants(prefix: str, n: int) -> list[tuple[Any, dict[str, Any]]]:
    return [(VARIANTS, variant(f"{prefix}{i}", 10 + i, 20 + i)) for i in range(n)]


async def stored_generations(store: MongoStore) -> set[int]:
    return {int(g) for g in await store._db["g_variants"].distinct("gen")}


async def catalog(store: MongoStore) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await store._db["datasets_loaded"].find({}, {"_id": 0}).to_list(None)
    return rows


def later(store: MongoStore, seconds: float) -> None:
    now = time.time() + seconds
    store.generations.clock = lambda: now


async def lapsed_lease(source: MongoSource, gen: int) -> tuple[MongoStore, MongoStore, Lease]:
    """A slow loader's store, another store whose clock is past the slow loader's lease, and that lease.

    The slow loader claimed part main of dataset a for generation `gen`, then stopped renewing.
    """
    slow, other = store_on(source), store_on(source)
    await slow.ensure_indexes()
    lease = await slow.generations.claim("a", "main", gen)
    later(other, other.generations.lease_s + 1)
    return slow, other, lease


async def test_a_switch_names_the_replaced_generation_as_retired_in_the_catalog(source: MongoSource) -> None:
    store = store_on(source)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("old", 3)))
    await store.replace_dataset(dataset_load("a", "GRCh38", "d2", variants("new", 2)))
    (part,) = await catalog(store)
    assert part["gen"] == 2
    assert [r["gen"] for r in part["retired"]] == [1]
    assert part["pending"] == []
    assert "lease" not in part
    await store.close()


async def test_a_retired_generation_outlives_its_loader_and_gc_deletes_it_once_unprotected(
    source: MongoSource,
) -> None:
    loader = store_on(source)
    await loader.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("old", 3)))
    await loader.replace_dataset(dataset_load("a", "GRCh38", "d2", variants("new", 2)))
    await loader.close()  # the loader ends inside the protection period: only the catalog remembers
    gc = store_on(source)
    assert await stored_generations(gc) == {1, 2}
    kept = await gc.collect_generations()
    assert (kept.generations, kept.protected) == ([], [1])  # readers may still be on it
    later(gc, 3601)
    done = await gc.collect_generations()
    assert (done.generations, done.documents, done.orphans) == ([1], 3, [])
    assert await stored_generations(gc) == {2}
    assert (await catalog(gc))[0]["retired"] == []
    assert await gc.count_by_dataset(Query("g_variants", ("a",))) == {"a": 2}


async def test_gc_reports_and_deletes_generations_no_catalog_names(source: MongoSource) -> None:
    store = store_on(source)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("v", 2)))
    await store._db["g_variants"].insert_many([{"gen": 99, "seq": 1, "ds": "gone"}, {"gen": 99, "seq": 2}])
    await store._db["term_catalog"].insert_one({"gen": 98, "ds": "gone", "coll": "g_variants", "term": "X:1"})
    report = await store.collect_generations()
    assert report.orphans == [98, 99]
    assert report.documents == 3
    assert await stored_generations(store) == {1}
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {"a": 2}


async def test_a_generation_delete_cut_short_is_finished_by_the_next_collection(
    source: MongoSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("beacon.store.mongo_generations.CHUNK", 2)
    store = store_on(source)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("old", 7)))
    await store.replace_dataset(dataset_load("a", "GRCh38", "d2", variants("new", 1)))
    later(store, 3601)
    db = faulty(store)
    db.on("g_variants", "delete_many", passes, fail(ExecutionTimeout("operation exceeded time limit", 50)))
    with pytest.raises(StoreUnavailable, match="MongoDB unavailable: ExecutionTimeout"):
        await store.collect_generations()
    left = await store._db["g_variants"].count_documents({"gen": 1})
    assert left == 5  # one chunk of two went, then the time limit hit
    assert [r["gen"] for r in (await catalog(store))[0]["retired"]] == [1]  # still named: not leaked
    done = await store.collect_generations()
    assert done.generations == [1]
    assert await stored_generations(store) == {2}


async def test_a_deleted_dataset_vanishes_at_once_and_a_cut_short_delete_leaves_nothing_unnamed(
    source: MongoSource,
) -> None:
    store = store_on(source, StoreOptions(retire_after_s=0, timeout_ms=5_000))
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("v", 3)))
    db = faulty(store)
    timeout = fail(ExecutionTimeout("operation exceeded time limit", 50))
    db.on("g_variants", "delete_many", timeout, timeout)  # the load's own deferred collection runs at close too
    assert await store.delete_dataset("a") is True
    assert await store.datasets() == []
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {}
    await store.close()  # the deferred delete runs, and is cut short
    gc = store_on(source)
    assert await stored_generations(gc) == {1}
    assert [r["gen"] for r in (await catalog(gc))[0]["retired"]] == [1]
    later(gc, 3601)
    assert (await gc.collect_generations()).generations == [1]
    assert await stored_generations(gc) == set()
    assert await catalog(gc) == []  # the part's catalog document goes with its last generation


async def test_a_second_loader_of_a_part_fails_in_one_line_and_the_first_load_completes_whole(
    source: MongoSource,
) -> None:
    first = store_on(source, StoreOptions(retire_after_s=0, timeout_ms=5_000))
    second = store_on(source, StoreOptions(retire_after_s=0, timeout_ms=5_000))
    await first.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("old", 2)))
    refused: list[Exception] = []

    async def second_loader() -> None:
        try:
            await second.replace_dataset(dataset_load("a", "GRCh38", "d3", variants("other", 5)))
        except LoadConflict as exc:
            refused.append(exc)

    db = faulty(first)
    db.on("g_variants", "insert_many", passes, before(second_loader))  # while the first writes its second batch
    await first.replace_dataset(dataset_load("a", "GRCh38", "d2", variants("new", 2500)))
    assert [str(e) for e in refused] == [
        "dataset a part main is being loaded by another loader (generation 2, lease renewed until "
        + str(refused[0]).split("until ")[1]
    ]
    assert "\n" not in str(refused[0])
    assert await first.count_by_dataset(Query("g_variants", ("a",))) == {"a": 2500}
    await first.close()
    await second.close()


async def test_two_first_loads_cannot_create_two_catalog_documents_for_one_part(source: MongoSource) -> None:
    one, two = store_on(source), store_on(source)
    await one.ensure_indexes()
    await one.generations.claim("a", "vcf", 1)
    with pytest.raises(LoadConflict, match="^dataset a part vcf is being loaded by another loader"):
        await two.generations.claim("a", "vcf", 2)
    with pytest.raises(DuplicateKeyError):
        await two._db["datasets_loaded"].insert_one({"dataset": "a", "part": "vcf"})
    assert len(await catalog(one)) == 1


async def test_a_loader_whose_lease_was_taken_over_cannot_switch_and_its_generation_is_collected(
    source: MongoSource,
) -> None:
    slow, successor, lease = await lapsed_lease(source, 1)
    await successor.generations.claim("a", "main", 2)
    with pytest.raises(LeaseLost, match="lapsed and another loader took the part over"):
        await slow.generations.renew(lease, force=True)
    with pytest.raises(LeaseLost):
        await slow.generations.switch(lease, {"digest": "x"})
    (part,) = await catalog(successor)
    assert part["lease"]["gen"] == 2
    assert "gen" not in part


async def test_one_request_reads_one_version_of_a_dataset_even_across_a_switch(source: MongoSource) -> None:
    """Issue 27, finding 2: counts and records of one request come from the same generation."""
    reader, loader = store_on(source), store_on(source)
    await loader.replace_dataset(dataset_load("a", "GRCh38", "d1", variants("old", 3)))
    everything = Query("g_variants", ("a",))
    with one_snapshot():
        assert await reader.count_by_dataset(everything) == {"a": 3}
        await loader.replace_dataset(dataset_load("a", "GRCh38", "d2", variants("new", 5)))
        assert await reader.count_by_dataset(everything) == {"a": 3}
        assert [v["variantInternalId"] for v in await reader.find(everything)] == ["old0", "old1", "old2"]
    assert await reader.count_by_dataset(everything) == {"a": 5}
    await loader.close()


async def test_gc_revokes_a_lapsed_lease_so_its_slow_loader_can_never_switch_to_what_gc_deleted(
    source: MongoSource,
) -> None:
    slow, gc, lease = await lapsed_lease(source, 7)
    await slow._db["g_variants"].insert_one({"gen": 7, "seq": 7 << 32, "ds": "a"})
    assert (await gc.collect_generations()).generations == [7]
    with pytest.raises(LeaseLost):
        await slow.generations.switch(lease, {"digest": "x"})
    assert await catalog(gc) == []
