"""The genotype budget is spent by what a question learns, not by the endpoint it is asked at.

On the code before this suite, once `/g_variants` answered 429 the same allele questions still
answered through `/individuals` and `/biosamples` request parameters, filters on variant fields,
`/g_variants/{id}` (200 against 404), its lookups and `/datasets`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.security.conftest import FLOORED, PUB, Cohort, CohortFactory
from tests.security.probe import ask

BUDGET = 3
ALLELE = {"referenceName": "22", "start": "16050074", "alternateBases": "A", "assemblyId": "GRCh37"}
VARIANT_ID = "chr22_16050075_A_G"
# The same allele in an untrimmed VCF form (a shared trailing base): the planner trims it to G>A.
UNTRIMMED = {**ALLELE, "referenceBases": "GT", "alternateBases": "AT"}


@pytest.fixture
async def budgeted(make_cohort: CohortFactory) -> Cohort:
    return await make_cohort(budget_queries=BUDGET)


def _variant_filter(n: int) -> dict[str, str]:
    return {
        "id": "variantInternalId",
        "operator": "=",
        "value": f"chr22_{16050075 + n}_A_G",
        "scope": "genomicVariation",
    }


# Every way to ask whether an allele is in the registered dataset, as (path, GET params or None, POST query or None).
SIDE_DOORS: dict[str, tuple[str, dict[str, str] | None, dict[str, Any] | None]] = {
    "/g_variants with request parameters": ("/api/g_variants", ALLELE, None),
    "/g_variants with the allele's untrimmed form": ("/api/g_variants", UNTRIMMED, None),
    "/individuals with the allele's untrimmed form (POST)": (
        "/api/individuals",
        None,
        {"requestParameters": UNTRIMMED},
    ),
    "/individuals with request parameters": ("/api/individuals", ALLELE, None),
    "/biosamples with request parameters (POST)": ("/api/biosamples", None, {"requestParameters": ALLELE}),
    "/individuals with a variant-field filter": ("/api/individuals", None, {"filters": [_variant_filter(0)]}),
    "/runs with a variant-field filter": ("/api/runs", None, {"filters": [_variant_filter(0)]}),
    "/g_variants with an unscoped variant-field filter": (
        "/api/g_variants",
        None,
        {"filters": [{"id": "variantInternalId", "operator": "=", "value": VARIANT_ID}]},
    ),
    "/individuals with a population filter": (
        "/api/individuals",
        None,
        {"filters": [{"id": "countryFilter", "operator": "=", "value": "GB", "scope": "population"}]},
    ),
    # Population terms are a populations row per variant in SQLite (schema 5): the ontology form of the filter too.
    "/individuals with a population term scoped to variants": (
        "/api/individuals",
        None,
        {"filters": [{"id": "population:GB", "scope": "genomicVariation"}]},
    ),
    "/g_variants with an unscoped population term": ("/api/g_variants", None, {"filters": [{"id": "population:GB"}]}),
    # A variant's own id is read from the id column in SQLite (schema 5): a pattern on it too.
    "/g_variants with a variant-id pattern": (
        "/api/g_variants",
        None,
        {"filters": [{"id": "variantInternalId", "operator": "=", "value": "chr22_1605%"}]},
    ),
    "/g_variants/{id}": (f"/api/g_variants/{VARIANT_ID}", {}, None),
    "/g_variants/{id} of an absent variant": ("/api/g_variants/chr22_1_A_G", {}, None),
    "/g_variants/{id}/individuals": (f"/api/g_variants/{VARIANT_ID}/individuals", {}, None),
    "/g_variants/{id}/biosamples": (f"/api/g_variants/{VARIANT_ID}/biosamples", {}, None),
    "/individuals/{id}/g_variants": ("/api/individuals/HG00096/g_variants", {}, None),
    "/datasets/{id}/g_variants": (f"/api/datasets/{FLOORED}/g_variants", {}, None),
    "/datasets with request parameters": ("/api/datasets", ALLELE, None),
    "/cohorts with request parameters": ("/api/cohorts", ALLELE, None),
}


async def _door(cohort: Cohort, token: str, door: str) -> tuple[int, dict[str, Any]]:
    path, params, query = SIDE_DOORS[door]
    if query is not None:
        return await ask(cohort, path, token=token, query={**query, "datasetIds": [FLOORED]})
    return await ask(cohort, path, token=token, params={**(params or {}), "datasetIds": FLOORED})


@pytest.mark.parametrize("door", list(SIDE_DOORS))
async def test_every_genotype_question_spends_the_budget_and_none_answers_once_it_is_spent(
    budgeted: Cohort, door: str
) -> None:
    token = budgeted.issuer.token()
    for _ in range(BUDGET):
        status, document = await _door(budgeted, token, door)
        assert status in (200, 404), document
    status, document = await _door(budgeted, token, door)
    assert status == 429, document
    # And the spent budget closes every other door too.
    for other in SIDE_DOORS:
        status, document = await _door(budgeted, token, other)
        assert status == 429, (other, document)


async def test_a_question_is_charged_per_allele_it_tests_all_or_nothing(budgeted: Cohort) -> None:
    token = budgeted.issuer.token()
    many = {"filters": [_variant_filter(n) for n in range(20)], "datasetIds": [FLOORED]}
    status, document = await ask(budgeted, "/api/individuals", token=token, query=many)
    assert status == 429, document
    assert "this request tests 20" in document["error"]["errorMessage"]
    # Nothing was spent by the refused question: the whole budget is still there.
    for _ in range(BUDGET):
        status, _document = await _door(budgeted, token, "/g_variants with request parameters")
        assert status == 200
    assert (await _door(budgeted, token, "/g_variants with request parameters"))[0] == 429


async def test_questions_without_genotypes_and_public_data_spend_nothing(budgeted: Cohort) -> None:
    token = budgeted.issuer.token()
    for _ in range(BUDGET + 2):
        status, _document = await ask(budgeted, "/api/individuals", token=token, params={"datasetIds": FLOORED})
        assert status == 200
        # Public data: anonymous callers are bounded by the rate limit, not the budget.
        status, _document = await ask(budgeted, "/api/g_variants", params={**ALLELE, "datasetIds": PUB})
        assert status == 200
    assert (await _door(budgeted, token, "/g_variants with request parameters"))[0] == 200


async def test_the_audit_log_says_what_each_question_cost(budgeted: Cohort) -> None:
    token = budgeted.issuer.token()
    query = {"filters": [_variant_filter(0), _variant_filter(1)], "datasetIds": [FLOORED]}
    status, _document = await ask(budgeted, "/api/individuals", token=token, query=query)
    assert status == 200
    await budgeted.client.close()  # flushes the audit log
    text = await asyncio.to_thread(budgeted.audit.read_text)
    line = text.splitlines()[-1]
    assert '"budgetSpent":2' in line
    assert '"scope":"genomicVariation"' in line
    assert token not in text
