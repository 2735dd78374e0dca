"""A dataset granted by a visa type (the bona fide researcher's ResearcherStatus), and the ways around it that fail.

The GDI individuals beacon answers counts to holders of a `ResearcherStatus` visa whatever its
value; every other visa, and every such visa that does not hold, leaves the dataset closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from beacon.config import DatasetPolicy, load_config
from beacon.errors import ConfigError
from beacon.model.granularity import Granularity, SecurityLevel
from tests.conftest import AiohttpClient, bff_store, make_config
from tests.security.conftest import CTL, OPEN, TWO_INDIVIDUALS, World, serve_world
from tests.security.issuers import CTL_VISA, KeyRing

BONA = "bona-fide-ds"
STATUS = {
    "type": "ResearcherStatus",
    "source": "https://ga4gh.org/duri/no_org",
    "by": "system",
}
BONA_FIDE = "https://doi.org/10.1038/s41431-018-0219-y"
POLICIES = (
    DatasetPolicy(OPEN, SecurityLevel.PUBLIC),
    DatasetPolicy(
        BONA,
        SecurityLevel.CONTROLLED,
        granularity={"controlled": Granularity.COUNT},
        visa_types=("ResearcherStatus",),
    ),
    DatasetPolicy(CTL, SecurityLevel.CONTROLLED, visas=(CTL_VISA,)),
)


@pytest.fixture(scope="module")
def bona_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bff_store(tmp_path_factory.mktemp("visa-types") / "beacon.db", TWO_INDIVIDUALS, (OPEN, BONA, CTL))


@pytest.fixture
async def parties(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    bona_db: Path,
) -> World:
    config = replace(make_config(f"sqlite:///{bona_db}", *POLICIES), datasets_default=None)
    return await serve_world(aiohttp_client, aiohttp_server, key_ring, config)


async def _ask(parties: World, dataset: str, visas: list[str] | None) -> tuple[int, dict[str, Any]]:
    headers = {}
    if visas is not None:
        headers["Authorization"] = f"Bearer {parties.issuer.token(ga4gh_passport_v1=visas)}"
    params = {"datasetIds": dataset, "requestedGranularity": "record"}
    resp = await parties.client.get("/api/individuals", params=params, headers=headers)
    return resp.status, await resp.json()


async def test_a_researcher_status_visa_opens_the_dataset_at_count_granularity(parties: World) -> None:
    status, document = await _ask(parties, BONA, [parties.broker.visa(BONA_FIDE, **STATUS)])
    assert status == 200, document
    assert document["meta"]["returnedGranularity"] == "count"
    assert document["responseSummary"]["numTotalResults"] == 2
    assert "resultSets" not in document.get("response", {}) or all(
        rs["results"] == [] for rs in document["response"]["resultSets"]
    )


def _forged(parties: World) -> dict[str, Callable[[], list[str] | None]]:
    broker, issuer, rogue = parties.broker, parties.issuer, parties.rogue
    return {
        "no token": lambda: None,
        "a token without visas": lambda: [],
        "another visa type": lambda: [broker.visa(BONA_FIDE, **{**STATUS, "type": "AffiliationAndRole"})],
        "a ControlledAccessGrants visa for another dataset": lambda: [broker.visa(CTL_VISA)],
        "the type in another case": lambda: [broker.visa(BONA_FIDE, **{**STATUS, "type": "researcherstatus"})],
        "expired": lambda: [broker.visa(BONA_FIDE, exp_in=-120, **STATUS)],
        "asserted in the future": lambda: [broker.visa(BONA_FIDE, **STATUS, asserted=10**10)],
        "self-asserted": lambda: [broker.visa(BONA_FIDE, **{**STATUS, "by": "self"})],
        "for another subject": lambda: [broker.visa(BONA_FIDE, sub="mallory", **STATUS)],
        "signed by an untrusted broker": lambda: [rogue.visa(BONA_FIDE, **STATUS)],
        "signed by the token issuer, which is no visa broker": lambda: [issuer.visa(BONA_FIDE, **STATUS)],
        "the broker's issuer with the rogue's key": lambda: [
            rogue.sign({**broker.visa_claims(BONA_FIDE, **STATUS)}, "ec-1")
        ],
        "with conditions not met": lambda: [
            broker.visa(BONA_FIDE, **STATUS, conditions=[[{"type": "AffiliationAndRole", "value": "const:x@y"}]])
        ],
    }


FORGED = [
    "no token",
    "a token without visas",
    "another visa type",
    "a ControlledAccessGrants visa for another dataset",
    "the type in another case",
    "expired",
    "asserted in the future",
    "self-asserted",
    "for another subject",
    "signed by an untrusted broker",
    "signed by the token issuer, which is no visa broker",
    "the broker's issuer with the rogue's key",
    "with conditions not met",
]


@pytest.mark.parametrize("attempt", FORGED)
async def test_the_dataset_stays_closed_without_a_researcher_status_that_holds(parties: World, attempt: str) -> None:
    status, document = await _ask(parties, BONA, _forged(parties)[attempt]())
    assert status == 400, document
    assert BONA not in document["error"]["errorMessage"].split("available:")[1], "not even named as available"


async def test_a_researcher_status_grants_no_dataset_that_asks_for_a_controlled_access_grant(parties: World) -> None:
    status, _ = await _ask(parties, CTL, [parties.broker.visa(BONA_FIDE, **STATUS)])
    assert status == 400
    status, document = await _ask(parties, CTL, [parties.broker.visa(CTL_VISA)])
    assert status == 200, document


async def test_the_protected_resource_metadata_announces_the_accepted_visa_types(parties: World) -> None:
    document = await (await parties.client.get("/.well-known/oauth-protected-resource")).json()
    assert document["ga4gh_visa_types_supported"] == ["ControlledAccessGrants", "ResearcherStatus"]
    assert document["authorization_servers"] == [parties.issuer.url]
    assert document["ga4gh_visa_issuers"] == [parties.broker.url]


@pytest.mark.parametrize("visa_type", ["ControlledAccessGrants", "LinkedIdentities", "", "Researcher Status"])
def test_a_visa_type_that_would_grant_by_another_rule_or_is_malformed_is_a_configuration_error(
    tmp_path: Path, visa_type: str
) -> None:
    path = tmp_path / "beacon.yaml"
    path.write_text(
        "beacon: {id: org.example.b, name: B, organization: {id: org.example, name: Example}}\n"
        f"datasets:\n  - id: d\n    security: controlled\n    visa_types: [{visa_type!r}]\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert "datasets[0].visa_types[0]" in str(raised.value)
