"""Sequence queries are trimmed as the loader trims alleles, and `start` may be a string or a bare integer.

A client that sends the VCF's untrimmed form of a stored allele (`TATATA>AATATA`, stored as `T>A`
one base further; `GTA>GA`, stored as `GT>G`) finds it, on GET and POST, on both backends.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.genome.alleles import is_trimmable, trim
from beacon.model.request import VariantParams
from beacon.query.variants import stored_form
from beacon.store.base import Store
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import LoadedStores, loaded_stores
from tests.conftest import AiohttpClient, fetch, make_config

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vcf"


async def _load(store: Store) -> None:
    await load_vcf([FIXTURES / "multiallelic_indel_needs_trim.vcf"], VcfOptions("small", "GRCh37"), store)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    yield from loaded_stores("trim", tmp_path_factory.mktemp("trim"), _load)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, loaded: LoadedStores, backend: str) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_config(loaded.sqlite_uri), store=loaded.store_for(backend)))


async def _found(client: TestClient[Any, Any], method: str, params: dict[str, Any]) -> set[str]:
    if method == "GET":
        query = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in params.items()}
        doc = await fetch(client, "GET", "/api/g_variants", params={**query, "requestedGranularity": "record"})
    else:
        body = {"query": {"requestParameters": params, "requestedGranularity": "record"}}
        doc = await fetch(client, "POST", "/api/g_variants", body=body)
    return {r["variantInternalId"] for s in doc["response"].get("resultSets", []) for r in s["results"]}


CASES = [
    pytest.param({"start": [66380], "referenceBases": "TATATA", "alternateBases": "AATATA"}, "1:66381:T>A", id="shared suffix"),
    pytest.param({"start": [69999], "referenceBases": "GTA", "alternateBases": "GA"}, "1:70000:GT>G", id="deletion with a trailing base"),
    pytest.param({"start": [66379], "referenceBases": "CTATATA", "alternateBases": "CAATATA"}, "1:66381:T>A", id="shared prefix and suffix"),
    pytest.param({"start": "66380", "referenceBases": "T", "alternateBases": "A"}, "1:66381:T>A", id="start as a string"),
    pytest.param({"start": 66380, "referenceBases": "T", "alternateBases": "A"}, "1:66381:T>A", id="start as an integer"),
]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("params", "expected"), CASES)
async def test_untrimmed_and_loosely_typed_queries_find_the_stored_allele(
    client: TestClient[Any, Any], method: str, params: dict[str, Any], expected: str
) -> None:
    assert await _found(client, method, {"referenceName": "1", "assemblyId": "GRCh37", **params}) == {expected}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_different_allele_in_untrimmed_form_still_finds_nothing(
    client: TestClient[Any, Any], method: str
) -> None:
    params = {"referenceName": "1", "start": [66380], "referenceBases": "TATATA", "alternateBases": "CATATA"}
    assert await _found(client, method, params) == set()


def test_the_query_trim_is_the_loader_trim() -> None:
    from ingest.vcf import normalize

    assert normalize.trim is trim  # the loader trims with the same function
    params = VariantParams(referenceName="1", start=(100,), referenceBases="AT", alternateBases="ATT")
    assert stored_form(params) == VariantParams(
        referenceName="1", start=(100,), referenceBases="A", alternateBases="AT"
    )
    # A range query and wildcards are left as they are.
    ranged = VariantParams(referenceName="1", start=(100,), end=(200,), referenceBases="AT", alternateBases="ATT")
    assert stored_form(ranged) == ranged
    wildcard = VariantParams(referenceName="1", start=(100,), referenceBases="AN", alternateBases="AT")
    assert stored_form(wildcard) == wildcard


def test_is_trimmable_says_exactly_when_trim_changes_a_concrete_allele() -> None:
    # Every pair of alleles up to three bases over ACGT and N: the lane's cheap check (length and end
    # bases before any pattern) must agree with trimming itself, and never claim an N allele.
    alleles = ["".join(bases) for n in (1, 2, 3) for bases in itertools.product("ACGTN", repeat=n)]
    for ref, alt in itertools.product(alleles, repeat=2):
        concrete = "N" not in ref + alt
        assert is_trimmable(ref, alt) == (concrete and trim(0, ref, alt) != (0, ref, alt)), (ref, alt)
