"""A sequence query in its untrimmed VCF form is the same question as the stored form: same disclosure, same answer.

Trimming happens in the planner (beacon/query/variants.py: stored_form), after the decision point; the
fast lane refuses untrimmed alleles, so it cannot answer them with a different lookup.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import FLOOR, FLOORED, PUB, Cohort
from tests.security.probe import ask, total

# An allele 31 people of the cohort carry: above the floor on /individuals (one variant on /g_variants
# is a group below it, read as none there, in both forms alike).
TRIMMED = {
    "referenceName": "22",
    "start": "16050114",
    "referenceBases": "A",
    "alternateBases": "G",
    "assemblyId": "GRCh37",
}
UNTRIMMED = {**TRIMMED, "start": "16050113", "referenceBases": "CAT", "alternateBases": "CGT"}


@pytest.mark.parametrize("path", ["/api/g_variants", "/api/individuals"])
@pytest.mark.parametrize(("caller", "dataset"), [("anonymous", PUB), ("registered", FLOORED)])
async def test_the_untrimmed_form_is_disclosed_exactly_as_the_stored_form(
    cohort: Cohort, path: str, caller: str, dataset: str
) -> None:
    token = cohort.issuer.token() if caller == "registered" else None
    answers: list[dict[str, Any]] = []
    for params in (TRIMMED, UNTRIMMED):
        query = {"requestParameters": params, "requestedGranularity": "count", "datasetIds": [dataset]}
        status, document = await ask(cohort, path, token=token, query=query)
        assert status == 200, document
        answers.append(document)
    trimmed, untrimmed = answers
    assert total(untrimmed) == total(trimmed)
    assert total(untrimmed) % FLOOR == 0
    if path == "/api/individuals":
        assert total(trimmed) > 0
    assert untrimmed["responseSummary"] == trimmed["responseSummary"]
