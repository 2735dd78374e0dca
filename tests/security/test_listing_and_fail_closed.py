"""Listing a dataset never grants querying it, and a dataset without a policy is not served at all.

On the code before this suite, with `list_inaccessible_datasets`, `POST /api/datasets` with request
parameters or filters returned the controlled datasets that matched, to anonymous callers; and a
loaded dataset whose id conf did not name (a case typo of a controlled one) was served publicly at
record granularity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from beacon.cli import main
from tests.conftest import AiohttpClient
from tests.security.conftest import FLOORED, PUB, SECRET, TYPO, Cohort, cohort_world
from tests.security.issuers import CTL_VISA, KeyRing
from tests.security.probe import PROCEDURE, ask

ALLELE = {"referenceName": "22", "start": [16050074], "alternateBases": "A", "assemblyId": "GRCh37"}


@pytest.fixture
async def listing(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    cohort_db: Path,
    tmp_path: Path,
) -> Cohort:
    return await cohort_world(
        aiohttp_client, aiohttp_server, key_ring, cohort_db, tmp_path / "audit.jsonl", list_inaccessible_datasets=True
    )


def _ids(document: dict[str, Any]) -> list[str]:
    return [d["id"] for d in document["response"]["collections"]]


async def test_descriptions_of_every_configured_dataset_are_listed_to_anyone(listing: Cohort) -> None:
    status, document = await ask(listing, "/api/datasets", params={"requestedGranularity": "record"})
    assert status == 200
    assert _ids(document) == [PUB, FLOORED, SECRET]  # never the dataset conf does not name
    status, document = await ask(listing, f"/api/datasets/{SECRET}", params={"requestedGranularity": "record"})
    assert status == 200
    assert _ids(document) == [SECRET]


QUESTIONS: dict[str, dict[str, Any]] = {
    "an allele": {"requestParameters": ALLELE},
    "a phenotype term": {"filters": [{"id": "OPCS4:L46.3", "scope": "individual"}]},
    "a person's id scoped to individuals": {
        "filters": [{"id": "id", "operator": "=", "value": "HG00096", "scope": "individual"}]
    },
    "a wildcard on a field": {"filters": [{"id": PROCEDURE, "operator": "=", "value": "%", "scope": "individual"}]},
}


@pytest.mark.parametrize("question", list(QUESTIONS))
@pytest.mark.parametrize("caller", ["anonymous", "registered"])
async def test_asking_the_listing_about_records_searches_only_datasets_the_caller_may_query(
    listing: Cohort, question: str, caller: str
) -> None:
    token = listing.issuer.token() if caller == "registered" else None
    queryable = [PUB] if caller == "anonymous" else [PUB, FLOORED]
    for granularity in ("boolean", "count", "record"):
        query = {**QUESTIONS[question], "requestedGranularity": granularity}
        status, document = await ask(listing, "/api/datasets", token=token, query=query)
        assert status == 200, document
        if granularity != "boolean":
            assert document["responseSummary"]["numTotalResults"] == len(queryable)
        if document["meta"]["returnedGranularity"] == "record":
            assert _ids(document) == queryable


@pytest.mark.parametrize("path", [f"/api/datasets/{SECRET}/individuals", f"/api/datasets/{SECRET}/g_variants"])
async def test_a_listed_dataset_is_not_queried_through_its_lookups(listing: Cohort, path: str) -> None:
    status, document = await ask(listing, path, params={"requestedGranularity": "count"})
    assert status == 404, document


CALLER_TOKENS = ["anonymous", "registered", "controlled"]


async def _token(cohort: Cohort, caller: str) -> str | None:
    if caller == "anonymous":
        return None
    claims = {"ga4gh_passport_v1": [cohort.broker.visa(CTL_VISA)]} if caller == "controlled" else {}
    return cohort.issuer.token(**claims)


@pytest.mark.parametrize("caller", CALLER_TOKENS)
async def test_a_dataset_without_a_policy_answers_nobody_on_any_path(cohort: Cohort, caller: str) -> None:
    token = await _token(cohort, caller)
    params = {"requestedGranularity": "count", "includeResultsetResponses": "ALL"}
    for path in ("/api/individuals", "/api/g_variants", "/api/biosamples", "/api/individuals/HG00096"):
        status, document = await ask(cohort, path, token=token, params=params)
        assert status == 200, document
        assert TYPO not in {s["id"] for s in document["response"]["resultSets"]}
    status, document = await ask(cohort, "/api/individuals", token=token, params={"datasetIds": TYPO})
    assert status == 400
    assert f"unknown dataset(s) {TYPO}" in document["error"]["errorMessage"]
    status, document = await ask(cohort, "/api/datasets", token=token, params={"requestedGranularity": "count"})
    assert document["responseSummary"]["numTotalResults"] == CALLER_TOKENS.index(caller) + 1
    status, document = await ask(cohort, f"/api/datasets/{TYPO}", token=token, params={})
    assert status == 404


def test_check_config_names_the_datasets_without_a_policy(
    cohort_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "beacon.yaml"
    datasets = "".join(f"  - id: {d}\n" for d in (PUB, FLOORED, SECRET))
    conf.write_text(
        "beacon:\n  id: org.example.test\n  name: Test\n  organization: {id: org.example, name: Example}\n"
        f"datasets:\n{datasets}"
    )
    code = main(["check-config", "--config", str(conf), "--store", f"sqlite:///{cohort_db}"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"with no policy, not served: {TYPO}" in err
    conf.write_text(conf.read_text() + "datasets_default: {security: controlled}\n")
    assert main(["check-config", "--config", str(conf), "--store", f"sqlite:///{cohort_db}"]) == 0
