"""Issue 24: VCF carriers stored as sample sets answer every lookup through the server, on both backends.

The fixture VCFs (tests/data/vcf) give 1:1000:A>G to S1 (heterozygous), S2 (homozygous) and S4
(heterozygous), and X:5000:C>T to S1 (hemizygous) and S3 (heterozygous); the sample table makes
S1-S3 biosamples of I1-I3 (S4 is its own individual).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.model.granularity import Granularity
from beacon.store.base import Store
from beacon.store.carriers import HEMIZYGOUS, HETEROZYGOUS, HOMOZYGOUS
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import LoadedStores, loaded_stores
from tests.conftest import AiohttpClient, fetch, make_config

FIXTURES = Path(__file__).resolve().parent.parent / "data" / "vcf"
SAMPLES = "sample\tindividual\tsex\nS1\tI1\tfemale\nS2\tI2\tmale\nS3\tI3\tf\n"
COMMON = "1:1000:A>G"
ALLELE = {"referenceName": "1", "start": [999], "referenceBases": "A", "alternateBases": "G"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    directory = tmp_path_factory.mktemp("carrier-sets")
    table = directory / "samples.tsv"
    table.write_text(SAMPLES)

    async def load(store: Store) -> None:
        files = [FIXTURES / "haploid_x_and_missing_calls.vcf", FIXTURES / "multiallelic_indel_needs_trim.vcf"]
        await load_vcf(files, VcfOptions("geno", "GRCh37", samples_table=table), store, parse_in_child=False)

    yield from loaded_stores("carrier_sets_api", directory, load)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, loaded: LoadedStores, backend: str) -> TestClient[Any, Any]:
    config = make_config(loaded.sqlite_uri, DatasetPolicy("geno", max_granularity=Granularity.RECORD))
    return await aiohttp_client(create_app(config, store=loaded.store_for(backend)))


async def _records(client: TestClient[Any, Any], path: str, **query: Any) -> list[dict[str, Any]]:
    body = {"query": {"requestedGranularity": "record", **query}}
    document = await fetch(client, "POST", path, body=body)
    return [r for rs in document["response"]["resultSets"] for r in rs["results"]]


def _ids(found: list[dict[str, Any]]) -> list[str]:
    return sorted(str(r.get("id") or r.get("variantInternalId")) for r in found)


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        pytest.param(f"/api/g_variants/{COMMON}/biosamples", {}, ["S1", "S2", "S4"], id="a variant's biosamples"),
        pytest.param(f"/api/g_variants/{COMMON}/individuals", {}, ["I1", "I2", "S4"], id="a variant's individuals"),
        pytest.param("/api/biosamples/S1/g_variants", {}, [COMMON, "X:5000:C>T"], id="a biosample's variants"),
        pytest.param("/api/individuals/I3/g_variants", {}, ["X:5000:C>T"], id="an individual's variants"),
        pytest.param("/api/individuals", {"requestParameters": ALLELE}, ["I1", "I2", "S4"], id="an allele's carriers"),
        pytest.param(
            "/api/individuals",
            {"requestParameters": ALLELE, "filters": [{"id": "NCIT:C16576"}]},
            ["I1"],
            id="an allele's female carriers",
        ),
    ],
)
async def test_lookups_read_the_carrier_sets(
    client: TestClient[Any, Any], path: str, query: dict[str, Any], expected: list[str]
) -> None:
    assert _ids(await _records(client, path, **query)) == expected


async def test_a_variant_record_lists_its_carriers_as_loaded(client: TestClient[Any, Any]) -> None:
    (common,) = await _records(client, f"/api/g_variants/{COMMON}")
    assert common["caseLevelData"] == [
        {"biosampleId": "S1", "zygosity": HETEROZYGOUS},
        {"biosampleId": "S2", "zygosity": HOMOZYGOUS},
        {"biosampleId": "S4", "zygosity": HETEROZYGOUS},
    ]
    (haploid,) = await _records(client, "/api/g_variants/X:5000:C>T")
    assert haploid["caseLevelData"] == [
        {"biosampleId": "S1", "zygosity": HEMIZYGOUS},
        {"biosampleId": "S3", "zygosity": HETEROZYGOUS},
    ]
