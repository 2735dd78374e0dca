"""Which published keys may verify which algorithms, which JWKS entries are never used, and for how long a key set is trusted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa

from beacon.api.app import create_app
from beacon.api.keys import CONFIG
from beacon.config import load_config
from beacon.errors import ConfigError, Unauthorized
from beacon.security.jwks import KEY_TYPE_OF_ALGORITHM, KeyDirectory, parse_jwks
from beacon.security.jwks import lifetime as jwks_lifetime
from tests.conftest import AiohttpClient
from tests.security.conftest import World
from tests.security.issuers import KIDS, KIND_OF_ALGORITHM, new_key, public_jwk


@pytest.fixture(scope="module")
def jwks() -> dict[str, dict[str, Any]]:
    """One public JWK of every key type, by kind."""
    return {kind: public_jwk(new_key(kind)) for kind, _ in KIDS.values()}


@pytest.mark.parametrize("alg", sorted(KEY_TYPE_OF_ALGORITHM))
def test_a_key_fits_exactly_the_algorithms_of_its_type(jwks: dict[str, dict[str, Any]], alg: str) -> None:
    keys = parse_jwks({"keys": [{**jwk, "kid": kind} for kind, jwk in jwks.items()]}, "test")
    assert {kind for kind, key in keys.items() if key.fits(alg)} == {KIND_OF_ALGORITHM[alg]}


@pytest.mark.parametrize("alg", ["HS256", "none", "ES256K", "RSA-OAEP", ""])
def test_no_key_fits_a_symmetric_unsigned_or_unknown_algorithm(jwks: dict[str, dict[str, Any]], alg: str) -> None:
    keys = parse_jwks({"keys": [{**jwk, "kid": kind} for kind, jwk in jwks.items()]}, "test")
    assert not any(key.fits(alg) for key in keys.values())


def test_a_key_that_pins_its_algorithm_fits_only_that_one(jwks: dict[str, dict[str, Any]]) -> None:
    keys = parse_jwks({"keys": [{**jwks["RSA"], "kid": "k", "alg": "PS256"}]}, "test")
    assert [a for a in KEY_TYPE_OF_ALGORITHM if keys["k"].fits(a)] == ["PS256"]


def test_keys_that_may_not_verify_are_never_used(jwks: dict[str, dict[str, Any]]) -> None:
    weak = public_jwk(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    private = {**jwks["P-256"], "d": "c2VjcmV0"}
    document: dict[str, Any] = {
        "keys": [
            {**jwks["RSA"], "kid": "signing"},
            {**jwks["RSA"], "kid": "encryption", "use": "enc"},
            {**jwks["RSA"], "kid": "wrap-only", "key_ops": ["wrapKey"]},
            {**jwks["RSA"], "kid": "alg-not-a-string", "alg": ["RS256"]},
            {**weak, "kid": "weak"},
            {**private, "kid": "private"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "shared-secret"},
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "not-on-the-curve"},
            {"kty": "OKP", "crv": "X25519", "x": jwks["Ed25519"]["x"], "kid": "key-agreement"},
            "not an object",
        ]
    }
    assert list(parse_jwks(document, "test")) == ["signing"]
    assert parse_jwks({"keys": "not a list"}, "test") == {}


# --- how long a fetched key set is trusted --------------------------------------------------------

MAX_AGE_S, FLOOR_S = 300.0, 30.0


@dataclass
class Publisher:
    """An issuer's JWKS endpoint on loopback whose keys, Cache-Control and health the test sets."""

    keys: dict[str, dict[str, Any]]
    cache_control: str | None = None
    status: int = 200
    fetches: int = 0


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Keys:
    publisher: Publisher
    clock: Clock
    directory: KeyDirectory
    uri: str

    async def key(self, kid: str | None, max_age_s: float = MAX_AGE_S) -> str:
        """`kid` if the directory lets it verify now, else the refusal's message."""
        try:
            await self.directory.key(self.uri, kid, max_age_s)
        except Unauthorized as exc:
            return exc.message
        return str(kid)


def _publisher_app(publisher: Publisher) -> web.Application:
    async def jwks(request: web.Request) -> web.Response:
        publisher.fetches += 1
        if publisher.status != 200:
            return web.Response(status=publisher.status, text="down")
        headers = {"Cache-Control": publisher.cache_control} if publisher.cache_control is not None else {}
        keys = [{**jwk, "kid": kid, "use": "sig"} for kid, jwk in publisher.keys.items()]
        return web.json_response({"keys": keys}, headers=headers)

    app = web.Application()
    app.router.add_get("/jwks", jwks)
    return app


