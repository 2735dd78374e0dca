"""An adversarial review of access and disclosure control, run against a real beacon on the cohort store.

Each `xfail(strict=True)` test is a promise of docs/security.md that an attacker broke on this tree:
it asserts the promise, fails today, and turns the suite red (XPASS) once the fix lands, so the
marker must then be removed. The plain tests are attacks that held, where no other test asks them.
"""

from __future__ import annotations

import asyncio
import json
import string
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from beacon.api.keys import CONFIG
from beacon.errors import ConfigError
from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import Compare, Field, HasTerm, Query
from beacon.store.sqlite import SqliteStore
from tests.conftest import AiohttpClient
from tests.security.conftest import FLOORED, PUB, SECRET, Cohort, CohortFactory, World
from tests.security.issuers import CTL_VISA
from tests.security.probe import ask, small_terms, total

MAX_AGE_S = 0.1  # security.jwks_max_age_s of the beacon whose issuer withdraws a key
ALLELE = {"referenceName": "22", "start": "16050074", "alternateBases": "A", "assemblyId": "GRCh37"}
COUNT = {"requestedGranularity": "count"}


@pytest.fixture(scope="module")
def terms(cohort_db: Path) -> dict[int, str]:
    return small_terms(cohort_db, FLOORED)


async def _holders(db: Path, dataset: str, term: str) -> list[str]:
    """The ids of the individuals of `dataset` holding `term`, read from the store itself."""
    store = SqliteStore(db)
    await store.open()
    try:
        found = await store.find(Query("individuals", (dataset,), HasTerm((term,))))
        return sorted(str(d["id"]) for d in found)
    finally:
        await store.close()


async def _record_terms(db: Path, dataset: str, individual: str) -> set[str]:
    """The term ids of the record of `individual` in `dataset`, read from the store itself."""
    store = SqliteStore(db)
    await store.open()
    try:
        found = await store.find(Query("individuals", (dataset,), Compare(Field.ID, "=", individual)))
        assert found, individual
        return {t.id for t in await store.terms(("individuals",), (dataset,), ("individuals", individual))}
    finally:
        await store.close()


def _controlled(cohort: Cohort) -> str:
    return cohort.issuer.token(ga4gh_passport_v1=[cohort.broker.visa(CTL_VISA)])


# --- findings: promises broken on this tree ------------------------------------------------------


async def test_listing_a_controlled_dataset_never_lists_the_terms_of_its_records(
    make_cohort: CohortFactory, cohort_db: Path, terms: dict[int, str]
) -> None:
    listing = await make_cohort(list_inaccessible_datasets=True)
    rare = terms[1]  # a procedure one person of the controlled dataset underwent
    for token in (None, listing.issuer.token()):
        status, document = await ask(listing, f"/api/datasets/{SECRET}/filtering_terms", token=token, params={})
        if status == 404:
            continue  # answered like /datasets/{id}/individuals: not a dataset this caller may query
        assert status == 200, document
        offered = document["response"]["filteringTerms"]
        # The listing right covers the dataset's description: its own (dataset-scoped) terms at most.
        assert rare not in {t["id"] for t in offered}
        assert all(t["scopes"] == ["dataset"] for t in offered), [t for t in offered if t["scopes"] != ["dataset"]]


@pytest.mark.parametrize(("caller", "dataset"), [("anonymous", PUB), ("registered", FLOORED)])
async def test_one_persons_terms_are_not_disclosed_below_record_granularity(
    cohort: Cohort, cohort_db: Path, terms: dict[int, str], caller: str, dataset: str
) -> None:
    rare = terms[1]
    (holder,) = await _holders(cohort_db, dataset, rare)
    assert rare in await _record_terms(cohort_db, dataset, holder)
    token = cohort.issuer.token() if caller == "registered" else None
    # This caller gets counts only, under the floor: one person reads as none.
    status, document = await ask(
        cohort,
        "/api/individuals",
        token=token,
        query={"filters": [rare], "requestedGranularity": "record", "datasetIds": [dataset]},
    )
    assert status == 200
    assert document["meta"]["returnedGranularity"] == "count"
    assert total(document) == 0
    status, document = await ask(
        cohort, f"/api/individuals/{holder}/filtering_terms", token=token, params={"datasetIds": dataset}
    )
    if status != 200:
        assert status in (403, 404), document
        return
    # The rare procedure, and with it who underwent it, must not come out of a per-record listing.
    assert rare not in {t["id"] for t in document["response"]["filteringTerms"]}


