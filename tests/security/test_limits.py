"""Integers a request carries stay inside the genome and inside 64 bits, or the answer is a 400.

Before, `start=2**64` (or a page offset, a length, an HGVS position that large) reached the store and
came back as a 500 (OverflowError converting to SQLite's or BSON's 64-bit integers). Every entry
endpoint, GET and POST, on both backends, through a real server.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.model.entry_types import EntryTypeTable
from beacon.model.request import MAX_INTEGER
from tests.conftest import fetch

ENTRY_PATHS = [f"/api/{e.path}" for e in EntryTypeTable().enabled()] + [
    "/api/individuals/HG00096/g_variants",
    "/api/g_variants/chr22_16050075_A_G/biosamples",
]
BEYOND = [
    pytest.param(2**64, id="2^64"),
    pytest.param(2**63, id="2^63 (one past int64)"),
    pytest.param(MAX_INTEGER + 1, id="one past the genome bound"),
    pytest.param(-1, id="negative"),
    pytest.param(-(2**64), id="-2^64"),
]


async def _ask(client: TestClient[Any, Any], method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """GET with a query string or POST with the same parameters in the body; a 400 Beacon error is expected."""
    if method == "GET":
        query = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in params.items()}
        return await fetch(client, "GET", path, params=query, status=400)
    body: dict[str, Any] = {"query": {"requestedGranularity": "record"}}
    pagination = {k: params.pop(k) for k in ("skip", "limit") if k in params}
    if pagination:
        body["query"]["pagination"] = pagination
    params.pop("requestedGranularity", None)
    if params:
        body["query"]["requestParameters"] = params
    return await fetch(client, "POST", path, body=body, status=400)


@pytest.mark.parametrize("value", BEYOND)
@pytest.mark.parametrize("name", ["skip", "limit"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ENTRY_PATHS)
async def test_a_page_number_outside_64_bits_or_negative_is_400_on_every_entry_endpoint(
    cineca: TestClient[Any, Any], path: str, method: str, name: str, value: int
) -> None:
    document = await _ask(cineca, method, path, {name: value, "requestedGranularity": "record"})
    message = document["error"]["errorMessage"]
    assert message.startswith(name if method == "GET" else f"query.pagination.{name}: ")
    assert str(value) in message or str(MAX_INTEGER) in message


VARIANT = {"referenceName": "22", "assemblyId": "GRCh37"}


def _variant_params(name: str, value: int) -> dict[str, Any]:
    if name == "start":
        return {**VARIANT, "start": [value], "referenceBases": "A", "alternateBases": "G"}
    if name == "end":
        return {**VARIANT, "start": [16050074], "end": [value]}
    if name == "bracket":
        return {**VARIANT, "start": [16050000, value], "end": [16050100, 16050200]}
    return {**VARIANT, "start": [16050000], "end": [16050100], "variantType": "DEL", name: value}


@pytest.mark.parametrize("value", BEYOND)
@pytest.mark.parametrize("name", ["start", "end", "bracket", "variantMinLength", "variantMaxLength"])
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ["/api/g_variants", "/api/individuals", "/api/biosamples"])
async def test_a_position_or_length_outside_the_genome_is_400(
    cineca: TestClient[Any, Any], path: str, method: str, name: str, value: int
) -> None:
    document = await _ask(cineca, method, path, _variant_params(name, value))
    assert f"expected an integer from 0 to {MAX_INTEGER}" in document["error"]["errorMessage"]


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param(f"NC_000022.10:g.{2**64}A>G", id="substitution at 2^64"),
        pytest.param(f"NC_000022.10:g.{MAX_INTEGER + 1}A>G", id="substitution past the genome bound"),
        pytest.param(f"NC_000022.10:g.16050075_{2**64}del", id="deletion ending at 2^64"),
        pytest.param(f"NC_000022.10:g.{2**63}dup", id="duplication at 2^63"),
        pytest.param(f"NC_000022.10:g.{2**64}_{2**64 + 1}insA", id="insertion at 2^64"),
        pytest.param(f"NC_000022.10:g.{'9' * 400}delinsA", id="a 400-digit delins"),
        pytest.param("NC_000022.10:g.0A>G", id="position 0"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_hgvs_position_outside_the_genome_is_400(
    cineca: TestClient[Any, Any], method: str, expression: str
) -> None:
    document = await _ask(cineca, method, "/api/g_variants", {"genomicAlleleShortForm": expression})
    assert "is outside any genome" in document["error"]["errorMessage"]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_the_largest_accepted_integers_are_answered(cineca: TestClient[Any, Any], method: str) -> None:
    params: dict[str, Any] = {**VARIANT, "start": [MAX_INTEGER - 1], "end": [MAX_INTEGER]}
    if method == "GET":
        query = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in params.items()}
        document = await fetch(cineca, "GET", "/api/g_variants", params={**query, "skip": str(MAX_INTEGER)})
    else:
        body = {"query": {"requestParameters": params, "pagination": {"skip": MAX_INTEGER, "limit": MAX_INTEGER}}}
        document = await fetch(cineca, "POST", "/api/g_variants", body=body)
    assert document["responseSummary"]["exists"] is False
    hgvs = {"genomicAlleleShortForm": f"NC_000022.10:g.{MAX_INTEGER}A>G"}
    document = await fetch(cineca, "GET", "/api/g_variants", params=hgvs)
    assert document["responseSummary"]["exists"] is False
