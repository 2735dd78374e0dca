"""Collections of datasets on several assemblies are listed whole and paged across assemblies.

On the code before this test, `/api/datasets` and `/api/cohorts` listed only the first assembly's
datasets: two datasets counted and one listed, 720 cohorts counted and 400 listed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from beacon.api.app import create_app
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.conftest import AiohttpClient, fetch, make_config

COHORTS = {"grch37-ds": ("GRCh37", 400), "grch38-ds": ("GRCh38", 320)}


def _write(folder: Path, dataset: str, cohorts: int) -> None:
    folder.mkdir(parents=True)
    (folder / "datasets.json").write_text(json.dumps([{"id": dataset, "name": f"Dataset {dataset}"}]))
    rows = [{"id": f"{dataset}-c{n:03d}", "name": f"Cohort {n}", "cohortType": "study-defined"} for n in range(cohorts)]
    (folder / "cohorts.json").write_text(json.dumps(rows))
    (folder / "individuals.json").write_text(json.dumps([{"id": f"{dataset}-P1", "sex": {"id": "NCIT:C16576"}}]))


async def _load(db: Path, root: Path) -> None:
    store = SqliteStore(db)
    await store.open()
    try:
        for dataset, (assembly, _n) in COHORTS.items():
            await load_bff(root / dataset, dataset, store, assembly=assembly)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def two_assemblies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("assemblies")
    for dataset, (_assembly, n) in COHORTS.items():
        _write(root / dataset, dataset, n)
    db = root / "beacon.db"
    asyncio.run(_load(db, root))
    return db


async def _page(client: Any, path: str, skip: int, limit: int) -> dict[str, Any]:
    params = {"requestedGranularity": "record", "skip": str(skip), "limit": str(limit)}
    return await fetch(client, "GET", path, params=params)


async def test_datasets_of_two_assemblies_are_both_listed(aiohttp_client: AiohttpClient, two_assemblies: Path) -> None:
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{two_assemblies}")))
    document = await _page(client, "/api/datasets", 0, 10)
    assert document["responseSummary"]["numTotalResults"] == 2
    assert [d["id"] for d in document["response"]["collections"]] == list(COHORTS)


async def test_720_cohorts_over_two_assemblies_are_listed_and_paged_whole(
    aiohttp_client: AiohttpClient, two_assemblies: Path
) -> None:
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{two_assemblies}")))
    document = await _page(client, "/api/cohorts", 0, 1000)
    ids = [c["id"] for c in document["response"]["collections"]]
    assert document["responseSummary"]["numTotalResults"] == 720
    assert len(ids) == len(set(ids)) == 720
    # Pages in order, across the boundary between the two assemblies' datasets.
    seen: list[str] = []
    for skip in range(8):
        page = await _page(client, "/api/cohorts", skip, 100)
        seen += [c["id"] for c in page["response"]["collections"]]
    assert seen == ids
