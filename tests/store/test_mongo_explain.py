"""On a real MongoDB only (`make compose-test`): the index each query shape uses, and the topology the store needs.

The stand-in has no query planner and no replica set, so these assertions skip there; they are
issue 27's checks that only a real server can answer (findings 2, 6, 7 and 11).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from beacon.model.plan import Query
from beacon.model.request import VariantParams
from beacon.query.variants import variant_condition
from beacon.store.loading import dataset_load
from beacon.store.mongo import MongoStore
from beacon.store.mongo_translate import find_spec, match_filter
from tests.backends import MONGO_URI, MongoSource, new_mongo_source
from tests.store.test_backend_store import variant
from tests.store.test_mongo_store import VARIANTS

pytestmark = pytest.mark.skipif(not MONGO_URI, reason="needs a real MongoDB server (make compose-test)")


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    source: MongoSource = new_mongo_source("explain")
    s = source.store()
    await s.replace_dataset(
        dataset_load("a", "GRCh38", "d1", [(VARIANTS, variant(f"v{i}", 1000 * i, 1000 * i + 5)) for i in range(300)])
    )
    yield s
    await s.close()
    await source.drop()


def _plan(explained: dict[str, Any]) -> str:
    return json.dumps(explained["queryPlanner"]["winningPlan"])


def _range_query() -> Query:
    return Query(
        "g_variants", ("a",), variant_condition(VariantParams(referenceName="13", start=(10_000,), end=(60_000,)))
    )


async def test_a_range_count_is_answered_from_the_position_index_without_reading_documents(store: MongoStore) -> None:
    query = _range_query()
    scope = (await store._scope(("a",), {})).of("a")
    explained = await store._db.command(
        {"explain": {"count": "g_variants", "query": match_filter(query, scope)}, "verbosity": "queryPlanner"}
    )
    plan = _plan(explained)
    assert "by_position_gen" in plan or "by_end_gen" in plan, plan
    assert '"FETCH"' not in plan, "the count reads documents: the index does not cover gen"


async def test_a_paged_range_find_uses_the_hinted_position_index(store: MongoStore) -> None:
    query = _range_query()
    spec = find_spec(query, await store._scope(("a",), {}))
    assert spec.hint == "by_position_gen"
    explained = await store._db.command(
        {
            "explain": {"find": "g_variants", "filter": spec.filter, "sort": dict(spec.sort), "hint": spec.hint},
            "verbosity": "queryPlanner",
        }
    )
    assert "by_position_gen" in _plan(explained)


async def test_the_server_is_a_replica_set_member_so_writes_retry_and_reads_can_be_majority(store: MongoStore) -> None:
    hello = await store._db.command("hello")
    assert hello.get("setName"), "compose runs MongoDB as a replica set (deploy/compose.yaml)"
    assert hello["isWritablePrimary"] is True


async def test_a_page_over_hundreds_of_generations_is_sorted_by_the_index_not_in_memory() -> None:
    source = new_mongo_source("explain_many")
    store = source.store()
    try:
        names = [f"d{i}" for i in range(210)]
        for name in names:
            await store.replace_dataset(dataset_load(name, "GRCh38", name, [(VARIANTS, variant("v", 1, 2))]))
        spec = find_spec(Query("g_variants", tuple(names), None, 0, 10), await store._scope(names, {}))
        assert len(spec.filter["gen"]["$in"]) == 210
        explained = await store._db.command(
            {
                "explain": {"find": "g_variants", "filter": spec.filter, "sort": dict(spec.sort), "limit": 10},
                "verbosity": "queryPlanner",
            }
        )
        plan = _plan(explained)
        assert "by_generation" in plan
        assert '"SORT"' not in plan, plan
    finally:
        await store.close()
        await source.drop()
