"""The demo beacon is network-checker clean: every URL /map lists answers a bare GET, schema-valid, far below 5 s."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from beacon.api.app import create_app
from beacon.config import Config, load_config
from beacon.store.base import Store
from ingest.bff import load_bff
from ingest.demo import DATASET_ID, generate_demo
from tests.backends import sqlite_loaded
from tests.conftest import ROOT, AiohttpClient
from tests.network_checker import walk_map

NETWORK_LIMIT_S = 5.0  # the ELIXIR network discards a member's answer after this


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_demo(out / "bff", individuals=120)

    async def load(store: Store) -> None:
        await load_bff(out / "bff", DATASET_ID, store, assembly="GRCh38", on_error="fail")

    return sqlite_loaded(out / "beacon.db", load)


@pytest.fixture
def demo_config(demo_db: Path) -> Config:
    """The configuration `make run` serves (conf/beacon.yaml), on the demo cohort."""
    config = load_config(ROOT / "conf" / "beacon.yaml", env={})
    beacon = replace(config.beacon, base_url="http://beacon.example/api")
    return replace(config, store_uri=f"sqlite:///{demo_db}", beacon=beacon)


async def test_every_url_the_map_lists_answers_a_bare_get_schema_valid_and_fast(
    aiohttp_client: AiohttpClient, demo_config: Config
) -> None:
    demo = await aiohttp_client(create_app(demo_config))
    walk = await walk_map(demo, demo_config.entry_types)
    print(f"network check: {len(walk.latencies)} URLs, p95 {walk.p95() * 1000:.1f} ms")
    assert len(walk.latencies) >= 20
    assert walk.p95() < NETWORK_LIMIT_S / 10, sorted(walk.latencies.items(), key=lambda kv: -kv[1])[:5]
