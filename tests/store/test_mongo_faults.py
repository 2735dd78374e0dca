"""The MongoDB store under what a real cluster does: elections, time limits, refused rights, big documents.

Issue 27, findings 4, 5, 8, 9 and 10 (and 2 and 6 where the stand-in can show them). Faults come
from tests/store/faults.py; sizes are checked by the store itself, since mongomock stores a 17 MiB
document happily.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import bson
import pytest
from pymongo.errors import AutoReconnect, BulkWriteError, DocumentTooLarge, OperationFailure, WriteConcernError

from beacon.errors import InvalidRequest, StoreError, StoreUnavailable
from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import Compare, Field, Query, Related
from beacon.store import open_store
from beacon.store.base import StoreOptions
from beacon.store.loading import dataset_load
from beacon.store.mongo import MongoStore
from beacon.store.mongo_load import MAX_BATCH_BYTES, RecordTooLarge
from tests.backends import MongoSource
from tests.store.faults import fail, faulty, lost_reply
from tests.store.test_backend_store import load_people, variant
from tests.store.test_mongo_store import VARIANTS

RUNS = EntryTypeTable().by_id("run")


@pytest.fixture
async def store(source: MongoSource) -> AsyncIterator[MongoStore]:
    s = source.store()
    await s.open()
    yield s
    await s.close()


def variants(n: int, size: int = 0) -> list[tuple[Any, dict[str, Any]]]:
    return [(VARIANTS, {**variant(f"v{i}", 10 + i, 20 + i), "padding": "x" * size}) for i in range(n)]


# -- finding 4: documents and batches ----------------------------------------------------------------


async def test_batches_are_bounded_in_bytes_not_only_in_records(store: MongoStore) -> None:
    db = faulty(store)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(40, size=1024 * 1024)))
    sizes = [sum(len(bson.encode(d)) for d in call.args[0]) for call in db.calls("g_variants", "insert_many")]
    assert len(sizes) > 1
    assert max(sizes) <= MAX_BATCH_BYTES
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {"a": 40}


async def test_a_record_over_the_document_limit_is_named_in_one_line_and_nothing_becomes_visible(
    store: MongoStore,
) -> None:
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(2)))
    big = {**variant("big", 1, 2), "padding": "x" * 17 * 1024 * 1024}
    with pytest.raises(RecordTooLarge) as caught:
        await store.replace_dataset(dataset_load("a", "GRCh38", "d2", [*variants(3), (VARIANTS, big)]))
    assert str(caught.value).startswith("dataset a: g_variants record big is 17.0 MiB as a MongoDB document, over")
    assert "\n" not in str(caught.value)
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {"a": 2}


async def test_an_election_during_a_load_is_ridden_out_and_the_re_sent_batch_stores_nothing_twice(
    store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("beacon.store.mongo_load.BACKOFF_S", 0)
    db = faulty(store)
    # The primary applied the batch and stepped down before acknowledging it; then none is writable.
    db.on("g_variants", "insert_many", lost_reply(AutoReconnect("connection closed")))
    db.on("g_variants", "insert_many", fail(OperationFailure("not primary", 10107)))
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(1500)))
    assert await store.count_by_dataset(Query("g_variants", ("a",))) == {"a": 1500}
    ids = [v["variantInternalId"] for v in await store.find(Query("g_variants", ("a",)))]
    assert len(ids) == len(set(ids)) == 1500


async def test_a_document_the_server_refuses_as_too_large_is_a_store_error_in_one_line(store: MongoStore) -> None:
    db = faulty(store)
    db.on("g_variants", "insert_many", fail(DocumentTooLarge("BSON document too large (17000000 bytes)")))
    with pytest.raises(StoreError, match=r"^MongoDB refused a document or command over its size limit: BSON"):
        await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(2)))
    assert await store.datasets() == []


async def test_a_query_too_large_to_send_is_a_store_error_not_an_untranslated_exception(store: MongoStore) -> None:
    db = faulty(store)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(1)))
    db.on("g_variants", "count_documents", fail(DocumentTooLarge("command document too large")))
    with pytest.raises(StoreError, match="over its size limit"):
        await store.count_by_dataset(Query("g_variants", ("a",)))


# -- finding 8: timeouts, indexes, rights ------------------------------------------------------------


async def test_load_operations_run_under_the_loading_timeout_not_the_serving_one(store: MongoStore) -> None:
    db = faulty(store)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(3)))
    inserts = db.calls("g_variants", "insert_many")
    assert inserts
    assert {call.timeout for call in inserts} == {store.load_timeout_s}
    assert store.load_timeout_s > StoreOptions().timeout_ms / 1000 * 10  # outlasts an election


async def test_a_read_only_user_can_open_the_store_and_serve(source: MongoSource) -> None:
    loaded = source.store()
    await loaded.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(2)))
    await loaded.close()
    api = source.store()
    db = faulty(api)
    refused = OperationFailure("not authorized on beacon to execute command", 13)
    for method in ("create_indexes", "update_one", "insert_many", "find_one_and_update", "delete_many"):
        db.on("*", method, *[fail(refused)] * 20)
    await api.open()
    assert await api.count_by_dataset(Query("g_variants", ("a",))) == {"a": 2}
    assert not db.calls("g_variants", "create_indexes")
    await api.close()


# -- finding 9: availability by code -----------------------------------------------------------------

UNAVAILABLE = {
    "host unreachable (6)": OperationFailure("x", 6),
    "host not found (7)": OperationFailure("x", 7),
    "network timeout (89)": OperationFailure("x", 89),
    "failed to satisfy read preference (133)": OperationFailure("x", 133),
    "exceeded time limit (262)": OperationFailure("x", 262),
    "socket exception (9001)": OperationFailure("x", 9001),
    "interrupted by a replica set state change (11602)": OperationFailure("x", 11602),
    "retryable label": OperationFailure("x", 1, {"errorLabels": ["RetryableWriteError"]}),
    "bulk write concern timeout": BulkWriteError(
        {"writeErrors": [], "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}]}
    ),
    "bulk write time limit (50)": BulkWriteError({"writeErrors": [{"index": 0, "code": 50, "errmsg": "x"}]}),
}


@pytest.mark.parametrize("error", UNAVAILABLE.values(), ids=UNAVAILABLE.keys())
async def test_an_availability_error_is_store_unavailable_a_503(store: MongoStore, error: Exception) -> None:
    db = faulty(store)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(1)))
    db.on("g_variants", "count_documents", fail(error))
    with pytest.raises(StoreUnavailable, match="^MongoDB unavailable: ") as caught:
        await store.count_by_dataset(Query("g_variants", ("a",)))
    assert caught.value.status == 503


async def test_a_failing_command_is_still_a_store_error(store: MongoStore) -> None:
    db = faulty(store)
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", variants(1)))
    db.on("g_variants", "count_documents", fail(OperationFailure("bad query", 2)))
    with pytest.raises(StoreError, match=r"^MongoDB error: OperationFailure \(code 2\)$"):
        await store.count_by_dataset(Query("g_variants", ("a",)))
    db.on("g_variants", "count_documents", fail(WriteConcernError("unsatisfiable write concern", 100)))
    with pytest.raises(StoreError, match=r"^MongoDB error: WriteConcernError \(code 100\)$"):
        await store.count_by_dataset(Query("g_variants", ("a",)))


# -- finding 10: the key range -----------------------------------------------------------------------


async def test_a_key_range_matches_one_key_not_two_keys_on_either_side(store: MongoStore) -> None:
    # keys ["run:R1", "biosample:X"]: "run:R1" >= "individual:" and "biosample:X" < "individual;".
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", [(RUNS, {"id": "R1", "biosampleId": "X"})]))
    assert await store.record_keys("runs", "a", "individual") == {}
    assert await store.record_keys("runs", "a", "biosample") == {"R1": ["X"]}


# -- finding 5: pivots bounded -----------------------------------------------------------------------


async def test_a_pivot_through_too_many_records_is_a_400_not_a_500(
    store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("beacon.store.mongo_translate.RELATED_LIMIT", 1)
    await load_people(store, "a", [variant("a1", 10, 20, carriers=("S1", "S2"))])
    carriers = Related("g_variants", "individual", Compare(Field.START, "=", 10))
    with pytest.raises(InvalidRequest, match="more than 1 individual records; narrow it") as caught:
        await store.count_by_dataset(Query("individuals", ("a",), carriers))
    assert caught.value.status == 400


async def test_distinct_keys_over_too_many_records_is_a_400_and_unwinds_only_that_kind(
    store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_people(store, "a", [variant("a1", 10, 20, carriers=("S1", "S2"))])
    everything = Query("g_variants", ("a",))
    assert await store.distinct_keys(everything, "individual") == ["I1", "I2"]
    monkeypatch.setattr("beacon.store.mongo_translate.RELATED_LIMIT", 1)
    with pytest.raises(InvalidRequest, match="more than 1 individual records"):
        await store.distinct_keys(everything, "individual")


# -- finding 6: spans per chromosome -----------------------------------------------------------------


async def test_a_long_variant_on_one_chromosome_does_not_widen_ranges_on_another(store: MongoStore) -> None:
    cnv = variant("cnv", 0, 50_000_000)
    cnv["variation"]["location"]["sequence_id"] = "refseq:NC_000002.12"
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", [*variants(2), (VARIANTS, cnv)]))
    scope = await store._scope(("a",), {})
    assert scope.span_on("13") == 10
    assert scope.span_on("2") == 50_000_000


# -- finding 2: reads from secondaries ---------------------------------------------------------------


@pytest.mark.parametrize(("preference", "level"), [("secondaryPreferred", "majority"), ("primary", None)])
async def test_reads_from_secondaries_are_majority_committed(preference: str, level: str | None) -> None:
    options = StoreOptions(read_preference=preference)
    store = await asyncio.to_thread(open_store, "mongodb://db.example:27017/beacon?replicaSet=rs0", options)
    assert isinstance(store, MongoStore)
    assert store._client.read_concern.level == level
    assert store._causal is (level is not None), "catalog and data reads share a causally consistent session"
    await store.close()


def test_a_replaced_generation_outlives_the_request_deadline_and_replication_lag_by_default() -> None:
    """A query that resolved the old generation just before the switch may run for a whole request deadline,
    on a secondary up to a minute behind (docs/scaling.md)."""
    from beacon.config import ServerConfig

    assert StoreOptions().retire_after_s >= ServerConfig().request_timeout_s + 60
