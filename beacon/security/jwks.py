"""Signing keys of token issuers and visa brokers, fetched only from configured, allow-listed places.

Keys come from the JWKS of an issuer's OpenID configuration (or a broker's configured `jwks_uri`),
never from a URL inside a token. A key id we have not seen triggers one refresh (key rotation),
at most once per `refresh_min_s`, so forged key ids cannot make us hammer the issuer. A key
verifies only the algorithms of its own type (`SigningKey.fits`): an RSA key never checks an
ECDSA or EdDSA signature, a P-256 key never an ES384 one.

A key set is trusted only for a while: for the response's `Cache-Control: max-age`, never longer
than the configured ceiling (`max_age_s`) and never shorter than `refresh_min_s`. A stale set is
fetched again before it verifies anything, so a key its issuer withdraws stops verifying within
that time. When the issuer cannot be reached, the stale set keeps verifying for as long again
(up to twice its lifetime since it was fetched) and then nothing does: a brief outage of the
issuer does not lock everyone out, a long one does not keep withdrawn keys alive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt

from beacon.errors import Unauthorized

log = logging.getLogger(__name__)

# The only algorithms a token or visa may use, whatever conf says: asymmetric signatures, so that
# a published key can never be used as a shared secret (HS256 "public key as secret"), and never `none`.
KEY_TYPE_OF_ALGORITHM: dict[str, tuple[str, frozenset[str] | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", frozenset({"P-256"})),
    "ES384": ("EC", frozenset({"P-384"})),
    "ES512": ("EC", frozenset({"P-521"})),
    "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
}
_MIN_RSA_BITS = 2048
_MAX_DOCUMENT_BYTES = 1 << 20  # discovery, JWKS and userinfo documents


@dataclass(frozen=True)
class SigningKey:
    """One published verification key with the type facts that decide which algorithms it may check."""

    jwk: jwt.PyJWK
    kty: str
    crv: str | None
    alg: str | None  # the JWK's own `alg`, when the issuer pins one

    @property
    def key(self) -> Any:
        """The key object PyJWT verifies with."""
        return self.jwk.key

    def fits(self, alg: str) -> bool:
        """Whether a signature made with `alg` may be checked with this key (RFC 7518 section 3.1, 7517 4.4)."""
        kind = KEY_TYPE_OF_ALGORITHM.get(alg)
        if kind is None or kind[0] != self.kty:
            return False
        curves = kind[1]
        if curves is not None and self.crv not in curves:
            return False
        return self.alg is None or self.alg == alg


DEFAULT_MAX_AGE_S = 300.0
GRACE_FACTOR = 2.0  # a stale set whose refetch failed still verifies up to this many lifetimes after its fetch


@dataclass
class _KeySet:
    keys: dict[str, SigningKey] = field(default_factory=dict)
    tried_at: float = float("-inf")  # the last fetch, successful or not: `refresh_min_s` counts from here
    loaded_at: float = float("-inf")  # the last successful fetch, which `keys` come from
    lifetime: float = 0.0  # seconds after `loaded_at` the keys are fresh

    def age(self, now: float) -> float:
        return now - self.loaded_at


class KeyDirectory:
    """Discovery documents and JWKS of the configured issuers, cached, refreshed on rotation and on age."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        refresh_min_s: float = 30.0,
        timeout_s: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._refresh_min_s = refresh_min_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock
        self._discovery: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, _KeySet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _get(self, url: str, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], str | None]:
        """The JSON object at `url` and the response's Cache-Control header."""
        try:
            async with self._session.get(url, headers=headers, timeout=self._timeout, allow_redirects=False) as resp:
                if resp.status != 200:
                    msg = f"{url} answered HTTP {resp.status}"
                    raise Unauthorized(msg)
                raw = await resp.content.read(_MAX_DOCUMENT_BYTES + 1)
                cache_control = resp.headers.get("Cache-Control")
        except (aiohttp.ClientError, TimeoutError) as exc:
            msg = f"{url} could not be read: {type(exc).__name__}"
            raise Unauthorized(msg) from exc
        if len(raw) > _MAX_DOCUMENT_BYTES:
            msg = f"{url} answered more than {_MAX_DOCUMENT_BYTES} bytes"
            raise Unauthorized(msg)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            msg = f"{url} did not answer JSON: {type(exc).__name__}"
            raise Unauthorized(msg) from exc
        if not isinstance(body, dict):
            msg = f"{url} did not answer a JSON object"
            raise Unauthorized(msg)
        return body, cache_control

    async def _get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return (await self._get(url, headers))[0]

    async def discovery(self, issuer: str) -> dict[str, Any]:
        """The issuer's OpenID configuration; its `issuer` must be the configured one.

        :raise Unauthorized: the document cannot be read or names another issuer.
        """
        if issuer not in self._discovery:
            document = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
            if document.get("issuer") != issuer:
                msg = f"the OpenID configuration of {issuer} names another issuer"
                raise Unauthorized(msg)
            self._discovery[issuer] = document
        return self._discovery[issuer]

    async def key(self, jwks_uri: str, kid: str | None, max_age_s: float = DEFAULT_MAX_AGE_S) -> SigningKey:
        """The key `kid` of the JWKS at `jwks_uri` (a configured or discovered URL, never a token's).

        `max_age_s` is the longest a fetched key set is trusted, whatever its Cache-Control says.

        :raise Unauthorized: no such key is published, or the key set is stale and cannot be read again.
        """
        keyset = self._keys.setdefault(jwks_uri, _KeySet())
        found = _pick(keyset, kid)
        if found is not None and keyset.age(self._clock()) < keyset.lifetime:
            return found
        lock = self._locks.setdefault(jwks_uri, asyncio.Lock())
        async with lock:
            now = self._clock()
            fresh = keyset.age(now) < keyset.lifetime
            if (not fresh or _pick(keyset, kid) is None) and now - keyset.tried_at >= self._refresh_min_s:
                fresh = await self._refresh(keyset, jwks_uri, max_age_s) or fresh
            # A stale set whose refetch failed verifies a while longer (an issuer's brief outage), then nothing.
            usable = fresh or keyset.age(self._clock()) < GRACE_FACTOR * keyset.lifetime
            found = _pick(keyset, kid)
        if not usable:
            msg = "token signed by an issuer whose keys could not be fetched"
            raise Unauthorized(msg)
        if found is None:
            msg = "token signed with a key its issuer does not publish"
            raise Unauthorized(msg)
        return found

    async def _refresh(self, keyset: _KeySet, jwks_uri: str, max_age_s: float) -> bool:
        """Fetch the key set again and say whether that worked; on failure the last set stays."""
        keyset.tried_at = self._clock()
        try:
            document, cache_control = await self._get(jwks_uri)
        except Unauthorized as exc:
            age = keyset.age(self._clock())
            log.warning("key set %s could not be fetched (%s); the last one is %.0f s old", jwks_uri, exc.message, age)
            return False
        keyset.keys = parse_jwks(document, jwks_uri)
        keyset.loaded_at = keyset.tried_at
        keyset.lifetime = lifetime(cache_control, max_age_s, self._refresh_min_s)
        return True

    async def userinfo(self, issuer: str, token: str) -> dict[str, Any]:
        """The issuer's userinfo document for this access token.

        :raise Unauthorized: the issuer publishes no userinfo endpoint or it does not answer a JSON object.
        """
        endpoint = (await self.discovery(issuer)).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            msg = f"{issuer} publishes no userinfo endpoint"
            raise Unauthorized(msg)
        return await self._get_json(endpoint, {"Authorization": f"Bearer {token}"})


