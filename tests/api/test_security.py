"""Access control against a real OpenID issuer and passport broker on loopback.

The issuer and brokers are aiohttp servers inside the test (discovery document, JWKS, userinfo),
signing with RSA and EC keys. The beacon holds the CINECA cohort three times: as a public, a
registered and a controlled dataset.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestServer

from beacon.api.app import create_app
from beacon.config import DatasetPolicy, SecurityConfig, TrustedIssuer, VisaBroker
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.model.plan import HasKey, Query
from beacon.store.sqlite import SqliteStore
from tests.conftest import CINECA, AiohttpClient, bff_store, fetch, make_config
from tests.security.conftest import World as TokenWorld
from tests.security.issuers import AUDIENCE, Authority, AuthorityFactory, new_authority

OPEN, REG, CTL = "open-ds", "reg-ds", "ctl-ds"
SEQUENCE = {"referenceName": "22", "start": "16050074", "alternateBases": "A"}  # one variant per dataset


@pytest.fixture
def authority(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> AuthorityFactory:
    """A loopback issuer or broker publishing an RSA (`rsa-1`) and an EC P-256 (`ec-1`) key."""

    async def make() -> Authority:
        return await new_authority(aiohttp_server)

    return make


@pytest.fixture(scope="module")
def three_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bff_store(tmp_path_factory.mktemp("security") / "beacon.db", CINECA, (OPEN, REG, CTL), "GRCh37")


@dataclass
class World(TokenWorld):
    audit: Path


POLICIES = (
    DatasetPolicy(
        OPEN, SecurityLevel.PUBLIC, granularity={"anonymous": Granularity.BOOLEAN, "registered": Granularity.COUNT}
    ),
    DatasetPolicy(REG, SecurityLevel.REGISTERED, granularity={"registered": Granularity.COUNT}, count_floor=5),
    DatasetPolicy(CTL, SecurityLevel.CONTROLLED, visas=("https://dac.example/datasets/ctl-ds",)),
)


async def _world(
    aiohttp_client: AiohttpClient, authority: AuthorityFactory, three_db: Path, tmp_path: Path, **security: Any
) -> World:
    issuer, broker, rogue = await authority(), await authority(), await authority()
    audit = tmp_path / "audit.jsonl"
    sec = SecurityConfig(
        issuers=(TrustedIssuer(issuer.url, AUDIENCE, userinfo=True),),
        visa_brokers=(VisaBroker(broker.url),),
        audit_log=audit,
        jwks_refresh_min_s=0,
        **security,
    )
    config = replace(make_config(f"sqlite:///{three_db}", *POLICIES), security=sec)
    client = await aiohttp_client(create_app(config))
    return World(issuer, broker, rogue, client, audit)


@pytest.fixture
async def world(aiohttp_client: AiohttpClient, authority: AuthorityFactory, three_db: Path, tmp_path: Path) -> World:
    return await _world(aiohttp_client, authority, three_db, tmp_path)


async def _ask(world: World, token: str | None, path: str, params: dict[str, str], status: int = 200) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = await world.client.get(path, params=params, headers=headers)
    text = await resp.text()
    assert resp.status == status, text
    document: dict[str, Any] = json.loads(text)
    return document


def _seen(document: dict[str, Any]) -> tuple[str, set[str]]:
    granularity = document["meta"]["returnedGranularity"]
    sets = document.get("response", {}).get("resultSets", [])
    return granularity, {s["id"] for s in sets}


# caller -> (datasetIds or None) -> (granularity, datasets listed in resultSets)
TABLE = [
    ("anonymous", None, "boolean", set()),
    ("anonymous", OPEN, "boolean", set()),
    ("registered", None, "count", {OPEN, REG}),
    ("registered", REG, "count", {REG}),
    ("controlled", None, "count", {OPEN, REG, CTL}),
    ("controlled", CTL, "record", {CTL}),
    ("controlled", OPEN, "count", {OPEN}),
]


def _token(world: World, caller: str) -> str | None:
    if caller == "anonymous":
        return None
    if caller == "registered":
        return world.issuer.token()
    return world.issuer.token(ga4gh_passport_v1=[world.broker.visa("https://dac.example/datasets/ctl-ds")])


@pytest.mark.parametrize(("caller", "dataset", "granularity", "listed"), TABLE)
@pytest.mark.parametrize("path", ["/api/individuals", "/api/biosamples/HG03833/g_variants"])
async def test_each_caller_class_sees_what_its_class_allows(
    world: World, caller: str, dataset: str | None, granularity: str, listed: set[str], path: str
) -> None:
    params = {"requestedGranularity": "record", "includeResultsetResponses": "ALL"}
    if dataset:
        params["datasetIds"] = dataset
    document = await _ask(world, _token(world, caller), path, params)
    assert _seen(document) == (granularity, listed)
    if granularity == "record":
        assert all(s["results"] for s in document["response"]["resultSets"])


@pytest.mark.parametrize(("caller", "dataset"), [("anonymous", REG), ("anonymous", CTL), ("registered", CTL)])
async def test_a_dataset_the_caller_may_not_query_is_indistinguishable_from_an_absent_one(
    world: World, caller: str, dataset: str
) -> None:
    document = await _ask(world, _token(world, caller), "/api/individuals", {"datasetIds": dataset}, status=400)
    assert document["error"]["errorMessage"].startswith(f"datasetIds: unknown dataset(s) {dataset}; available:")


async def test_filtering_terms_come_only_from_datasets_the_caller_may_query(world: World) -> None:
    anonymous = await _ask(world, None, "/api/filtering_terms", {})
    registered = await _ask(world, world.issuer.token(), "/api/filtering_terms", {})
    assert anonymous["response"]["filteringTerms"] == registered["response"]["filteringTerms"]  # same cohort thrice
    assert anonymous["response"]["filteringTerms"]


FORGED: dict[str, Callable[[World], str]] = {
    "expired": lambda w: w.issuer.token(exp=int(time.time()) - 3600),
    "wrong audience": lambda w: w.issuer.token(aud="another-service"),
    "not yet valid": lambda w: w.issuer.token(nbf=int(time.time()) + 3600),
    "unknown issuer": lambda w: w.rogue.token(),
    "issuer claimed by a stranger": lambda w: w.rogue.sign(
        {"iss": w.issuer.url, "sub": "mallory", "aud": AUDIENCE, "exp": int(time.time()) + 600}, "rsa-1"
    ),
    "alg none": lambda w: jwt.encode(
        {"iss": w.issuer.url, "sub": "mallory", "aud": AUDIENCE, "exp": int(time.time()) + 600}, None, algorithm="none"
    ),
    "key never published": lambda w: (w.issuer.add_key("secret", publish=False), w.issuer.token(kid="secret"))[1],
    "HS256 with the public key as secret": lambda w: jwt.encode(
        {"iss": w.issuer.url, "sub": "mallory", "aud": AUDIENCE, "exp": int(time.time()) + 600},
        b"not-the-issuers-key-but-long-enough-for-hs256",
        algorithm="HS256",
        headers={"kid": "rsa-1"},
    ),
    "not a JWT": lambda w: "definitely-not-a-token",
}


@pytest.mark.parametrize("case", sorted(FORGED))
async def test_forged_and_invalid_tokens_are_401_with_a_beacon_error(world: World, case: str) -> None:
    token = FORGED[case](world)
    resp = await world.client.get("/api/individuals", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    document = await resp.json()
    assert document["error"]["errorCode"] == 401
    assert token not in json.dumps(document)


VISAS: dict[str, Callable[[World], str]] = {
    "signed by a broker not on the allow-list": lambda w: w.rogue.visa("https://dac.example/datasets/ctl-ds"),
    "for another dataset": lambda w: w.broker.visa("https://dac.example/datasets/other"),
    "expired": lambda w: w.broker.visa("https://dac.example/datasets/ctl-ds", exp_in=-3600),
    # The broker's own claims for ctl-ds, signed with the attacker's key that the header points at.
    "jku pointing at the attacker's keys": lambda w: w.rogue.sign(
        w.broker.visa_claims(), "ec-1", jku=w.rogue.url + "/jwks"
    ),
    "of another type": lambda w: w.broker.visa(type="AffiliationAndRole"),
}


@pytest.mark.parametrize("case", sorted(VISAS))
async def test_visas_that_do_not_hold_grant_nothing_and_the_caller_stays_registered(world: World, case: str) -> None:
    token = world.issuer.token(ga4gh_passport_v1=[VISAS[case](world)])
    document = await _ask(world, token, "/api/individuals", {"requestedGranularity": "count"})
    assert _seen(document) == ("count", {OPEN, REG})


async def test_a_passport_from_the_userinfo_endpoint_grants_its_datasets(world: World) -> None:
    token = world.issuer.token()
    world.issuer.passports[token] = [world.broker.visa("https://dac.example/datasets/ctl-ds")]
    document = await _ask(world, token, "/api/individuals", {"requestedGranularity": "record", "datasetIds": CTL})
    assert _seen(document) == ("record", {CTL})


async def test_a_rotated_issuer_key_is_fetched_when_a_token_names_it(world: World) -> None:
    await _ask(world, world.issuer.token(), "/api/individuals", {})  # keys cached
    world.issuer.add_key("rsa-2")
    world.issuer.published.remove("rsa-1")
    await _ask(world, world.issuer.token(kid="rsa-2"), "/api/individuals", {})
    await _ask(world, world.issuer.token(kid="rsa-1"), "/api/individuals", {}, status=401)


async def test_floored_counts_below_the_floor_read_zero_others_round_up_and_unfloored_counts_are_exact(
    world: World,
) -> None:
    token = world.issuer.token()
    one = await _ask(
        world,
        token,
        "/api/g_variants",
        {**SEQUENCE, "requestedGranularity": "count", "includeResultsetResponses": "ALL"},
    )
    counts = {s["id"]: s["resultsCount"] for s in one["response"]["resultSets"]}
    assert counts == {OPEN: 1, REG: 0}  # reg-ds has a floor of 5: one variant reads as none; open-ds no floor
    assert one["responseSummary"]["numTotalResults"] == 1
    none = await _ask(
        world,
        token,
        "/api/g_variants",
        {**SEQUENCE, "alternateBases": "C", "requestedGranularity": "count", "includeResultsetResponses": "ALL"},
    )
    assert {s["id"]: s["resultsCount"] for s in none["response"]["resultSets"]} == {OPEN: 0, REG: 0}
    assert one["response"]["resultSets"][1]["countPrecision"] == "rounded"
    assert none["response"]["resultSets"][1]["countPrecision"] == "rounded"  # a true 0 reads as a suppressed one
    assert "countPrecision" not in one["response"]["resultSets"][0]
    many = await _ask(world, token, "/api/individuals", {"requestedGranularity": "count", "datasetIds": REG})
    # Every count of a floored dataset is rounded up to a multiple of its floor (docs/security.md): 2,504 -> 2,505.
    assert many["responseSummary"]["numTotalResults"] == 2505
    assert many["responseSummary"]["countAdjustedTo"] == [5]


async def test_no_records_below_the_floor(world: World) -> None:
    token = world.issuer.token(ga4gh_passport_v1=[world.broker.visa("https://dac.example/datasets/ctl-ds")])
    params = {**SEQUENCE, "requestedGranularity": "record", "datasetIds": CTL}
    assert (await _ask(world, token, "/api/g_variants", params))["response"]["resultSets"][0]["results"]


async def test_membership_inference_by_repeated_allele_queries_is_stopped_by_the_budget(
    aiohttp_client: AiohttpClient, authority: AuthorityFactory, three_db: Path, tmp_path: Path
) -> None:
    """Shringarpure & Bustamante's attack asks for the target's alleles one by one; the budget ends it early."""
    world = await _world(aiohttp_client, authority, three_db, tmp_path, budget_queries=20, budget_window_s=3600)
    token = world.issuer.token(sub="attacker")
    # The attacker knows the target's genome (the attack's premise): here, from the store itself.
    store = SqliteStore(three_db)
    await store.open()
    try:
        known = await store.find(Query("g_variants", (OPEN,), HasKey("biosample", ("HG03833",))))
    finally:
        await store.close()
    alleles = [r["variation"] for r in known]
    assert len(alleles) > 20
    answered = 0
    for v in alleles:
        params = {
            "referenceName": "22",
            "start": str(v["location"]["interval"]["start"]["value"]),
            "alternateBases": v["alternateBases"],
            "datasetIds": REG,
        }
        resp = await world.client.get("/api/g_variants", params=params, headers={"Authorization": f"Bearer {token}"})
        if resp.status == 429:
            document = await resp.json()
            assert document["error"]["errorCode"] == 429
            assert resp.headers["Retry-After"]
            break
        assert resp.status == 200
        answered += 1
    assert answered == 20
    # Another identity has its own budget; public data is never budgeted.
    await _ask(world, world.issuer.token(sub="someone-else"), "/api/g_variants", {**SEQUENCE, "datasetIds": REG})
    await _ask(world, token, "/api/g_variants", {**SEQUENCE, "datasetIds": OPEN})


async def test_a_client_over_its_rate_gets_429(
    aiohttp_client: AiohttpClient, authority: AuthorityFactory, three_db: Path, tmp_path: Path
) -> None:
    world = await _world(aiohttp_client, authority, three_db, tmp_path, rate_per_s=0.01, rate_burst=3)
    for _ in range(3):
        await _ask(world, None, "/api/info", {})
    resp = await world.client.get("/api/info")
    assert resp.status == 429
    assert (await resp.json())["error"]["errorCode"] == 429


async def test_the_audit_log_records_who_asked_what_and_never_the_token(world: World) -> None:
    token = world.issuer.token(ga4gh_passport_v1=[world.broker.visa("https://dac.example/datasets/ctl-ds")])
    await _ask(
        world,
        token,
        "/api/individuals",
        {"requestedGranularity": "record", "datasetIds": CTL, "filters": "NCIT:C16576"},
    )
    await _ask(world, None, "/api/individuals", {})
    await _ask(world, "forged", "/api/individuals", {}, status=401)
    await world.client.close()  # stops the audit writer, flushing the file

    def read() -> str:
        return world.audit.read_text()

    text = await asyncio.to_thread(read)
    lines = [json.loads(line) for line in text.splitlines()]
    assert token not in text
    assert "forged" not in text
    first, second, third = lines
    assert first["identity"] == f"{world.issuer.url}#alice"
    assert first["datasets"] == [CTL]
    assert first["granularity"] == "record"
    # The question as evaluated: each filter with its similarity, descendants, scope and group (docs/security.md).
    assert first["query"]["filters"] == [{"id": "NCIT:C16576", "similarity": "exact", "includeDescendantTerms": True}]
    assert first["status"] == 200
    assert (second["identity"], second["datasets"], second["granularity"]) == ("anonymous", [OPEN], "boolean")
    assert (third["identity"], third["status"]) == ("anonymous", 401)


async def test_configuration_lists_the_security_levels_in_use(world: World) -> None:
    document = await fetch(world.client, "GET", "/api/configuration", endpoint="configuration")
    assert document["response"]["securityAttributes"]["securityLevels"] == ["CONTROLLED", "PUBLIC", "REGISTERED"]


async def test_inaccessible_datasets_are_listed_only_when_configured(
    aiohttp_client: AiohttpClient, authority: AuthorityFactory, three_db: Path, tmp_path: Path
) -> None:
    hidden = await _world(aiohttp_client, authority, three_db, tmp_path)
    document = await _ask(hidden, hidden.issuer.token(), "/api/datasets", {"requestedGranularity": "count"})
    assert document["responseSummary"]["numTotalResults"] == 2  # open-ds and reg-ds, not ctl-ds
    listed = await _world(aiohttp_client, authority, three_db, tmp_path, list_inaccessible_datasets=True)
    document = await _ask(listed, None, "/api/datasets", {"requestedGranularity": "record"})
    assert [d["id"] for d in document["response"]["collections"]] == [OPEN, REG, CTL]
    access = {d["id"]: d["info"]["beaconAccess"] for d in document["response"]["collections"]}
    assert access == {
        OPEN: {"securityLevel": "public", "queryable": True, "granularity": "boolean"},
        REG: {"securityLevel": "registered", "queryable": False},
        CTL: {"securityLevel": "controlled", "queryable": False},
    }
    # With a token of a trusted issuer, the registered dataset becomes queryable for this caller.
    document = await _ask(listed, listed.issuer.token(), "/api/datasets", {"requestedGranularity": "record"})
    access = {d["id"]: d["info"]["beaconAccess"] for d in document["response"]["collections"]}
    assert access[REG] == {"securityLevel": "registered", "queryable": True, "granularity": "count", "countFloor": 5}
    assert access[CTL]["queryable"] is False
    # Listing a dataset never opens its records.
    await _ask(listed, None, "/api/individuals", {"datasetIds": REG}, status=400)