async def _exists(cohort: Cohort, term: str, id_value: str) -> bool:
    filters = [term, {"id": "id", "operator": "=", "value": id_value}]
    status, document = await ask(cohort, "/api/individuals", query={**COUNT, "filters": filters, "datasetIds": [PUB]})
    assert status == 200, document
    assert document["meta"]["returnedGranularity"] == "count"
    return bool(document["responseSummary"]["exists"])


async def test_an_id_filter_does_not_turn_rounded_counts_into_the_exact_holders_of_a_rare_term(
    cohort: Cohort, cohort_db: Path, terms: dict[int, str]
) -> None:
    term = terms[4]  # four holders: reads as FLOOR (5) in any count this caller gets
    alphabet = string.ascii_uppercase + string.digits
    found: list[str] = []
    frontier = [""]
    asked = 0
    while frontier and asked < 3000:
        prefix = frontier.pop()
        for char in alphabet:
            candidate = prefix + char
            asked += 1
            if not await _exists(cohort, term, candidate + "%"):
                continue
            asked += 1
            if await _exists(cohort, term, candidate):
                found.append(candidate)
            frontier.append(candidate)
    truth = await _holders(cohort_db, PUB, term)
    assert len(truth) == 4
    # An anonymous caller allowed rounded counts only must not learn who the four are, nor that they are four.
    assert sorted(found) != truth, f"{asked} count questions named every holder"


@pytest.mark.parametrize("granularity", ["count", "boolean"])
async def test_a_record_path_with_a_filter_does_not_say_whether_that_person_holds_a_term(
    cohort: Cohort, cohort_db: Path, terms: dict[int, str], granularity: str
) -> None:
    rare = terms[1]
    (holder,) = await _holders(cohort_db, PUB, rare)
    other = "HG00096" if holder != "HG00096" else "HG00097"
    answers = []
    for person in (holder, other):
        params = {"filters": rare, "requestedGranularity": granularity, "datasetIds": PUB}
        status, document = await ask(cohort, f"/api/individuals/{person}", params=params)
        assert status in (200, 403), document
        assert status == 403 or document["meta"]["returnedGranularity"] == granularity
        answers.append((status, document.get("responseSummary")))
    # Both people exist in the dataset; a caller allowed rounded counts only must not tell them apart by T.
    assert answers[0] == answers[1], answers


async def test_the_budget_bounds_the_alleles_one_identity_learns_from_protected_data(
    make_cohort: CohortFactory,
) -> None:
    budget = 3
    budgeted = await make_cohort(budget_queries=budget)
    token = _controlled(budgeted)
    learned: set[str] = set()
    region = {
        "referenceName": "22",
        "start": "16050000",
        "end": "16100000",
        "assemblyId": "GRCh37",
        "requestedGranularity": "record",
        "datasetIds": SECRET,
    }
    # A page of variant records costs what it may hold: 100 alleles do not fit a budget of 3.
    status, document = await ask(budgeted, "/api/g_variants", token=token, params={**region, "limit": "100"})
    assert status == 429, document
    status, document = await ask(budgeted, "/api/g_variants", token=token, params={**region, "limit": str(budget)})
    assert status == 200, document
    for result_set in document["response"]["resultSets"]:
        learned.update(v["variantInternalId"] for v in result_set["results"])
    assert 0 < len(learned) <= budget
    for params in ({**region, "limit": "1", "skip": "5"}, {**ALLELE, "datasetIds": SECRET}):
        status, _document = await ask(budgeted, "/api/g_variants", token=token, params=params)
        assert status == 429  # the budget is spent


