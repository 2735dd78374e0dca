"""Fixtures of the aggregator tests: a member database holding other datasets, and the standard network."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.store.base import Store
from ingest.bff import load_bff
from tests.aggregator.loopback import MISBEHAVING, Network, ServerFactory, build_network
from tests.backends import sqlite_loaded
from tests.conftest import CINECA, AiohttpClient


@pytest.fixture(scope="module")
def copies_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CINECA under two more dataset ids, so members hold different datasets."""

    async def load(store: Store) -> None:
        await load_bff(CINECA, "copy-a", store, assembly="GRCh37")

    return sqlite_loaded(tmp_path_factory.mktemp("copies") / "beacon.db", load)


@pytest.fixture
async def network(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path, pi_db: Path, copies_db: Path
) -> Network:
    """Five real beacons and six misbehaving members (MISBEHAVING, plus a refused connection)."""
    dbs = {"cineca": cineca_db, "pi": pi_db, "copies": copies_db, "cineca-mirror": cineca_db, "pi-mirror": pi_db}
    return await build_network(aiohttp_server, aiohttp_client, dbs, MISBEHAVING)
