"""Signing keys of token issuers and visa brokers, fetched only from configured, allow-listed places.

Keys come from the JWKS of an issuer's OpenID configuration (or a broker's configured `jwks_uri`),
never from a URL inside a token. A key id we have not seen triggers one refresh (key rotation),
at most once per `refresh_min_s`, so forged key ids cannot make us hammer the issuer. A key
verifies only the algorithms of its own type (`SigningKey.fits`): an RSA key never checks an
ECDSA or EdDSA signature, a P-256 key never an ES384 one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
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


@dataclass
class _KeySet:
    keys: dict[str, SigningKey] = field(default_factory=dict)
    fetched_at: float = float("-inf")


class KeyDirectory:
    """Discovery documents and JWKS of the configured issuers, cached, refreshed on rotation."""

    def __init__(self, session: aiohttp.ClientSession, refresh_min_s: float = 30.0, timeout_s: float = 5.0) -> None:
        self._session = session
        self._refresh_min_s = refresh_min_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._discovery: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, _KeySet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def _get_json(self, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            async with self._session.get(url, headers=headers, timeout=self._timeout, allow_redirects=False) as resp:
                if resp.status != 200:
                    msg = f"{url} answered HTTP {resp.status}"
                    raise Unauthorized(msg)
                raw = await resp.content.read(_MAX_DOCUMENT_BYTES + 1)
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
        return body

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

    async def key(self, jwks_uri: str, kid: str | None) -> SigningKey:
        """The key `kid` of the JWKS at `jwks_uri` (a configured or discovered URL, never a token's).

        :raise Unauthorized: no such key is published, or the key set cannot be read.
        """
        keyset = self._keys.setdefault(jwks_uri, _KeySet())
        found = _pick(keyset, kid)
        if found is not None:
            return found
        lock = self._locks.setdefault(jwks_uri, asyncio.Lock())
        async with lock:
            found = _pick(keyset, kid)
            if found is None and time.monotonic() - keyset.fetched_at >= self._refresh_min_s:
                keyset.fetched_at = time.monotonic()
                document = await self._get_json(jwks_uri)
                keyset.keys = parse_jwks(document, jwks_uri)
                found = _pick(keyset, kid)
        if found is None:
            msg = "token signed with a key its issuer does not publish"
            raise Unauthorized(msg)
        return found

    async def userinfo(self, issuer: str, token: str) -> dict[str, Any]:
        """The issuer's userinfo document for this access token.

        :raise Unauthorized: the issuer publishes no userinfo endpoint or it does not answer a JSON object.
        """
        endpoint = (await self.discovery(issuer)).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            msg = f"{issuer} publishes no userinfo endpoint"
            raise Unauthorized(msg)
        return await self._get_json(endpoint, {"Authorization": f"Bearer {token}"})


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
