"""The store file deleted, replaced or corrupted under a running server: 503 and a failing /health, never a
stale answer or a 500; served again as soon as the file is a valid store.

Real faults on a real server: the CINECA store copied to a temporary file, then deleted, renamed over by
another store, overwritten with garbage or truncated while requests keep coming. Before, SQLite went on
answering from the deleted inode (and from its page cache over garbage) and /health said ok.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from tests.conftest import AiohttpClient, fetch, make_config

COUNT = {"requestedGranularity": "count"}
# Answered by the fast lane while the store is healthy.
ALLELE = {"referenceName": "22", "start": "16050074", "referenceBases": "G", "alternateBases": "A"}
CINECA_INDIVIDUALS = 2504


def _copy(source: Path, target: Path) -> None:
    """A private copy of a store (its -wal and -shm, if any, stay behind)."""
    shutil.copyfile(source, target)


def _replace_atomically(source: Path, target: Path) -> None:
    staged = target.with_suffix(".new")
    shutil.copyfile(source, staged)
    staged.replace(target)


def _overwrite_in_place(target: Path, data: bytes) -> None:
    with target.open("r+b") as f:
        f.write(data)
        f.truncate()


def _garbage(target: Path) -> None:
    _overwrite_in_place(target, os.urandom(target.stat().st_size))


def _truncate(target: Path) -> None:
    _overwrite_in_place(target, b"")


@pytest.fixture
async def served(aiohttp_client: AiohttpClient, cineca_db: Path, tmp_path: Path) -> tuple[TestClient[Any, Any], Path]:
    path = tmp_path / "beacon.db"
    await asyncio.to_thread(_copy, cineca_db, path)
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{path}")))
    assert await _individuals(client) == CINECA_INDIVIDUALS
    assert (await client.get("/health")).status == 200
    assert (await fetch(client, "GET", "/api/g_variants", params=ALLELE))["responseSummary"]["exists"] is True
    return client, path


async def _individuals(client: TestClient[Any, Any]) -> int | None:
    """The individuals count, or None when the answer is a 503 Beacon error with Retry-After."""
    resp = await client.get("/api/individuals", params=COUNT)
    if resp.status == 503:
        assert resp.headers["Retry-After"] == "10"
        document = await resp.json()
        assert document["error"]["errorCode"] == 503
        assert "SQLite store" in document["error"]["errorMessage"]
        return None
    assert resp.status == 200, await resp.text()
    count: int = (await resp.json())["responseSummary"]["numTotalResults"]
    return count


async def _eventually(check: Callable[[], Any], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the store fault was not noticed in time"
        await asyncio.sleep(0.02)


async def _unhealthy(client: TestClient[Any, Any]) -> bool:
    return (await client.get("/health")).status == 503


async def _assert_unavailable_everywhere(client: TestClient[Any, Any]) -> None:
    await fetch(client, "GET", "/api/individuals", params=COUNT, status=503)
    await fetch(client, "GET", "/api/g_variants", params=ALLELE, status=503)
    await fetch(client, "POST", "/api/datasets", body={}, status=503)
    resp = await client.get("/health")
    assert resp.status == 503
    health = await resp.json()
    assert health["status"] == "unavailable"
    assert health["store"]["ok"] is False
    # Framework endpoints answer from configuration and liveness does not depend on the store.
    await fetch(client, "GET", "/api/info", endpoint="info")
    assert (await client.get("/health/live")).status == 200


@pytest.fixture
async def traffic(served: tuple[TestClient[Any, Any], Path]) -> AsyncIterator[Counter[int]]:
    """Requests in a loop for the whole test: only 200 and 503 may ever come back."""
    client, _ = served
    statuses: Counter[int] = Counter()
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            statuses[(await client.get("/api/g_variants", params=ALLELE)).status] += 1
            statuses[(await client.get("/api/individuals", params=COUNT)).status] += 1

    task = asyncio.create_task(loop())
    yield statuses
    stop.set()
    await task
    assert set(statuses) <= {200, 503}, statuses


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.unlink(), id="deleted"),
        pytest.param(_garbage, id="overwritten with garbage"),
        pytest.param(_truncate, id="truncated"),
        pytest.param(lambda p: _replace_atomically(Path(os.devnull), p), id="renamed over by an empty file"),
    ],
)
async def test_a_damaged_store_file_is_503_and_fails_health_until_a_valid_store_is_back(
    served: tuple[TestClient[Any, Any], Path], traffic: Counter[int], cineca_db: Path, damage: Callable[[Path], None]
) -> None:
    client, path = served
    await asyncio.to_thread(damage, path)
    await _eventually(lambda: _unhealthy(client))
    for _ in range(3):  # and it stays so: never a stale answer from the old file or its page cache
        await _assert_unavailable_everywhere(client)
        await asyncio.sleep(0.15)
    assert traffic[503] > 0

    await asyncio.to_thread(_replace_atomically, cineca_db, path)
    await _eventually(lambda: _individuals_are(client, CINECA_INDIVIDUALS))
    assert (await client.get("/health")).status == 200
    document = await fetch(client, "GET", "/api/g_variants", params=ALLELE)
    assert document["responseSummary"]["exists"] is True


async def _individuals_are(client: TestClient[Any, Any], expected: int) -> bool:
    return await _individuals(client) == expected


async def test_a_store_replaced_atomically_by_another_is_answered_from_the_new_file(
    served: tuple[TestClient[Any, Any], Path], traffic: Counter[int], pi_db: Path
) -> None:
    client, path = served
    before = await fetch(client, "GET", "/api/datasets", params=COUNT)
    await asyncio.to_thread(_replace_atomically, pi_db, path)
    # The PI store holds CINECA in the PI layout plus the PI's own test datasets.
    await _eventually(lambda: _individuals_differ(client, CINECA_INDIVIDUALS))
    after = await fetch(client, "GET", "/api/datasets", params=COUNT)
    assert after["responseSummary"]["numTotalResults"] > before["responseSummary"]["numTotalResults"]
    assert (await client.get("/health")).status == 200
    assert traffic[200] > 0


async def _individuals_differ(client: TestClient[Any, Any], old: int) -> bool:
    count = await _individuals(client)
    return count is not None and count != old


async def test_a_store_overwritten_in_place_by_a_valid_store_is_answered_from_its_new_content(
    served: tuple[TestClient[Any, Any], Path], traffic: Counter[int], pi_db: Path
) -> None:
    """`cp other.db beacon.db` keeps the inode; the connections' page caches would answer the old data."""
    client, path = served
    data = await asyncio.to_thread(pi_db.read_bytes)
    await asyncio.to_thread(_overwrite_in_place, path, data)
    await _eventually(lambda: _individuals_differ(client, CINECA_INDIVIDUALS))
    assert (await client.get("/health")).status == 200