@pytest.fixture
async def keys(
    aiohttp_server: Callable[..., Awaitable[TestServer]], jwks: dict[str, dict[str, Any]]
) -> AsyncIterator[Keys]:
    """A key directory (floor FLOOR_S, a clock the test moves) in front of an issuer publishing keys a and b."""
    publisher = Publisher({"a": jwks["RSA"], "b": jwks["P-256"]})
    server = await aiohttp_server(_publisher_app(publisher))
    clock = Clock()
    async with aiohttp.ClientSession() as session:
        yield Keys(publisher, clock, KeyDirectory(session, FLOOR_S, clock=clock), str(server.make_url("/jwks")))


GONE = "token signed with a key its issuer does not publish"
UNREACHABLE = "token signed by an issuer whose keys could not be fetched"


async def test_a_withdrawn_key_verifies_until_the_set_reaches_its_max_age_and_never_after(keys: Keys) -> None:
    assert await keys.key("a") == "a"
    keys.publisher.keys.pop("a")
    keys.clock.now += MAX_AGE_S - 1
    assert [await keys.key("a"), await keys.key("b")] == ["a", "b"]  # the set is fresh: no fetch
    assert keys.publisher.fetches == 1
    keys.clock.now += 1
    assert [await keys.key("a"), await keys.key("b")] == [GONE, "b"]
    assert keys.publisher.fetches == 2


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [
        (None, MAX_AGE_S),
        ("max-age=60", 60),
        ("public, MAX-AGE=120, must-revalidate", 120),
        ('max-age="90"', 90),
        ("max-age=86400", MAX_AGE_S),  # capped by the ceiling
        ("max-age=5", FLOOR_S),  # never stale before it may be fetched again
        ("no-store", FLOOR_S),
        ("max-age=600, no-cache", FLOOR_S),
        ("max-age=-1", MAX_AGE_S),  # not delta-seconds: ignored
        ("max-age=soon", MAX_AGE_S),
        ("", MAX_AGE_S),
    ],
)
async def test_cache_control_max_age_is_honoured_within_the_floor_and_the_ceiling(
    keys: Keys, cache_control: str | None, lifetime: float
) -> None:
    assert jwks_lifetime(cache_control, MAX_AGE_S, FLOOR_S) == lifetime
    keys.publisher.cache_control = cache_control
    assert await keys.key("a") == "a"
    keys.publisher.keys.pop("a")
    keys.clock.now += lifetime - 0.5
    assert await keys.key("a") == "a"
    keys.clock.now += 0.5
    assert await keys.key("a") == GONE


async def test_unknown_key_ids_fetch_the_set_at_most_once_per_floor(keys: Keys) -> None:
    assert await keys.key("a") == "a"
    forged = [f"forged-{n}" for n in range(200)]
    assert set(await asyncio.gather(*(keys.key(kid) for kid in forged))) == {GONE}
    keys.clock.now += FLOOR_S - 1
    assert {await keys.key(kid) for kid in forged} == {GONE}
    assert keys.publisher.fetches == 1  # the floor counts from the first fetch
    keys.clock.now += 1
    assert set(await asyncio.gather(*(keys.key(kid) for kid in forged))) == {GONE}
    assert keys.publisher.fetches == 2


async def test_a_stale_set_is_fetched_once_however_many_tokens_arrive_together(keys: Keys) -> None:
    assert await keys.key("a") == "a"
    keys.clock.now += MAX_AGE_S
    assert set(await asyncio.gather(*(keys.key(kid) for kid in ["a", "b"] * 50))) == {"a", "b"}
    assert keys.publisher.fetches == 2


async def test_an_unreachable_issuers_stale_set_verifies_for_one_more_lifetime_then_nothing(keys: Keys) -> None:
    assert await keys.key("a") == "a"
    keys.publisher.status = 503
    keys.clock.now += MAX_AGE_S  # stale: the refetch fails, the set is kept for a while
    assert [await keys.key("a"), await keys.key("b"), await keys.key("c")] == ["a", "b", GONE]
    keys.clock.now += MAX_AGE_S - 1
    assert await keys.key("b") == "b"
    keys.clock.now += 1
    assert [await keys.key("a"), await keys.key("b")] == [UNREACHABLE, UNREACHABLE]
    fetches = keys.publisher.fetches
    assert fetches <= 2 + MAX_AGE_S / FLOOR_S  # even while down, at most one fetch per floor
    keys.publisher.status = 200
    keys.clock.now += FLOOR_S
    assert await keys.key("b") == "b"  # back as soon as the issuer is