def lifetime(cache_control: str | None, max_age_s: float, refresh_min_s: float) -> float:
    """How long a key set fetched with this Cache-Control header is fresh.

    The response's `max-age` (`no-cache` and `no-store` count as 0) bounded by the ceiling
    `max_age_s`, but never under `refresh_min_s`: a set is never stale before we may fetch it again.
    Without a usable `max-age` the ceiling applies.
    """
    asked = _max_age(cache_control)
    return max(min(asked, max_age_s) if asked is not None else max_age_s, refresh_min_s)


def _max_age(cache_control: str | None) -> float | None:
    ages: list[float] = []
    for directive in (cache_control or "").split(","):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        if name in ("no-cache", "no-store"):
            ages.append(0.0)
        elif name == "max-age":
            value = value.strip().strip('"')
            if value.isdigit():  # RFC 9111 delta-seconds: digits only, never negative
                ages.append(float(value))
    return min(ages) if ages else None


def _pick(keyset: _KeySet, kid: str | None) -> SigningKey | None:
    if kid is not None:
        return keyset.keys.get(kid)
    # A token without a key id is accepted only when the issuer publishes exactly one key.
    return next(iter(keyset.keys.values())) if len(keyset.keys) == 1 else None


def _usable(entry: dict[str, Any]) -> bool:
    if entry.get("use", "sig") != "sig" or "d" in entry:
        return False  # encryption keys and (misplaced) private keys are never used to verify
    ops = entry.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return False
    return entry.get("kty") in {"RSA", "EC", "OKP"} and isinstance(entry.get("alg", ""), str)


def parse_jwks(document: dict[str, Any], origin: str) -> dict[str, SigningKey]:
    """The verification keys of a JWKS document by key id; keys that may not verify are skipped and logged.

    Skipped: keys for encryption (`use` other than `sig`, `key_ops` without `verify`), private keys,
    key types other than RSA, EC and OKP, RSA keys under 2048 bits, and entries PyJWT cannot read.
    """
    keys: dict[str, SigningKey] = {}
    entries = document.get("keys")
    for n, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not _usable(entry):
            continue
        kid = entry.get("kid", str(n))
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            log.warning("skipping key %s of %s: %s", kid, origin, type(exc).__name__)
            continue
        if entry["kty"] == "RSA" and key.key.key_size < _MIN_RSA_BITS:
            log.warning("skipping key %s of %s: RSA below %d bits", kid, origin, _MIN_RSA_BITS)
            continue
        crv = entry.get("crv")
        keys[str(kid)] = SigningKey(key, entry["kty"], crv if isinstance(crv, str) else None, entry.get("alg"))
    return keys
