"""A beacon behind a real issuer and broker on loopback, with an open, a registered and a controlled dataset.

Every party's keys (issuer, broker, a rogue authority that is not trusted) are generated once per
session; each test still gets its own servers and its own beacon.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from beacon.api.app import create_app
from beacon.config import Config, DatasetPolicy, SecurityConfig, TrustedIssuer, VisaBroker
from beacon.model.granularity import Granularity, SecurityLevel
from tests.conftest import CINECA, AiohttpClient, bff_store, make_config
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


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bff_store(tmp_path_factory.mktemp("tokens") / "beacon.db", TWO_INDIVIDUALS, (OPEN, REG, CTL))


@dataclass
class World:
    issuer: Authority
    broker: Authority
    rogue: Authority
    client: TestClient[Any, Any]


def trusting(issuer: Authority, broker: Authority, *, userinfo: bool = False, **settings: Any) -> SecurityConfig:
    """Security settings trusting `issuer` and `broker` for every asymmetric algorithm, keys never cached."""
    return SecurityConfig(
        issuers=(TrustedIssuer(issuer.url, AUDIENCE, algorithms=ALGORITHMS, userinfo=userinfo),),
        visa_brokers=(VisaBroker(broker.url, algorithms=ALGORITHMS),),
        jwks_refresh_min_s=0,
        **settings,
    )


async def serve_world(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    config: Config,
    *,
    userinfo: bool = False,
) -> World:
    """A beacon on `config` whose issuer and broker are trusted (`trusting`); the rogue is trusted for nothing."""
    issuer, broker, rogue = [await new_authority(aiohttp_server, key_ring, p) for p in ("issuer", "broker", "rogue")]
    served = replace(config, security=trusting(issuer, broker, userinfo=userinfo))
    return World(issuer, broker, rogue, await aiohttp_client(create_app(served)))


@pytest.fixture
async def world(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    tiny_db: Path,
) -> World:
    """The three datasets of POLICIES, callers' userinfo asked of the issuer."""
    config = make_config(f"sqlite:///{tiny_db}", *POLICIES)
    return await serve_world(aiohttp_client, aiohttp_server, key_ring, config, userinfo=True)


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


@pytest.fixture(scope="session")
def cohort_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bff_store(tmp_path_factory.mktemp("cohort") / "beacon.db", CINECA, (PUB, FLOORED, SECRET, TYPO), "GRCh37")


@dataclass
class Cohort:
    issuer: Authority
    broker: Authority
    client: TestClient[Any, Any]
    audit: Path
    db: Path


CohortFactory = Callable[..., Awaitable[Cohort]]


@pytest.fixture
def make_cohort(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    cohort_db: Path,
    tmp_path: Path,
) -> CohortFactory:
    """Beacons on the cohort store that fail closed (no datasets_default), audited, with `security` settings."""

    async def make(**security: Any) -> Cohort:
        issuer, broker = [await new_authority(aiohttp_server, key_ring, p) for p in ("issuer", "broker")]
        audit = tmp_path / "audit.jsonl"
        settings = trusting(issuer, broker, audit_log=audit, **security)
        base = make_config(f"sqlite:///{cohort_db}", *COHORT_POLICIES)
        config = replace(base, security=settings, datasets_default=None)
        return Cohort(issuer, broker, await aiohttp_client(create_app(config)), audit, cohort_db)

    return make


@pytest.fixture
async def cohort(make_cohort: CohortFactory) -> Cohort:
    return await make_cohort()
