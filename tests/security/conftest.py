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
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.conftest import CINECA, AiohttpClient, make_config
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


# A CINECA cohort (2,504 individuals, 1,005 variants) loaded four times: public and registered data
# whose counts are floored at 5, controlled data, and a dataset whose id is a case typo of the
# registered one (conf names it nowhere). The attacks of tests/security/test_disclosure.py run on it.
PUB, FLOORED, SECRET, TYPO = "pub-ds", "reg-ds", "ctl-ds", "Reg-ds"
FLOOR = 5
COHORT_POLICIES = (
    DatasetPolicy(PUB, SecurityLevel.PUBLIC, granularity={"anonymous": Granularity.COUNT}, count_floor=FLOOR),
    DatasetPolicy(FLOORED, SecurityLevel.REGISTERED, granularity={"registered": Granularity.COUNT}, count_floor=FLOOR),
    DatasetPolicy(SECRET, SecurityLevel.CONTROLLED, visas=(CTL_VISA,), count_floor=FLOOR),
)


async def _load_cohort(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    try:
        for dataset in (PUB, FLOORED, SECRET, TYPO):
            await load_bff(CINECA, dataset, store, assembly="GRCh37")
    finally:
        await store.close()


@pytest.fixture(scope="session")
def cohort_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "beacon.db"
    asyncio.run(_load_cohort(path))
    return path


@dataclass
class Cohort:
    issuer: Authority
    broker: Authority
    client: TestClient[Any, Any]
    audit: Path
    db: Path


async def cohort_world(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    db: Path,
    audit: Path,
    **security: Any,
) -> Cohort:
    """A beacon on the cohort store that fails closed (no datasets_default), audited to `audit`."""
    issuer, broker = [await new_authority(aiohttp_server, key_ring, p) for p in ("issuer", "broker")]
    settings = SecurityConfig(
        issuers=(TrustedIssuer(issuer.url, AUDIENCE, algorithms=ALGORITHMS),),
        visa_brokers=(VisaBroker(broker.url, algorithms=ALGORITHMS),),
        jwks_refresh_min_s=0,
        audit_log=audit,
        **security,
    )
    config = replace(make_config(f"sqlite:///{db}", *COHORT_POLICIES), security=settings, datasets_default=None)
    return Cohort(issuer, broker, await aiohttp_client(create_app(config)), audit, db)


@pytest.fixture
async def cohort(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    cohort_db: Path,
    tmp_path: Path,
) -> Cohort:
    return await cohort_world(aiohttp_client, aiohttp_server, key_ring, cohort_db, tmp_path / "audit.jsonl")
