"""Signing keys of token issuers and visa brokers, fetched only from configured, allow-listed places.

Keys come from the JWKS of an issuer's OpenID configuration (or a broker's configured `jwks_uri`),
never from a URL inside a token. A key id we have not seen triggers one refresh (key rotation),
at most once per `refresh_min_s`, so forged key ids cannot make us hammer the issuer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt

from beacon.errors import Unauthorized

log = logging.getLogger(__name__)


@dataclass
class _KeySet:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
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
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            msg = f"{url} could not be read: {type(exc).__name__}"
            raise Unauthorized(msg) from exc
        if not isinstance(body, dict):
            msg = f"{url} did not answer a JSON object"
            raise Unauthorized(msg)
        return body

    async def discovery(self, issuer: str) -> dict[str, Any]:
        """The issuer's OpenID configuration; its `issuer` must be the configured one."""
        if issuer not in self._discovery:
            document = await self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
            if document.get("issuer") != issuer:
                msg = f"the OpenID configuration of {issuer} names another issuer"
                raise Unauthorized(msg)
            self._discovery[issuer] = document
        return self._discovery[issuer]

    async def key(self, jwks_uri: str, kid: str | None) -> jwt.PyJWK:
        """The key `kid` of the JWKS at `jwks_uri` (a configured or discovered URL, never a token's)."""
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
                keyset.keys = _parse_jwks(document, jwks_uri)
                found = _pick(keyset, kid)
        if found is None:
            msg = "token signed with a key its issuer does not publish"
            raise Unauthorized(msg)
        return found

    async def userinfo(self, issuer: str, token: str) -> dict[str, Any]:
        endpoint = (await self.discovery(issuer)).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            msg = f"{issuer} publishes no userinfo endpoint"
            raise Unauthorized(msg)
        return await self._get_json(endpoint, {"Authorization": f"Bearer {token}"})


def _pick(keyset: _KeySet, kid: str | None) -> jwt.PyJWK | None:
    if kid is not None:
        return keyset.keys.get(kid)
    # A token without a key id is accepted only when the issuer publishes exactly one key.
    return next(iter(keyset.keys.values())) if len(keyset.keys) == 1 else None


def _parse_jwks(document: dict[str, Any], origin: str) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    for n, entry in enumerate(document.get("keys", [])):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "d" in entry:
            continue  # encryption keys and (misplaced) private keys are never used to verify
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            log.warning("skipping key %s of %s: %s", entry.get("kid", n), origin, exc)
            continue
        keys[str(entry.get("kid", n))] = key
    return keys
