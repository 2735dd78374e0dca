"""Shared fixtures: real stores loaded from real data, and real aiohttp servers on them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from blockbuster import BlockBuster, blockbuster_ctx

from beacon.api.app import create_app
from beacon.config import BeaconInfo, Config, DatasetPolicy, Organization
from beacon.model.granularity import Granularity
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.spec_check import response_problems

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BEACON_TEST_DATA", ROOT.parent / "shared" / "data"))
CINECA = DATA / "cineca"
CINECA_ID = "CINECA_synthetic_cohort_EUROPE_UK1"
PI_TEST = DATA / "pi-test-fixtures"

AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


def make_config(store_uri: str, *policies: DatasetPolicy) -> Config:
    return Config(
        beacon=BeaconInfo(
            id="org.example.beacon.test",
            name="Test Beacon",
            organization=Organization(id="org.example", name="Example"),
            base_url="http://testserver/api",
        ),
        store_uri=store_uri,
        datasets=policies,
    )


async def _load(path: Path, loads: list[tuple[Path, str, str | None]]) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        for directory, dataset, assembly in loads:
            await load_bff(directory, dataset, store, assembly=assembly)
    finally:
        await store.close()


@pytest.fixture(scope="session")
def cineca_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The classic-layout CINECA cohort, loaded once per test session."""
    path = tmp_path_factory.mktemp("cineca") / "beacon.db"
    asyncio.run(_load(path, [(CINECA, CINECA_ID, "GRCh37")]))
    return path


@pytest.fixture(scope="session")
def pi_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PI layout: CINECA as the EGA PI loads it, plus the PI's own test datasets."""
    path = tmp_path_factory.mktemp("pi") / "beacon.db"
    asyncio.run(
        _load(
            path,
            [
                (CINECA / "pi-format", CINECA_ID, "GRCh37"),
                (PI_TEST / "test", "test", None),
                (PI_TEST / "test2", "test2", None),
            ],
        )
    )
    return path


@pytest.fixture
def cineca_config(cineca_db: Path) -> Config:
    return make_config(f"sqlite:///{cineca_db}", DatasetPolicy(CINECA_ID, max_granularity=Granularity.RECORD))


@pytest.fixture
async def cineca(aiohttp_client: AiohttpClient, cineca_config: Config) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(cineca_config))


@pytest.fixture
def pi_config(pi_db: Path) -> Config:
    return make_config(f"sqlite:///{pi_db}")


@pytest.fixture
async def pi(aiohttp_client: AiohttpClient, pi_config: Config) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(pi_config))


async def fetch(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: object = None,
    status: int = 200,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """Call the API, assert the status and JSON content type, and validate against the official schema."""
    if method == "GET":
        resp = await client.get(path, params=params)
    else:
        resp = await client.post(path, json=body if body is not None else {})
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    document: dict[str, Any] = await resp.json()
    # Schema files load lazily while validating: keep that file I/O off the event loop.
    assert await asyncio.to_thread(response_problems, document, endpoint) == []
    if status >= 400:
        assert document["error"]["errorCode"] == status
    return document


__all__ = ["fetch", "make_config", "replace"]


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any test whose event loop makes a blocking call (file, socket, sleep) outside named exemptions."""
    with blockbuster_ctx() as bb:
        # pytest and the aiohttp test server log and import on the loop; not our handlers.
        for name in ("os.stat", "os.path.abspath", "io.TextIOWrapper.read", "io.BufferedReader.read"):
            bb.functions[name].can_block_in("importlib/_bootstrap_external.py", "get_data")
        # Indexed point lookups cost less than a thread hand-off and run inline by design.
        for name, function in bb.functions.items():
            if name.startswith("sqlite3."):
                function.can_block_in("beacon/store/sqlite.py", "_run_inline")
        yield bb