async def test_a_key_withdrawn_by_the_last_fetch_is_never_restored_by_a_failed_one(keys: Keys) -> None:
    assert await keys.key("a") == "a"
    keys.publisher.keys.pop("a")
    keys.clock.now += MAX_AGE_S
    assert await keys.key("b") == "b"  # the fresh set, without a
    keys.publisher.status = 503
    keys.clock.now += MAX_AGE_S  # stale again, and the issuer is down: the last set (without a) is kept
    assert [await keys.key("a"), await keys.key("b")] == [GONE, "b"]


async def test_an_issuer_never_reached_verifies_nothing(keys: Keys) -> None:
    keys.publisher.status = 500
    assert await keys.key("a") == UNREACHABLE


async def test_a_ceiling_under_the_floor_leaves_the_floor_in_charge(keys: Keys) -> None:
    assert await keys.key("a", max_age_s=1) == "a"
    keys.publisher.keys.pop("a")
    keys.clock.now += FLOOR_S - 1
    assert await keys.key("a", max_age_s=1) == "a"
    keys.clock.now += 1
    assert await keys.key("a", max_age_s=1) == GONE


# --- the same, end to end: an issuer's and a broker's withdrawn keys ------------------------------


async def _with_max_age(world: World, aiohttp_client: AiohttpClient, max_age_s: float) -> World:
    """The world, its beacon restarted with `security.jwks_max_age_s`."""
    config = world.client.app[CONFIG] if world.client.app is not None else None
    assert config is not None
    security = replace(config.security, jwks_max_age_s=max_age_s)
    return replace(world, client=await aiohttp_client(create_app(replace(config, security=security))))


async def _datasets(world: World, token: str) -> tuple[int, set[str]]:
    resp = await world.client.get(
        "/api/individuals",
        params={"requestedGranularity": "count", "includeResultsetResponses": "ALL"},
        headers={"Authorization": f"Bearer {token}"},
    )
    document = await resp.json()
    if resp.status != 200:
        return resp.status, set()
    return resp.status, {s["id"] for s in document["response"]["resultSets"]}


async def test_a_visa_signed_with_a_key_its_broker_withdraws_stops_granting(
    world: World, aiohttp_client: AiohttpClient
) -> None:
    world = await _with_max_age(world, aiohttp_client, 0.1)
    everything = (200, {"open-ds", "reg-ds", "ctl-ds"})
    assert await _datasets(world, world.issuer.token(ga4gh_passport_v1=[world.broker.visa(kid="ec-1")])) == everything
    assert await _datasets(world, world.issuer.token(ga4gh_passport_v1=[world.broker.visa(kid="rsa-1")])) == everything
    world.broker.published.remove("ec-1")
    await asyncio.sleep(0.15)
    assert await _datasets(world, world.issuer.token(ga4gh_passport_v1=[world.broker.visa(kid="rsa-1")])) == everything
    stolen = world.broker.visa(kid="ec-1", sub="alice")
    assert await _datasets(world, world.issuer.token(ga4gh_passport_v1=[stolen])) == (200, {"open-ds", "reg-ds"})


async def test_by_default_a_key_set_is_trusted_for_five_minutes(world: World) -> None:
    config = world.client.app[CONFIG] if world.client.app is not None else None
    assert config is not None
    assert config.security.jwks_max_age_s == MAX_AGE_S
    assert await _datasets(world, world.issuer.token(kid="ec-1")) == (200, {"open-ds", "reg-ds"})
    world.issuer.published.remove("ec-1")
    await asyncio.sleep(0.05)
    assert (await _datasets(world, world.issuer.token(kid="ec-1")))[0] == 200  # still within its max age


CONF = """
beacon:
  id: org.example.b
  name: B
  organization: {id: org.example, name: Example}
security:
"""


def test_the_ceiling_is_read_from_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "beacon.yaml"
    path.write_text(CONF + "  jwks_max_age_s: 60\n")
    assert load_config(path, env={}).security.jwks_max_age_s == 60
    path.write_text(CONF + "  jwks_max_age_s: -1\n")
    with pytest.raises(ConfigError, match=r"security\.jwks_max_age_s: -1 is less than the minimum of 0"):
        load_config(path, env={})
