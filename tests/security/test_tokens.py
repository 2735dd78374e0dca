"""Forged, mismatched and malformed access tokens and visas, sent to a real beacon with a real issuer and broker.

Every access token that is not exactly right is a 401 Beacon error (never a 500); every visa that
is not exactly right grants nothing while its caller stays registered. The matrix crosses every
asymmetric algorithm with every key type the issuer and broker publish.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.errors import Unauthorized
from beacon.security.tokens import parse_jws
from tests.security.conftest import CTL, OPEN, REG, World
from tests.security.issuers import (
    ALGORITHMS,
    CTL_VISA,
    KIDS,
    KIND_OF_ALGORITHM,
    KeyRing,
    b64,
    forge,
    public_jwk,
    public_pem,
)

REGISTERED = {OPEN, REG}
CONTROLLED = {OPEN, REG, CTL}
PARAMS = {"requestedGranularity": "count", "includeResultsetResponses": "ALL"}


async def seen(world: World, token: str) -> set[str]:
    """The datasets a caller with this token may query (its result sets), asserting a 200."""
    resp = await world.client.get("/api/individuals", params=PARAMS, headers={"Authorization": f"Bearer {token}"})
    text = await resp.text()
    assert resp.status == 200, text[:500]
    return {s["id"] for s in json.loads(text)["response"]["resultSets"]}


async def refused(world: World, token: str) -> str:
    """Assert a 401 Beacon error that does not echo the token; return its message."""
    resp = await world.client.get("/api/individuals", params=PARAMS, headers={"Authorization": f"Bearer {token}"})
    text = await resp.text()
    assert resp.status == 401, f"{resp.status}: {text[:500]}"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    document = json.loads(text)
    assert document["error"]["errorCode"] == 401
    assert token not in text
    message: str = document["error"]["errorMessage"]
    return message


# --- the algorithm x key-type matrix -----------------------------------------------------------


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_an_access_token_counts_only_when_its_algorithm_fits_the_issuer_key_it_names(
    world: World, key_ring: KeyRing, alg: str
) -> None:
    kind = KIND_OF_ALGORITHM[alg]
    for kid, (key_kind, _) in KIDS.items():
        header = {"typ": "JWT", "alg": alg, "kid": kid}
        by_attacker = forge(header, world.issuer.claims(sub="mallory"), key_ring[("rogue", kind)], alg)
        assert await refused(world, by_attacker), f"{alg} signed by the attacker naming {kid}"
        if key_kind == kind:
            genuine = world.issuer.sign(world.issuer.claims(), kid, alg=alg)
            assert await seen(world, genuine) == REGISTERED, f"{alg} by the issuer's {kid}"
        else:
            # The issuer's own key of the right type, passed off under the name of another key.
            relabelled = forge(header, world.issuer.claims(), key_ring[("issuer", kind)], alg)
            message = await refused(world, relabelled)
            assert message.startswith(f"the access token says {alg} but names a key of type"), message


@pytest.mark.parametrize("alg", ALGORITHMS)
async def test_a_visa_grants_only_when_its_algorithm_fits_the_broker_key_it_names(
    world: World, key_ring: KeyRing, alg: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind = KIND_OF_ALGORITHM[alg]
    for kid, (key_kind, _) in KIDS.items():
        header = {"typ": "JWT", "alg": alg, "kid": kid}
        caplog.clear()
        by_attacker = forge(header, world.broker.visa_claims(), key_ring[("rogue", kind)], alg)
        token = world.issuer.token(ga4gh_passport_v1=[by_attacker])
        assert await seen(world, token) == REGISTERED, f"{alg} visa signed by the attacker naming {kid}"
        assert "ignoring visa 0" in caplog.text
        if key_kind == kind:
            genuine = world.broker.sign(world.broker.visa_claims(), kid, alg=alg)
            token = world.issuer.token(ga4gh_passport_v1=[genuine])
            assert await seen(world, token) == CONTROLLED, f"{alg} visa by the broker's {kid}"


# --- forged and malformed access tokens ---------------------------------------------------------

Forger = Callable[[World, KeyRing], str]
_DROP = object()  # a claim or field to leave out


def _genuine(header: dict[str, Any] | bytes, **claims: Any) -> Forger:
    """A token the issuer really signed with its RSA key, with this header and these claim changes."""

    def make(w: World, ring: KeyRing) -> str:
        body = {k: v for k, v in {**w.issuer.claims(), **claims}.items() if v is not _DROP}
        return forge(header, body, ring[("issuer", "RSA")], "RS256")

    return make


def _by_rogue(header: dict[str, Any], alg: str = "RS256", kind: str = "RSA", **claims: Any) -> Forger:
    return lambda w, ring: forge(header, {**w.issuer.claims(sub="mallory"), **claims}, ring[("rogue", kind)], alg)


RS = {"typ": "JWT", "alg": "RS256", "kid": "rsa-1"}
NESTED = b"[" * 2000 + b"]" * 2000

FORGED: dict[str, Forger] = {
    "alg none without a signature": lambda w, r: forge({"alg": "none"}, w.issuer.claims(), None, "none"),
    "alg none with a signature": lambda w, r: (
        forge({"alg": "none", "kid": "rsa-1"}, w.issuer.claims(), None, "none") + "c2lnbmF0dXJl"
    ),
    "alg NONE in capitals": lambda w, r: forge({"alg": "NONE"}, w.issuer.claims(), None, "none") + "AAAA",
    "HS256 with the issuer's RSA public key as secret": lambda w, r: forge(
        {"alg": "HS256", "kid": "rsa-1"}, w.issuer.claims(sub="mallory"), public_pem(r[("issuer", "RSA")]), "HS256"
    ),
    "HS256 with the issuer's EC public key as secret": lambda w, r: forge(
        {"alg": "HS256", "kid": "ec-1"}, w.issuer.claims(sub="mallory"), public_pem(r[("issuer", "P-256")]), "HS256"
    ),
    "HS384 with the issuer's JWK as secret": lambda w, r: forge(
        {"alg": "HS384"}, w.issuer.claims(), json.dumps(public_jwk(r[("issuer", "RSA")])).encode(), "HS384"
    ),
    "ES256 naming the issuer's RSA key": _by_rogue({"alg": "ES256", "kid": "rsa-1"}, "ES256", "P-256"),
    "RS256 naming the issuer's EC key": _by_rogue({"alg": "RS256", "kid": "ec-1"}),
    "EdDSA naming the issuer's RSA key": _by_rogue({"alg": "EdDSA", "kid": "rsa-1"}, "EdDSA", "Ed25519"),
    "ES384 naming the issuer's P-256 key": _by_rogue({"alg": "ES384", "kid": "ec-1"}, "ES384", "P-384"),
    "alg missing (genuinely signed)": _genuine({"kid": "rsa-1"}),
    "alg a list (genuinely signed)": _genuine({"alg": ["RS256"], "kid": "rsa-1"}),
    "alg in lower case (genuinely signed)": _genuine({"alg": "rs256", "kid": "rsa-1"}),
    "kid missing while the issuer publishes five keys": _genuine({"alg": "RS256"}),
    "kid unknown": _by_rogue({"alg": "RS256", "kid": "attacker-1"}),
    "kid a number": _genuine({"alg": "RS256", "kid": 1}),
    "kid an object": _genuine({"alg": "RS256", "kid": {"kid": "rsa-1"}}),
    "kid a list": _genuine({"alg": "RS256", "kid": ["rsa-1"]}),
    "jku at the attacker's key set": lambda w, r: _by_rogue({**RS, "jku": w.rogue.jwks_uri})(w, r),
    "x5u at the attacker's certificate": lambda w, r: _by_rogue({**RS, "x5u": w.rogue.url + "/cert.pem"})(w, r),
    "jwk header carrying the attacker's key": lambda w, r: _by_rogue(
        {"alg": "RS256", "jwk": public_jwk(r[("rogue", "RSA")])}
    )(w, r),
    "jwk header carrying the attacker's key under the issuer's kid": lambda w, r: _by_rogue(
        {**RS, "jwk": {**public_jwk(r[("rogue", "RSA")]), "kid": "rsa-1"}}
    )(w, r),
    "x5c chain of the attacker": _by_rogue({**RS, "x5c": [b64(b"not a certificate")]}),
    "crit extension (genuinely signed)": _genuine({**RS, "crit": ["exp"]}),
    "b64 false (genuinely signed)": _genuine({**RS, "b64": False, "crit": ["b64"]}),
    "duplicate alg in the header (genuinely signed)": _genuine(b'{"alg":"none","kid":"rsa-1","alg":"RS256"}'),
    "header not JSON": lambda w, r: forge(b"not json", w.issuer.claims(), r[("issuer", "RSA")], "RS256"),
    "header not UTF-8": lambda w, r: forge(b"\xff\xfe{}", w.issuer.claims(), r[("issuer", "RSA")], "RS256"),
    "header a JSON array": lambda w, r: forge(b'["RS256"]', w.issuer.claims(), r[("issuer", "RSA")], "RS256"),
    "header deeply nested": lambda w, r: forge(
        b'{"alg":' + NESTED + b"}", w.issuer.claims(), r[("issuer", "RSA")], "RS256"
    ),
    "payload not JSON": lambda w, r: forge(RS, b"not json", r[("issuer", "RSA")], "RS256"),
    "payload a JSON array": lambda w, r: forge(RS, b'["alice"]', r[("issuer", "RSA")], "RS256"),
    "payload null": lambda w, r: forge(RS, b"null", r[("issuer", "RSA")], "RS256"),
    "payload deeply nested": lambda w, r: forge(RS, b'{"iss":' + NESTED + b"}", r[("issuer", "RSA")], "RS256"),
    "exp NaN (genuinely signed)": lambda w, r: forge(
        RS, json.dumps({**w.issuer.claims(), "exp": float("nan")}).encode(), r[("issuer", "RSA")], "RS256"
    ),
    "exp Infinity (genuinely signed)": lambda w, r: forge(
        RS, json.dumps({**w.issuer.claims(), "exp": float("inf")}).encode(), r[("issuer", "RSA")], "RS256"
    ),
    "iat 1e400, infinite (genuinely signed)": lambda w, r: forge(
        RS,
        json.dumps(w.issuer.claims()).replace('"iat": ', '"iat": 1e400, "x": ').encode(),
        r[("issuer", "RSA")],
        "RS256",
    ),
    "not base64url": lambda w, r: "eyJhbGciOiJSUzI1NiJ9.e30*.c2ln",
    "base64 padding": lambda w, r: w.issuer.token().split(".")[0] + "=." + w.issuer.token().split(".", 1)[1],
    "two parts": lambda w, r: w.issuer.token().rsplit(".", 1)[0],
    "four parts": lambda w, r: w.issuer.token() + ".c2ln",
    "only dots": lambda w, r: "..",
    "iss a list (genuinely signed)": lambda w, r: _genuine(RS, iss=[w.issuer.url])(w, r),
    "iss a number (genuinely signed)": _genuine(RS, iss=1),
    "iss missing (genuinely signed)": _genuine(RS, iss=_DROP),
    "iss with a trailing slash (genuinely signed)": lambda w, r: _genuine(RS, iss=w.issuer.url + "/")(w, r),
    "sub a number (genuinely signed)": _genuine(RS, sub=7),
    "sub a list (genuinely signed)": _genuine(RS, sub=["alice"]),
    "sub empty (genuinely signed)": _genuine(RS, sub=""),
    "sub missing (genuinely signed)": _genuine(RS, sub=_DROP),
    "aud a list without this beacon (genuinely signed)": _genuine(RS, aud=["another-service", "a-third"]),
    "aud a list with a non-string (genuinely signed)": _genuine(RS, aud=["beacon-test", 5]),
    "aud a number (genuinely signed)": _genuine(RS, aud=5),
    "aud an object (genuinely signed)": _genuine(RS, aud={"beacon-test": True}),
    "aud missing (genuinely signed)": _genuine(RS, aud=_DROP),
    "exp a string (genuinely signed)": lambda w, r: _genuine(RS, exp=str(int(time.time()) + 600))(w, r),
    "exp true (genuinely signed)": _genuine(RS, exp=True),
    "exp missing (genuinely signed)": _genuine(RS, exp=_DROP),
    "exp an hour ago (genuinely signed)": lambda w, r: _genuine(RS, exp=int(time.time()) - 3600)(w, r),
    "nbf in an hour (genuinely signed)": lambda w, r: _genuine(RS, nbf=int(time.time()) + 3600)(w, r),
    "nbf a string (genuinely signed)": _genuine(RS, nbf="now"),
    "iat in an hour (genuinely signed)": lambda w, r: _genuine(RS, iat=int(time.time()) + 3600)(w, r),
    "iat a string (genuinely signed)": _genuine(RS, iat="now"),
    "huge, just under the header limit": lambda w, r: _by_rogue(RS, pad="x" * 5500)(w, r),
    "a visa presented as the access token": lambda w, r: w.broker.visa(),
    "the issuer's claims signed with the broker's key under the issuer's kid": lambda w, r: forge(
        RS, w.issuer.claims(), r[("broker", "RSA")], "RS256"
    ),
}


@pytest.mark.parametrize("case", list(FORGED))
async def test_a_forged_or_malformed_access_token_is_a_401_beacon_error(
    world: World, key_ring: KeyRing, case: str
) -> None:
    await refused(world, FORGED[case](world, key_ring))


ACCEPTED: dict[str, Forger] = {
    "aud a list naming this beacon (RFC 7519 4.1.3)": _genuine(RS, aud=["another-service", "beacon-test"]),
    "jku naming the issuer's own key set": lambda w, r: _genuine({**RS, "jku": w.issuer.jwks_uri})(w, r),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
async def test_tokens_that_look_unusual_but_hold_are_accepted(world: World, key_ring: KeyRing, case: str) -> None:
    assert await seen(world, ACCEPTED[case](world, key_ring)) == REGISTERED


async def test_a_token_beyond_the_http_header_limit_is_refused_before_the_beacon_and_never_a_500(
    world: World, key_ring: KeyRing
) -> None:
    token = _by_rogue(RS, pad="x" * 20_000)(world, key_ring)
    resp = await world.client.get("/api/individuals", headers={"Authorization": f"Bearer {token}"})
    assert resp.status in (400, 401, 431), resp.status
    assert token not in await resp.text()


# --- visas --------------------------------------------------------------------------------------

Passport = Callable[[World, KeyRing], list[Any]]


def _visa(**fields: Any) -> Passport:
    """One broker visa whose ga4gh_visa_v1 object has these changes (`_DROP` removes a field)."""

    def make(w: World, ring: KeyRing) -> list[Any]:
        claims = w.broker.visa_claims()
        claims["ga4gh_visa_v1"] = {k: v for k, v in {**claims["ga4gh_visa_v1"], **fields}.items() if v is not _DROP}
        return [w.broker.sign(claims, "ec-1")]

    return make


def _visa_claims(**changes: Any) -> Passport:
    """One broker visa with these JWT claim changes (`_DROP` removes a claim)."""

    def make(w: World, ring: KeyRing) -> list[Any]:
        claims = {k: v for k, v in {**w.broker.visa_claims(), **changes}.items() if v is not _DROP}
        return [w.broker.sign(claims, "ec-1")]

    return make


def _raw_visa(header: dict[str, Any] | bytes, payload: bytes | None = None, signer: str = "broker") -> Passport:
    def make(w: World, ring: KeyRing) -> list[Any]:
        body: dict[str, Any] | bytes = payload if payload is not None else w.broker.visa_claims()
        return [forge(header, body, ring[(signer, "P-256")], "ES256")]

    return make


ES = {"typ": "JWT", "alg": "ES256", "kid": "ec-1"}
AFFILIATION: dict[str, Any] = {"type": "AffiliationAndRole", "source": "https://uni.example", "by": "so"}
FACULTY = [[{"type": "AffiliationAndRole", "value": "const:faculty@uni.example", "by": "const:so"}]]


def _with_affiliation(conditions: object, affiliation: dict[str, Any] | None = None, kid: str = "ec-1") -> Passport:
    """A conditional grant plus a faculty@uni.example affiliation visa (changed by `affiliation`)."""

    def make(w: World, ring: KeyRing) -> list[Any]:
        fields = {**AFFILIATION, **(affiliation or {})}
        value = fields.pop("value", "faculty@uni.example")
        sub = fields.pop("sub", "alice")
        exp_in = fields.pop("exp_in", 600)
        signer = w.rogue if fields.pop("rogue", False) else w.broker
        grant = w.broker.visa(conditions=conditions)
        return [grant, signer.visa(value, kid=kid, exp_in=exp_in, sub=sub, **fields)]

    return make


def _linked(link_sub: str, value: Callable[[World], str], rogue: bool = False) -> Passport:
    """A grant to `alice-ega` at the broker, plus a LinkedIdentities visa of `link_sub` with this value."""

    def make(w: World, ring: KeyRing) -> list[Any]:
        grant = w.broker.visa(sub="alice-ega")
        signer = w.rogue if rogue else w.broker
        link = signer.visa(value(w), sub=link_sub, type="LinkedIdentities", source=w.broker.url, by="system")
        return [grant, link]

    return make


def _pair(sub: str, iss: str) -> str:
    return f"{quote(sub, safe='')},{quote(iss, safe='')}"


IGNORED: dict[str, Passport] = {
    "alg none": _raw_visa({"alg": "none", "kid": "ec-1"}),
    "HS256 with the broker's EC public key as secret": lambda w, r: [
        forge({"alg": "HS256", "kid": "ec-1"}, w.broker.visa_claims(), public_pem(r[("broker", "P-256")]), "HS256")
    ],
    "RS256 naming the broker's EC key": lambda w, r: [
        forge({"alg": "RS256", "kid": "ec-1"}, w.broker.visa_claims(), r[("rogue", "RSA")], "RS256")
    ],
    "ES256 naming the broker's RSA key": _raw_visa({"alg": "ES256", "kid": "rsa-1"}, signer="rogue"),
    "kid unknown": _raw_visa({"alg": "ES256", "kid": "attacker-1"}, signer="rogue"),
    "kid an object": _raw_visa({"alg": "ES256", "kid": {"kid": "ec-1"}}),
    "kid missing while the broker publishes five keys": _raw_visa({"alg": "ES256"}),
    "jku at the attacker's key set": lambda w, r: _raw_visa({**ES, "jku": w.rogue.jwks_uri}, signer="rogue")(w, r),
    "jwk header carrying the attacker's key": lambda w, r: _raw_visa(
        {**ES, "jwk": public_jwk(r[("rogue", "P-256")])}, signer="rogue"
    )(w, r),
    "x5u header": lambda w, r: _raw_visa({**ES, "x5u": w.rogue.url + "/cert.pem"}, signer="rogue")(w, r),
    "header not JSON": _raw_visa(b"{alg: ES256}"),
    "payload not JSON": _raw_visa(ES, b"{ga4gh_visa_v1}"),
    "payload deeply nested": _raw_visa(ES, b'{"iss":' + NESTED + b"}"),
    "not a string": lambda w, r: [{"ga4gh_visa_v1": {"type": "ControlledAccessGrants", "value": CTL_VISA}}],
    "exp an hour ago": lambda w, r: _visa_claims(exp=int(time.time()) - 3600)(w, r),
    "exp missing": _visa_claims(exp=_DROP),
    "exp a string": _visa_claims(exp="tomorrow"),
    "iat in an hour": lambda w, r: _visa_claims(iat=int(time.time()) + 3600)(w, r),
    "nbf in an hour": lambda w, r: _visa_claims(nbf=int(time.time()) + 3600)(w, r),
    "asserted in an hour": lambda w, r: _visa(asserted=int(time.time()) + 3600)(w, r),
    "asserted missing": _visa(asserted=_DROP),
    "asserted a string": _visa(asserted="2020-01-01"),
    "asserted true": _visa(asserted=True),
    "value a number": _visa(value=42),
    "value a list": _visa(value=[CTL_VISA]),
    "value missing": _visa(value=_DROP),
    "type missing": _visa(type=_DROP),
    "source missing": _visa(source=_DROP),
    "by missing on a ControlledAccessGrants visa": _visa(by=_DROP),
    "by a number": _visa(by=1),
    "ga4gh_visa_v1 a string": _visa_claims(ga4gh_visa_v1=json.dumps({"type": "ControlledAccessGrants"})),
    "ga4gh_visa_v1 missing": _visa_claims(ga4gh_visa_v1=_DROP),
    "of another subject": _visa_claims(sub="bob"),
    "sub missing": _visa_claims(sub=_DROP),
    "sub a number": _visa_claims(sub=1),
    "signed by the trusted access-token issuer, which is no broker": lambda w, r: [
        w.issuer.sign({**w.broker.visa_claims(), "iss": w.issuer.url}, "ec-1")
    ],
    "claiming the broker but signed by the rogue": lambda w, r: [w.rogue.sign(w.broker.visa_claims(), "ec-1")],
    "from a broker not on the allow-list": lambda w, r: [w.rogue.visa()],
    "conditions not a list": lambda w, r: [w.broker.visa(conditions="AffiliationAndRole")],
    "conditions a flat list of clauses": lambda w, r: [
        w.broker.visa(conditions=FACULTY[0]),
        w.broker.visa("faculty@uni.example", **AFFILIATION),
    ],
    "conditions unmet": lambda w, r: [w.broker.visa(conditions=FACULTY)],
    "conditions unmet by an affiliation elsewhere": _with_affiliation(FACULTY, {"value": "student@uni.example"}),
    "conditions unmet: by differs": _with_affiliation(FACULTY, {"by": "self"}),
    "conditions unmet: pattern misses": _with_affiliation(
        [[{"type": "AffiliationAndRole", "value": "pattern:staff@*"}]]
    ),
    "a clause without type": _with_affiliation([[{"value": "const:faculty@uni.example"}]]),
    "a clause with only a type": _with_affiliation([[{"type": "AffiliationAndRole"}]]),
    "a clause with an unknown prefix": _with_affiliation([[{"type": "AffiliationAndRole", "value": "regex:.*"}]]),
    "a clause without a prefix": _with_affiliation([[{"type": "AffiliationAndRole", "value": "faculty@uni.example"}]]),
    "a clause on asserted": _with_affiliation([[{"type": "AffiliationAndRole", "asserted": "pattern:*"}]]),
    "a clause on an unknown field": _with_affiliation([[{"type": "AffiliationAndRole", "sub": "pattern:*"}]]),
    "a clause with a non-string value": _with_affiliation([[{"type": "AffiliationAndRole", "value": ["const:x"]}]]),
    "an empty AND branch": _with_affiliation([[]]),
    "conditions met only by a visa of another subject": _with_affiliation(FACULTY, {"sub": "bob"}),
    "conditions met only by a visa with conditions of its own": _with_affiliation(
        FACULTY, {"conditions": [[{"type": "ResearcherStatus", "value": "pattern:*"}]]}
    ),
    "conditions met only by an expired visa": _with_affiliation(FACULTY, {"exp_in": -3600}),
    "conditions met only by a visa of a broker not on the allow-list": _with_affiliation(FACULTY, {"rogue": True}),
    "a grant to another identity without a link": lambda w, r: [w.broker.visa(sub="alice-ega")],
    "a link from a broker not on the allow-list": _linked(
        "alice", lambda w: _pair("alice-ega", w.broker.url), rogue=True
    ),
    "a link whose value is malformed": _linked("alice", lambda w: "alice-ega@" + w.broker.url),
    "a link between two other people": _linked("bob", lambda w: _pair("alice-ega", w.broker.url)),
}


@pytest.mark.parametrize("case", list(IGNORED))
async def test_a_visa_that_does_not_hold_grants_nothing_and_the_caller_stays_registered(
    world: World, key_ring: KeyRing, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = world.issuer.token(ga4gh_passport_v1=IGNORED[case](world, key_ring))
    with caplog.at_level(logging.WARNING, logger="beacon.security"):
        assert await seen(world, token) == REGISTERED
    assert "ignoring visa" in caplog.text


GRANTING: dict[str, Passport] = {
    "a plain ControlledAccessGrants visa": lambda w, r: [w.broker.visa()],
    "a visa whose jku names the broker's own key set": lambda w, r: [
        w.broker.sign(w.broker.visa_claims(), "ec-1", jku=w.broker.jwks_uri)
    ],
    "conditions met (const)": _with_affiliation(FACULTY),
    "conditions met (pattern)": _with_affiliation(
        [[{"type": "AffiliationAndRole", "value": "pattern:facult?@*.example", "source": "const:https://uni.example"}]]
    ),
    "conditions met (split_pattern)": _with_affiliation(
        [[{"type": "AffiliationAndRole", "value": "split_pattern:faculty@*"}]],
        {"value": "student@other.example;faculty@uni.example"},
    ),
    "conditions met by the second OR branch": _with_affiliation(
        [[{"type": "ResearcherStatus", "value": "pattern:*"}], FACULTY[0]]
    ),
    "conditions empty": lambda w, r: [w.broker.visa(conditions=[])],
    "a grant to a linked identity": _linked("alice", lambda w: _pair("alice-ega", w.broker.url)),
    "a grant to an identity a broker links with the access token's": _linked(
        "00001", lambda w: f"{_pair('alice', w.issuer.url)};{_pair('alice-ega', w.broker.url)}"
    ),
    "a grant to an identity linked by a chain": lambda w, r: [
        w.broker.visa(sub="alice-ega"),
        w.broker.visa(_pair("alice-2", w.broker.url), sub="alice", type="LinkedIdentities", by="system"),
        w.broker.visa(_pair("alice-ega", w.broker.url), sub="alice-2", type="LinkedIdentities", by="system"),
    ],
}


@pytest.mark.parametrize("case", list(GRANTING))
async def test_a_visa_that_holds_grants_its_dataset(world: World, key_ring: KeyRing, case: str) -> None:
    token = world.issuer.token(ga4gh_passport_v1=GRANTING[case](world, key_ring))
    assert await seen(world, token) == CONTROLLED


@pytest.mark.parametrize("shape", ["a string", "an object", "a number", "a list of numbers"])
async def test_a_passport_claim_of_another_shape_grants_nothing(world: World, shape: str) -> None:
    visa = world.broker.visa()
    passport = {"a string": visa, "an object": {"visa": visa}, "a number": 1, "a list of numbers": [1, 2]}[shape]
    assert await seen(world, world.issuer.token(ga4gh_passport_v1=passport)) == REGISTERED


async def test_a_userinfo_answer_about_another_subject_grants_nothing(world: World) -> None:
    token = world.issuer.token()
    world.issuer.passports[token] = [world.broker.visa()]
    world.issuer.userinfo_sub = "bob"
    assert await seen(world, token) == REGISTERED


async def test_a_failing_userinfo_endpoint_leaves_the_caller_registered(world: World) -> None:
    world.issuer.userinfo_status = 500
    assert await seen(world, world.issuer.token()) == REGISTERED


async def test_a_huge_visa_from_userinfo_is_ignored_and_the_next_one_still_grants(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    token = world.issuer.token()
    huge = world.broker.visa(note="x" * 20_000)
    world.issuer.passports[token] = [huge, world.broker.visa()]
    assert await seen(world, token) == CONTROLLED
    assert "ignoring visa 0 of a passport: the visa is longer than" in caplog.text


async def test_a_crafted_token_is_a_401_on_every_api_route(world: World, key_ring: KeyRing) -> None:
    """An ES256 token naming the issuer's RSA key (a 500 everywhere before), on each GET and POST route."""
    token = forge({"alg": "ES256", "kid": "rsa-1"}, world.issuer.claims(), key_ring[("rogue", "P-256")], "ES256")
    headers = {"Authorization": f"Bearer {token}"}
    routes = sorted(
        (r.method, r.resource.canonical.replace("{id}", "P1"))
        for r in world.client.app.router.routes()
        if r.method in ("GET", "POST") and r.resource is not None and r.resource.canonical.startswith("/api")
    )
    assert len(routes) > 100
    statuses = {}
    for method, path in routes:
        resp = await world.client.request(method, path, headers=headers, json={} if method == "POST" else None)
        statuses[f"{method} {path}"] = resp.status
    assert {route: status for route, status in statuses.items() if status != 401} == {}


# --- properties of the parser: whatever arrives, a Jws or a refusal -------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
PARTS = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["alg", "kid", "jku", "crit", "iss", "exp"]), JSON_VALUES).map(
        lambda d: json.dumps(d).encode()
    ),
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.tuples(PARTS, PARTS, st.binary(max_size=64)).map(lambda p: ".".join(b64(x) for x in p)),
    )
)
def test_any_text_parses_to_a_jws_or_is_refused_as_unauthorized(token: str) -> None:
    try:
        jws = parse_jws(token)
    except Unauthorized:
        return  # any other exception fails the property
    assert isinstance(jws.header, dict)
    assert isinstance(jws.claims, dict)
