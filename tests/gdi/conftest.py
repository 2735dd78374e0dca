"""The GDI profile (deploy/gdi/) on the synthetic data of tests/data/gdi/, on both backends, behind loopback LS Login.

The two beacons run with their configuration files as shipped; only what a test cannot use is
replaced: the store (a loaded test store), the login service (a loopback issuer and broker with the
same settings but test keys and audience) and the audit log's place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from beacon.api.app import create_app
from beacon.config import Config, TrustedIssuer, VisaBroker, load_config
from beacon.store.base import Store
from ingest.bff import load_bff
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import LoadedStores, loaded_stores
from tests.conftest import ROOT, AiohttpClient
from tests.security.conftest import key_ring
from tests.security.issuers import ALGORITHMS, AUDIENCE, Authority, KeyRing, new_authority

__all__ = ["key_ring"]  # the session's signing keys, shared with the security suite

PROFILE = ROOT / "deploy" / "gdi"
DATA = ROOT / "tests" / "data" / "gdi"
AGGREGATED_VCF = DATA / "goe_aggregated_country_sex.vcf"
PHENOTYPES = DATA / "phenotypes"
AF_DATASET, INDIVIDUALS_DATASET = "goe-nl", "goe-nl-phenotypes"  # as declared in deploy/gdi/*.yaml


@pytest.fixture(scope="module")
def af_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    async def load(store: Store) -> None:
        await load_vcf([AGGREGATED_VCF], VcfOptions(AF_DATASET, "GRCh37", on_error="fail"), store)

    yield from loaded_stores("gdi_af", tmp_path_factory.mktemp("gdi-af"), load)


@pytest.fixture(scope="module")
def individuals_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    async def load(store: Store) -> None:
        await load_bff(PHENOTYPES, INDIVIDUALS_DATASET, store, on_error="fail")

    yield from loaded_stores("gdi_individuals", tmp_path_factory.mktemp("gdi-individuals"), load)


@pytest.fixture(scope="session")
def profile() -> dict[str, Config]:
    """deploy/gdi/*.yaml as the real loader reads them (before any event loop runs)."""
    return {name: load_config(PROFILE / f"{name}.yaml", env={}) for name in ("allele-frequency", "individuals")}


def profile_config(config: Config, store_uri: str, issuer: Authority, broker: Authority, audit: Path) -> Config:
    """A profile configuration with the test store, the loopback login service and a temporary audit log."""
    security = config.security
    issuers = tuple(TrustedIssuer(issuer.url, AUDIENCE, ALGORITHMS, userinfo=i.userinfo) for i in security.issuers)
    brokers = tuple(VisaBroker(broker.url, algorithms=ALGORITHMS) for _ in security.visa_brokers)
    security = replace(
        security,
        issuers=issuers,
        visa_brokers=brokers,
        jwks_refresh_min_s=0,
        audit_log=audit if security.audit_log else None,
    )
    return replace(config, store_uri=store_uri, security=security)


@dataclass
class Node:
    """A GDI node: both beacons, and the login service that signs its callers' tokens and visas."""

    af: TestClient[Any, Any]
    individuals: TestClient[Any, Any]
    issuer: Authority
    broker: Authority
    af_config: Config
    individuals_config: Config


NodeFactory = Callable[..., Awaitable[Node]]


@pytest.fixture
def make_node(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    af_stores: LoadedStores,
    individuals_stores: LoadedStores,
    backend: str,
    tmp_path: Path,
    profile: dict[str, Config],
) -> NodeFactory:
    """Both beacons of the profile on `backend`; `individuals` overrides fields of the individuals dataset policy."""

    async def make(**individuals: Any) -> Node:
        issuer, broker = [await new_authority(aiohttp_server, key_ring, p) for p in ("issuer", "broker")]
        audit = tmp_path / "audit.jsonl"
        af_config = profile_config(profile["allele-frequency"], af_stores.sqlite_uri, issuer, broker, audit)
        ind_config = profile_config(profile["individuals"], individuals_stores.sqlite_uri, issuer, broker, audit)
        if individuals:
            ind_config = replace(ind_config, datasets=tuple(replace(d, **individuals) for d in ind_config.datasets))
        af = await aiohttp_client(create_app(af_config, store=af_stores.store_for(backend)))
        ind = await aiohttp_client(create_app(ind_config, store=individuals_stores.store_for(backend)))
        return Node(af, ind, issuer, broker, af_config, ind_config)

    return make


@pytest.fixture
async def node(make_node: NodeFactory) -> Node:
    return await make_node()
