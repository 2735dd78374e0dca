"""Issue 20: a cross-entity lookup pairs records of the same dataset only.

Datasets A and B hold the same individual and biosample ids (I1, I2; S1, S2). The variant
B_ONLY_22_200_G_A is in B only, carried by S1 (so I1) of B. Individual I1 of A shares the id but
not the variant: no way of asking for the variant's carriers may count it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.store.base import Store
from ingest.bff import load_bff
from tests.backends import LoadedStores, loaded_stores
from tests.conftest import AiohttpClient, fetch, make_config

DATA = Path(__file__).resolve().parent.parent / "data" / "bff" / "issue_20_same_ids_in_two_datasets"
B_ONLY = "B_ONLY_22_200_G_A"
B_ONLY_ALLELE = {"referenceName": "22", "start": [199], "referenceBases": "G", "alternateBases": "A"}


async def _load(store: Store) -> None:
    for name in ("A", "B"):
        await load_bff(DATA / name.lower(), name, store, assembly="GRCh38")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    yield from loaded_stores("issue20", tmp_path_factory.mktemp("issue-20"), _load)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, loaded: LoadedStores, backend: str) -> TestClient[Any, Any]:
    config = make_config(loaded.sqlite_uri, DatasetPolicy("A"), DatasetPolicy("B"))
    return await aiohttp_client(create_app(config, store=loaded.store_for(backend)))


async def counts(client: TestClient[Any, Any], path: str, **query: Any) -> dict[str, int]:
    """resultsCount per dataset, every dataset listed (POST, count granularity)."""
    body = {"query": {"requestedGranularity": "count", "includeResultsetResponses": "ALL", **query}}
    document = await fetch(client, "POST", path, body=body)
    return {rs["id"]: rs["resultsCount"] for rs in document["response"]["resultSets"]}


async def records(client: TestClient[Any, Any], path: str, **query: Any) -> dict[str, list[str]]:
    """Record ids per dataset (POST, record granularity)."""
    body = {"query": {"requestedGranularity": "record", **query}}
    document = await fetch(client, "POST", path, body=body)
    return {rs["id"]: [r["id"] for r in rs["results"]] for rs in document["response"]["resultSets"]}


@pytest.mark.parametrize(("entry", "carrier"), [("individuals", "I1"), ("biosamples", "S1")])
@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/api/{entry}", {"requestParameters": B_ONLY_ALLELE}, id="request parameters"),
        pytest.param(f"/api/g_variants/{B_ONLY}/{{entry}}", {}, id="the variant's lookup"),
        pytest.param(
            "/api/{entry}",
            {"filters": [{"id": "ENSGLOSSARY:0000174", "scope": "genomicVariation"}]},
            id="a filter scoped to genomicVariation",
        ),
    ],
)
async def test_records_of_another_dataset_do_not_carry_its_variant(
    client: TestClient[Any, Any], entry: str, carrier: str, path: str, query: dict[str, Any]
) -> None:
    """B's carrier of the variant (I1, S1) is found; A's record of the same id never is."""
    path = path.format(entry=entry)
    assert await counts(client, path, **query) == {"A": 0, "B": 1}
    assert await records(client, path, **query) == {"B": [carrier]}


async def test_a_variant_of_each_dataset_finds_only_its_own_carriers(client: TestClient[Any, Any]) -> None:
    """The same individual id in both datasets: each dataset's I1 reaches only its own variants."""
    assert await counts(client, "/api/individuals/I1/g_variants") == {"A": 0, "B": 1}
    assert await counts(client, "/api/individuals/I2/g_variants") == {"A": 1, "B": 0}
    allele_a = {"referenceName": "22", "start": [99], "referenceBases": "C", "alternateBases": "T"}
    assert await records(client, "/api/individuals", requestParameters=allele_a) == {"A": ["I2"]}


async def test_a_scoped_filter_on_datasets_names_the_dataset_holding_the_match(client: TestClient[Any, Any]) -> None:
    effect = {"id": "ENSGLOSSARY:0000174", "scope": "genomicVariation"}
    body = {"query": {"requestedGranularity": "record", "filters": [effect]}}
    document = await fetch(client, "POST", "/api/datasets", body=body)
    assert [d["id"] for d in document["response"]["collections"]] == ["B"]
