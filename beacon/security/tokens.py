"""Who is calling: bearer access tokens of trusted issuers, and the dataset grants of their passports.

A token is accepted only when its issuer is configured, its algorithm is on that issuer's
allow-list (never `none`, never a shared-secret HMAC), its signature verifies with a key the issuer
publishes, and `aud`, `exp` and `nbf` hold. Visas are verified separately, each with the keys of
an allow-listed broker; a visa that fails is ignored and logged, never fatal to the request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from beacon.config import DatasetPolicy, SecurityConfig, TrustedIssuer, VisaBroker
from beacon.errors import Unauthorized
from beacon.security.keys import KeyDirectory

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
REGISTERED = "registered"
CONTROLLED = "controlled"
_LEEWAY_S = 30
_USERINFO_TTL_S = 60.0


@dataclass(frozen=True)
class Caller:
    """The identity behind a request and the datasets its visas grant."""

    identity: str = ANONYMOUS  # issuer#subject, never the token
    registered: bool = False
    grants: frozenset[str] = field(default_factory=frozenset)  # ControlledAccessGrants visa values

    def caller_class(self, policy: DatasetPolicy) -> str | None:
        """The class this caller has for a dataset, or None when it may not query it at all."""
        granted = any(policy.granted_by(v) for v in self.grants)
        if granted:
            return CONTROLLED
        if policy.security.value == "controlled":
            return None
        if self.registered:
            return REGISTERED
        return ANONYMOUS if policy.security.value == "public" else None


class Authenticator:
    """Validates access tokens and passports against the security configuration."""

    def __init__(self, config: SecurityConfig, keys: KeyDirectory) -> None:
        self._config = config
        self._keys = keys
        self._issuers = {i.issuer: i for i in config.issuers}
        self._brokers = {b.issuer: b for b in config.visa_brokers}
        self._userinfo: dict[str, tuple[float, list[str]]] = {}

    async def caller(self, authorization: str | None) -> Caller:
        """The caller of a request with this Authorization header (None: anonymous).

        :raise Unauthorized: a token is given and is not valid.
        """
        if authorization is None:
            return Caller()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            msg = "Authorization must be 'Bearer <access token>'"
            raise Unauthorized(msg)
        token = token.strip()
        claims, issuer = await self._validate(token)
        passport = claims.get("ga4gh_passport_v1")
        if passport is None and issuer.userinfo:
            passport = await self._passport_from_userinfo(issuer, token)
        grants = await self._grants(passport if isinstance(passport, list) else [])
        return Caller(identity=f"{issuer.issuer}#{claims['sub']}", registered=True, grants=frozenset(grants))

    async def _validate(self, token: str) -> tuple[dict[str, Any], TrustedIssuer]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            msg = "the access token is not a JWT"
            raise Unauthorized(msg) from None
        issuer = self._issuers.get(str(unverified.get("iss")))
        if issuer is None:
            msg = "the access token comes from an issuer this beacon does not trust"
            raise Unauthorized(msg)
        alg = header.get("alg")
        if alg not in issuer.algorithms:
            msg = f"the access token's algorithm {alg!r} is not accepted"
            raise Unauthorized(msg)
        jwks_uri = (await self._keys.discovery(issuer.issuer)).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            msg = f"{issuer.issuer} publishes no jwks_uri"
            raise Unauthorized(msg)
        key = await self._keys.key(jwks_uri, header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            msg = "the access token has expired"
            raise Unauthorized(msg) from None
        except jwt.InvalidAudienceError:
            msg = "the access token is not meant for this beacon (audience)"
            raise Unauthorized(msg) from None
        except jwt.ImmatureSignatureError:
            msg = "the access token is not valid yet"
            raise Unauthorized(msg) from None
        except jwt.PyJWTError as exc:
            msg = f"the access token is not valid: {type(exc).__name__}"
            raise Unauthorized(msg) from None
        return claims, issuer

    async def _passport_from_userinfo(self, issuer: TrustedIssuer, token: str) -> list[str]:
        # Keyed by a digest: tokens never sit in memory longer than the request that brought them.
        digest = hashlib.sha256(token.encode()).hexdigest()
        cached = self._userinfo.get(digest)
        if cached is not None and time.monotonic() - cached[0] < _USERINFO_TTL_S:
            return cached[1]
        info = await self._keys.userinfo(issuer.issuer, token)
        passport = info.get("ga4gh_passport_v1")
        visas = [v for v in passport if isinstance(v, str)] if isinstance(passport, list) else []
        if len(self._userinfo) > 10_000:
            self._userinfo.clear()
        self._userinfo[digest] = (time.monotonic(), visas)
        return visas

    async def _grants(self, visas: Sequence[object]) -> list[str]:
        grants = []
        for n, visa in enumerate(visas):
            if not isinstance(visa, str):
                continue
            try:
                claim = await self._verified_visa(visa)
            except Unauthorized as exc:
                log.warning("ignoring visa %d of a passport: %s", n, exc.message)
                continue
            if claim.get("type") == "ControlledAccessGrants" and isinstance(claim.get("value"), str):
                grants.append(claim["value"])
        return grants

    async def _verified_visa(self, visa: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(visa)
            unverified = jwt.decode(visa, options={"verify_signature": False})
        except jwt.PyJWTError:
            msg = "not a JWT"
            raise Unauthorized(msg) from None
        broker = self._brokers.get(str(unverified.get("iss")))
        if broker is None:
            msg = f"issued by {unverified.get('iss')!r}, which is not an allow-listed broker"
            raise Unauthorized(msg)
        alg = header.get("alg")
        if alg not in broker.algorithms:
            msg = f"algorithm {alg!r} is not accepted"
            raise Unauthorized(msg)
        jwks_uri = await self._broker_jwks(broker)
        if "jku" in header and header["jku"] != jwks_uri:
            msg = "its jku names a key set that is not the broker's allow-listed one"
            raise Unauthorized(msg)
        key = await self._keys.key(jwks_uri, header.get("kid"))
        try:
            claims = jwt.decode(
                visa,
                key=key.key,
                algorithms=[alg],
                issuer=broker.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            msg = f"invalid: {type(exc).__name__}"
            raise Unauthorized(msg) from None
        claim = claims.get("ga4gh_visa_v1")
        if not isinstance(claim, dict):
            msg = "no ga4gh_visa_v1 claim"
            raise Unauthorized(msg)
        return claim

    async def _broker_jwks(self, broker: VisaBroker) -> str:
        if broker.jwks_uri:
            return broker.jwks_uri
        jwks_uri = (await self._keys.discovery(broker.issuer)).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            msg = f"{broker.issuer} publishes no jwks_uri"
            raise Unauthorized(msg)
        return jwks_uri