# --- attacks that held, where no other test asks them ------------------------------------------


async def test_per_record_terms_of_datasets_the_caller_may_not_query_are_not_served(cohort: Cohort) -> None:
    registered = cohort.issuer.token()
    for token in (None, registered):
        status, document = await ask(cohort, f"/api/datasets/{SECRET}/filtering_terms", token=token, params={})
        assert status == 404, document
        status, document = await ask(cohort, f"/api/datasets/{FLOORED}/filtering_terms", token=token, params={})
        assert status == (200 if token else 404), document
        status, document = await ask(
            cohort, "/api/individuals/HG00096/filtering_terms", token=token, params={"datasetIds": SECRET}
        )
        assert status == 400, document
        assert f"unknown dataset(s) {SECRET}" in document["error"]["errorMessage"]


@pytest.mark.parametrize(
    "query_string",
    ["filterGroup=noneOf:OPCS4:L46.3", "filters=interventionsOrProcedures.procedureCode.id:!OPCS4:L46.3"],
    ids=["noneOf", "! operator"],
)
async def test_a_post_query_string_cannot_add_a_complement_the_body_does_not_carry(
    cohort: Cohort, query_string: str
) -> None:
    body = {"meta": {"apiVersion": "v2.0.0"}, "query": {"requestedGranularity": "count"}}
    resp = await cohort.client.post(f"/api/individuals?{query_string}", json=body)
    document = json.loads(await resp.text())
    assert resp.status == 400, document
    assert "may only repeat them" in document["error"]["errorMessage"]


@pytest.mark.parametrize(
    ("filters", "refusal"),
    [
        # The specification's OR proposal is understood, then refused on floored data like anyOf.
        ([["OPCS4:L46.3", "OPCS4:T89.4"]], 403),
        ([{"anyOf": ["OPCS4:L46.3", "OPCS4:T89.4"]}], 400),
        ([{"id": ["OPCS4:L46.3", "OPCS4:T89.4"]}], 400),
        ([{"id": "interventionsOrProcedures.procedureCode.id", "operator": "=", "value": ["OPCS4:L46.3", "x"]}], 400),
    ],
    ids=["nested array", "anyOf inside filters", "id a list", "value a list"],
)
async def test_unions_smuggled_into_filters_are_refused_not_answered(
    cohort: Cohort, filters: list[Any], refusal: int
) -> None:
    status, document = await ask(cohort, "/api/individuals", query={**COUNT, "filters": filters})
    assert status == refusal, document


async def test_concurrent_genotype_questions_cannot_overspend_the_budget(make_cohort: CohortFactory) -> None:
    budget = 3
    budgeted = await make_cohort(budget_queries=budget)
    token = budgeted.issuer.token()
    params = {**ALLELE, "datasetIds": FLOORED}
    answers = await asyncio.gather(*(ask(budgeted, "/api/g_variants", token=token, params=params) for _ in range(12)))
    statuses = sorted(s for s, _ in answers)
    assert statuses == [200] * budget + [429] * (12 - budget)


async def test_the_budget_is_one_per_identity_across_tokens_passports_and_datasets(make_cohort: CohortFactory) -> None:
    budget = 3
    budgeted = await make_cohort(budget_queries=budget)
    # Three tokens of one person: two plain ones issued at different times, and one carrying a passport.
    first, second = budgeted.issuer.token(), budgeted.issuer.token(jti="another-session")
    with_visa = _controlled(budgeted)
    spent = [(first, FLOORED), (second, FLOORED), (with_visa, SECRET)]
    for token, dataset in spent:
        status, document = await ask(budgeted, "/api/g_variants", token=token, params={**ALLELE, "datasetIds": dataset})
        assert status == 200, document
    for token, dataset in spent:
        status, document = await ask(budgeted, "/api/g_variants", token=token, params={**ALLELE, "datasetIds": dataset})
        assert status == 429, document
    # Another person's budget is their own.
    other = budgeted.issuer.token(sub="bob")
    status, document = await ask(budgeted, "/api/g_variants", token=other, params={**ALLELE, "datasetIds": FLOORED})
    assert status == 200, document


