"""Limits from conf, and a store that goes away and comes back under a running server.

Store faults are real, not mocked: an SQLite file whose folder is not there yet, an SQLite file
locked by another writer, an unreachable MongoDB, a store slower than the request deadline.
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import Config
from beacon.errors import StoreUnavailable
from beacon.model.plan import Query
from beacon.store import open_store
from beacon.store.base import DatasetInfo, StoreOptions
from beacon.store.sqlite import SqliteStore
from tests.conftest import CINECA_ID, AiohttpClient, fetch, make_config, refusal

FAST_RETRY = 1.05  # the guard retries opening a failed store at most once per second


def _config(store_uri: str, **server: Any) -> Config:
    config = make_config(store_uri)
    return dataclasses.replace(
        config,
        server=dataclasses.replace(config.server, **server),
        store_options=StoreOptions(timeout_ms=200),
    )


async def _unavailable(client: TestClient[Any, Any], path: str = "/api/individuals") -> dict[str, Any]:
    document = await fetch(client, "GET", path, status=503)
    resp = await client.get(path)
    assert resp.headers["Retry-After"] == "10"
    return document


async def test_a_body_over_the_configured_size_is_413(aiohttp_client: AiohttpClient, cineca_db: Path) -> None:
    client = await aiohttp_client(create_app(_config(f"sqlite:///{cineca_db}", max_body_bytes=2048)))
    body = {"query": {"filters": [{"id": "NCIT:C16576"}] * 100}}
    document = await fetch(client, "POST", "/api/individuals", body=body, status=413)
    assert "larger than 2048 bytes" in document["error"]["errorMessage"]
    await fetch(client, "POST", "/api/individuals", body={"query": {"filters": [{"id": "NCIT:C16576"}]}})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filters": ",".join(f"NCIT:C{i}" for i in range(51))}, "filters: 51 given, at most 50 allowed"),
        ({"datasetIds": ",".join(f"d{i}" for i in range(101))}, "datasetIds: 101 values given, at most 100 allowed"),
    ],
)
async def test_too_many_filters_or_values_are_refused(
    cineca: TestClient[Any, Any], params: dict[str, str], message: str
) -> None:
    assert await refusal(cineca, "GET", "/api/individuals", params=params) == message


async def test_a_page_never_exceeds_the_configured_maximum(cineca: TestClient[Any, Any]) -> None:
    params = {"requestedGranularity": "record", "limit": "5000"}
    document = await fetch(cineca, "GET", "/api/individuals", params=params)
    assert len(document["response"]["resultSets"][0]["results"]) == 1000
    assert document["meta"]["receivedRequestSummary"]["pagination"]["limit"] == 1000


class _SlowStore(SqliteStore):
    async def datasets(self) -> list[DatasetInfo]:
        await asyncio.sleep(5)
        return await super().datasets()


async def test_a_request_over_the_deadline_is_503_and_the_server_goes_on(
    aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    config = _config(f"sqlite:///{cineca_db}", request_timeout_s=0.2)
    client = await aiohttp_client(create_app(config, store=_SlowStore(cineca_db)))
    document = await _unavailable(client)
    assert (
        document["error"]["errorMessage"] == "the request took longer than 0.2 s; try again later or narrow the query"
    )
    await fetch(client, "GET", "/api/info", endpoint="info")


async def test_a_store_whose_folder_is_missing_at_startup_is_served_once_it_appears(
    aiohttp_client: AiohttpClient, cineca_db: Path, tmp_path: Path
) -> None:
    mount = tmp_path / "mnt"
    await asyncio.to_thread(mount.write_text, "not a folder: the volume is not mounted yet")
    client = await aiohttp_client(create_app(_config(f"sqlite:///{mount / 'beacon.db'}")))

    await _unavailable(client)
    await fetch(client, "GET", "/api/info", endpoint="info")  # the framework endpoints keep answering
    resp = await client.get("/health")
    assert resp.status == 503
    assert (await resp.json())["store"]["ok"] is False

    def mount_volume() -> None:
        mount.unlink()
        mount.mkdir()
        shutil.copy(cineca_db, mount / "beacon.db")

    await asyncio.to_thread(mount_volume)
    await asyncio.sleep(FAST_RETRY)
    document = await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert document["responseSummary"]["numTotalResults"] == 2504
    resp = await client.get("/health")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "store": {"backend": "sqlite", "ok": True, "message": "ok"}}


def _lock(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("DELETE FROM meta WHERE key = 'nothing'")
    return conn


async def test_a_store_locked_by_another_writer_is_503_until_the_lock_goes(
    aiohttp_client: AiohttpClient, cineca_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "beacon.db"
    await asyncio.to_thread(shutil.copy, cineca_db, path)
    holder = await asyncio.to_thread(_lock, path)
    try:
        client = await aiohttp_client(create_app(_config(f"sqlite:///{path}")))
        document = await _unavailable(client)
        assert "locked" in document["error"]["errorMessage"]
    finally:
        await asyncio.to_thread(holder.close)
    await asyncio.sleep(FAST_RETRY)
    document = await fetch(client, "GET", "/api/individuals", params={"requestedGranularity": "count"})
    assert document["responseSummary"]["numTotalResults"] == 2504


async def test_an_unreachable_mongodb_is_503_while_info_answers(
    refused_sockets_collected: None, aiohttp_client: AiohttpClient
) -> None:
    uri = "mongodb://127.0.0.1:9/beacon"
    config = _config(uri)
    store = await asyncio.to_thread(open_store, uri, config.store_options)
    client = await aiohttp_client(create_app(config, store=store))
    document = await _unavailable(client, "/api/g_variants")
    assert document["error"]["errorMessage"].startswith("store unavailable: MongoDB unavailable")
    await fetch(client, "GET", "/api/info", endpoint="info")
    assert (await client.get("/health")).status == 503


async def test_a_store_query_over_its_time_budget_is_interrupted(cineca_db: Path) -> None:
    store = SqliteStore(cineca_db, options=StoreOptions(timeout_ms=1))
    await store.open()
    try:
        with pytest.raises(StoreUnavailable, match="the store query took longer than 0.001 s"):
            await store.find(Query("g_variants", (CINECA_ID,)))
    finally:
        await store.close()
