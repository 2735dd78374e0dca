"""A beacon behind a real issuer and broker on loopback, with an open, a registered and a controlled dataset.

Every party's keys (issuer, broker, a rogue authority that is not trusted) are generated once per
session; each test still gets its own servers and its own beacon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from beacon.api.app import create_app
from beacon.config import DatasetPolicy, SecurityConfig, TrustedIssuer, VisaBroker
from beacon.model.granularity import SecurityLevel
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.conftest import AiohttpClient, make_config
from tests.security.issuers import ALGORITHMS, AUDIENCE, CTL_VISA, KIDS, Authority, KeyRing, new_authority, new_key

OPEN, REG, CTL = "open-ds", "reg-ds", "ctl-ds"
TWO_INDIVIDUALS = Path(__file__).resolve().parent.parent / "data" / "bff" / "two_individuals"
POLICIES = (
    DatasetPolicy(OPEN, SecurityLevel.PUBLIC),
    DatasetPolicy(REG, SecurityLevel.REGISTERED),
    DatasetPolicy(CTL, SecurityLevel.CONTROLLED, visas=(CTL_VISA,)),
)


@pytest.fixture(scope="session")
def key_ring() -> KeyRing:
    return {(party, kind): new_key(kind) for party in ("issuer", "broker", "rogue") for kind, _ in KIDS.values()}


async def _load(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        for dataset in (OPEN, REG, CTL):
            await load_bff(TWO_INDIVIDUALS, dataset, store)
    finally:
        await store.close()


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tokens") / "beacon.db"
    asyncio.run(_load(path))
    return path


@dataclass
class World:
    issuer: Authority
    broker: Authority
    rogue: Authority
    client: TestClient[Any, Any]


@pytest.fixture
async def world(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    tiny_db: Path,
) -> World:
    """Issuer and broker trusted for every asymmetric algorithm; the rogue trusted for nothing."""
    issuer, broker, rogue = [await new_authority(aiohttp_server, key_ring, p) for p in ("issuer", "broker", "rogue")]
    security = SecurityConfig(
        issuers=(TrustedIssuer(issuer.url, AUDIENCE, algorithms=ALGORITHMS, userinfo=True),),
        visa_brokers=(VisaBroker(broker.url, algorithms=ALGORITHMS),),
        jwks_refresh_min_s=0,
    )
    config = replace(make_config(f"sqlite:///{tiny_db}", *POLICIES), security=security)
    return World(issuer, broker, rogue, await aiohttp_client(create_app(config)))