async def _datasets_seen(world: World, token: str) -> set[str]:
    resp = await world.client.get(
        "/api/individuals",
        params={"requestedGranularity": "count", "includeResultsetResponses": "ALL"},
        headers={"Authorization": f"Bearer {token}"},
    )
    text = await resp.text()
    assert resp.status == 200, text[:500]
    return {s["id"] for s in json.loads(text)["response"]["resultSets"]}


async def test_a_passport_nested_inside_a_trusted_visa_grants_nothing(world: World) -> None:
    # A genuine visa of the trusted broker (another type) carrying a passport claim of its own, whose grant
    # is signed by an authority nobody trusts; and a grant visa carried inside another visa's value.
    rogue_grant = world.rogue.visa()
    carrier = world.broker.sign(
        {
            **world.broker.visa_claims(type="AffiliationAndRole", value="faculty@uni.example", by="so"),
            "ga4gh_passport_v1": [rogue_grant],
        },
        "ec-1",
    )
    inside_value = world.broker.visa(value=world.rogue.visa(), type="ResearcherStatus", by="so")
    token = world.issuer.token(ga4gh_passport_v1=[carrier, inside_value])
    assert await _datasets_seen(world, token) == {"open-ds", "reg-ds"}


@pytest.mark.parametrize(
    "value",
    ["ctl-ds", "CTL-DS", CTL_VISA + "/", CTL_VISA.upper(), f" {CTL_VISA}", f"{CTL_VISA};reg-ds", "*"],
    ids=["the dataset id its visas replace", "case", "trailing slash", "upper case", "leading space", "a list", "star"],
)
async def test_only_a_configured_visa_value_grants_a_controlled_dataset(world: World, value: str) -> None:
    token = world.issuer.token(ga4gh_passport_v1=[world.broker.visa(value=value)])
    assert await _datasets_seen(world, token) == {"open-ds", "reg-ds"}
    granted = world.issuer.token(ga4gh_passport_v1=[world.broker.visa()])
    assert await _datasets_seen(world, granted) == {"open-ds", "reg-ds", "ctl-ds"}


def _network_conf(member: Cohort, headers: dict[str, str], forward_token: bool) -> dict[str, Any]:
    return {
        "beacon": {"id": "org.example.net", "name": "Net", "organization": {"id": "org.example", "name": "Ex"}},
        "fanout": {"deadline_s": 5.0, "max_response_bytes": 1 << 22, "cache_ttl_s": 0},
        "members": [
            {
                "id": "cohort",
                "url": str(member.client.make_url("/api")),
                "timeout_s": 5.0,
                "forward_token": forward_token,
                "headers": headers,
            }
        ],
    }


def _set_ids(document: dict[str, Any]) -> set[str]:
    return {s["id"].split(":", 1)[1] for s in document["response"]["resultSets"]}


async def test_through_the_aggregator_a_caller_without_a_token_gets_only_public_data(
    make_cohort: CohortFactory, aiohttp_client: AiohttpClient
) -> None:
    """Finding 5: with forward_token and a member credential in `headers`, a caller who sent no token was
    answered with the network's credential; dropping one's own token upgraded to the network's rights."""
    member = await make_cohort()
    # The network's own service identity holds a visa for the controlled dataset (a member credential).
    service = _controlled(member)
    conf = _network_conf(member, {"authorization": f"Bearer {service}"}, True)
    with pytest.raises(ConfigError, match=r"members\[0\] \(cohort\): forward_token and a static Authorization"):
        settings_from(conf)
    # Settings built without the loader (or a loader that misses it) still never send the static credential.
    loaded = settings_from({**conf, "members": [{**conf["members"][0], "headers": {}}]})
    credential = (("Authorization", f"Bearer {service}"),)
    settings = replace(loaded, members=(replace(loaded.members[0], headers=credential),))
    network = await aiohttp_client(create_aggregator_app(settings))
    query = {"requestedGranularity": "count", "includeResultsetResponses": "ALL"}
    body = {"meta": {"apiVersion": "v2.0.0"}, "query": query}
    # A caller with a registered token of their own sees what that token allows ...
    mine = member.issuer.token(sub="carol")
    resp = await network.post("/api/individuals", json=body, headers={"Authorization": f"Bearer {mine}"})
    assert resp.status == 200
    assert _set_ids(await resp.json()) == {PUB, FLOORED}
    # ... and without it, never more than an anonymous caller.
    resp = await network.post("/api/individuals", json=body)
    assert resp.status == 200
    assert _set_ids(await resp.json()) <= {PUB}


@pytest.mark.parametrize(("position", "grants"), [(99, True), (100, False)])
async def test_only_the_first_hundred_visas_of_a_userinfo_passport_are_read(
    world: World, position: int, grants: bool
) -> None:
    token = world.issuer.token()
    junk = world.rogue.visa()  # well-formed and signed, by an authority nobody trusts: each costs a verification
    passport = [junk] * position + [world.broker.visa()]
    world.issuer.passports[token] = passport
    expected = {"open-ds", "reg-ds", "ctl-ds"} if grants else {"open-ds", "reg-ds"}
    assert await _datasets_seen(world, token) == expected


async def test_a_total_over_two_datasets_is_the_sum_of_their_disclosed_counts_never_the_disclosed_sum(
    cohort: Cohort, terms: dict[int, str]
) -> None:
    # The same few holders in each of two floored datasets: disclosing the sum (2 x 4 -> 10) would show a
    # group that each set, disclosed on its own (4 -> 0), hides; the total adds the disclosed sets.
    token = cohort.issuer.token()
    for holders, each in ((1, 0), (2, 0), (4, 0)):
        query = {**COUNT, "filters": [terms[holders]], "includeResultsetResponses": "ALL"}
        status, both = await ask(cohort, "/api/individuals", token=token, query=query)
        assert status == 200, both
        assert {s["id"]: s["resultsCount"] for s in both["response"]["resultSets"]} == {PUB: each, FLOORED: each}
        assert total(both) == 2 * each
        for dataset in (PUB, FLOORED):
            status, one = await ask(cohort, "/api/individuals", token=token, query={**query, "datasetIds": [dataset]})
            assert status == 200, one
            assert total(one) == each


async def _first_ids(db: Path, dataset: str) -> dict[str, str]:
    """One record id per collection of `dataset`, read from the store."""
    store = SqliteStore(db)
    await store.open()
    try:
        out = {}
        for entry in EntryTypeTable().enabled():
            found = await store.find(Query(entry.collection, (dataset,), None, limit=1))
            if found:
                out[entry.path] = str(found[0][entry.id_field])
        return out
    finally:
        await store.close()


def _datasets_answered(document: dict[str, Any], path: str) -> set[str]:
    response = document.get("response", {})
    if "resultSets" in response:
        return {s["id"] for s in response["resultSets"]}
    if path.startswith("/api/datasets") and "collections" in response:
        return {c["id"] for c in response["collections"]}
    return set()


@pytest.mark.parametrize("caller", ["anonymous", "registered"])
async def test_every_path_of_the_map_answers_only_from_datasets_the_caller_may_query(
    cohort: Cohort, cohort_db: Path, caller: str
) -> None:
    token = cohort.issuer.token() if caller == "registered" else None
    allowed = {PUB} if caller == "anonymous" else {PUB, FLOORED}
    ids = await _first_ids(cohort_db, PUB)
    status, document = await ask(cohort, "/api/map", params={})
    assert status == 200
    paths: list[str] = []
    for endpoint in document["response"]["endpointSets"].values():
        root = endpoint["rootUrl"].replace("http://testserver", "")
        entry_path = root.removeprefix("/api/")
        record = ids.get(entry_path, PUB)
        paths += [root, f"{root}/{record}", endpoint["filteringTermsUrl"].replace("http://testserver", "")]
        for lookup in endpoint.get("endpoints", {}).values():
            paths.append(lookup["url"].replace("http://testserver", "").replace("{id}", record))
    assert len(paths) > 20
    for path in paths:
        for method in ("GET", "POST"):
            base: dict[str, Any] = {"requestedGranularity": "record", "includeResultsetResponses": "ALL"}
            if method == "GET":
                status, document = await ask(cohort, path, token=token, params=base)
            else:
                status, document = await ask(cohort, path, token=token, query=base)
            assert status in (200, 400, 404), (method, path, document)
            assert _datasets_answered(document, path) <= allowed, (method, path)
            # Naming a dataset the caller may not query is refused exactly like naming one that does not exist.
            for hidden in (SECRET, "no-such-ds") if caller == "registered" else (FLOORED, SECRET, "no-such-ds"):
                if method == "GET":
                    status, document = await ask(cohort, path, token=token, params={**base, "datasetIds": hidden})
                else:
                    status, document = await ask(cohort, path, token=token, query={**base, "datasetIds": [hidden]})
                assert status in (400, 404), (method, path, hidden, document)


async def _status_with(world: World, token: str) -> int:
    resp = await world.client.get(
        "/api/individuals", params={"requestedGranularity": "count"}, headers={"Authorization": f"Bearer {token}"}
    )
    await resp.read()
    return resp.status


async def test_a_key_its_issuer_withdraws_stops_verifying_tokens(world: World, aiohttp_client: AiohttpClient) -> None:
    """Finding 6: a key once fetched was trusted until the process ended (a key set was refreshed only for an
    unknown kid), so a withdrawn (compromised) key kept verifying while the issuer signed with another key."""
    config = world.client.app[CONFIG] if world.client.app is not None else None
    assert config is not None
    security = replace(config.security, jwks_max_age_s=MAX_AGE_S)
    world = replace(world, client=await aiohttp_client(create_app(replace(config, security=security))))
    assert await _status_with(world, world.issuer.token(kid="rsa-1")) == 200  # both keys are now cached
    assert await _status_with(world, world.issuer.token(kid="ec-1")) == 200
    # rsa-1 leaks; the issuer withdraws it from its JWKS and goes on signing with ec-1.
    world.issuer.published.remove("rsa-1")
    await asyncio.sleep(MAX_AGE_S * 1.5)  # past the longest a fetched key set is trusted
    assert await _status_with(world, world.issuer.token(kid="ec-1")) == 200
    stolen = world.issuer.token(sub="mallory", kid="rsa-1")  # minted by whoever holds the leaked key
    assert await _status_with(world, stolen) == 401


@pytest.mark.parametrize("path", ["analyses", "biosamples", "g_variants", "individuals", "runs"])
async def test_no_records_terms_below_record_granularity_whatever_the_entry_type(
    cohort: Cohort, cohort_db: Path, path: str
) -> None:
    # One record's terms are refused (or the route is not offered) for every record entry type, not only
    # on /individuals: a count-only caller never reads them.
    record = (await _first_ids(cohort_db, PUB))[path]
    status, document = await ask(cohort, f"/api/{path}/{record}/filtering_terms", params={"datasetIds": PUB})
    assert status in (403, 404), document
    assert "response" not in document
