"""Who is calling: bearer access tokens of trusted issuers, and the dataset grants of their passports.

A token is accepted only when it is a well-formed JWS (three base64url parts, header and payload
JSON objects without duplicate names), its issuer is configured, its algorithm is on that
issuer's allow-list and asymmetric, its header carries no key or key location of its own (`jwk`,
`x5u`, `x5c`, a `jku` other than the issuer's key set) and no `crit`, the key it names is of the
algorithm's type, the signature verifies, and `aud`, `exp`, `nbf`, `iat` and a non-empty string
`sub` hold. Anything else is `Unauthorized` (401), never an unexpected exception.

Visas pass the same checks against an allow-listed broker's keys (no `aud`); a visa that fails
is ignored and logged, never fatal to the request. `beacon.security.passport` then decides what
the verified visas grant.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import jwt

from beacon.config import DatasetPolicy, SecurityConfig, TrustedIssuer, VisaBroker
from beacon.errors import Unauthorized
from beacon.security import passport
from beacon.security.jwks import KEY_TYPE_OF_ALGORITHM, KeyDirectory

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
REGISTERED = "registered"
CONTROLLED = "controlled"
_LEEWAY_S = passport.LEEWAY_S
_USERINFO_TTL_S = 60.0
# An access token arrives in a header aiohttp caps at 8190 bytes; visas may come from userinfo.
_MAX_TOKEN_CHARS = 16_384
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
# Header parameters that would let a token bring its own key or its own processing rules.
_REFUSED_HEADERS = ("jwk", "x5u", "x5c", "crit", "b64")


@dataclass(frozen=True)
class Caller:
    """The identity behind a request and the datasets its visas grant."""

    identity: str = ANONYMOUS  # issuer#subject, never the token
    registered: bool = False
    grants: frozenset[str] = field(default_factory=frozenset)  # ControlledAccessGrants visa values
    visa_types: frozenset[str] = field(default_factory=frozenset)  # other visa types held (e.g. ResearcherStatus)

    def caller_class(self, policy: DatasetPolicy) -> str | None:
        """The class this caller has for a dataset, or None when it may not query it at all."""
        granted = any(policy.granted_by(v) for v in self.grants) or policy.granted_by_type(self.visa_types)
        if granted:
            return CONTROLLED
        if policy.security.value == "controlled":
            return None
        if self.registered:
            return REGISTERED
        return ANONYMOUS if policy.security.value == "public" else None


@dataclass(frozen=True)
class Jws:
    """A compact JWS split and decoded, its signature not yet checked."""

    header: dict[str, Any]
    claims: dict[str, Any]


class _Refused(Unauthorized):
    """A token or visa fails a check; the message completes "the access token ..." or "the visa ..."."""


def _refuse(reason: str) -> NoReturn:
    raise _Refused(reason)


def _is_time(value: object) -> bool:
    # A NumericDate (RFC 7519 section 2): a finite JSON number; 1e400 parses as infinity.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = dict(pairs)
    if len(names) != len(pairs):
        msg = "duplicate member name"
        raise ValueError(msg)
    return names


def _not_a_number(constant: str) -> NoReturn:
    msg = f"{constant} is not JSON"
    raise ValueError(msg)


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw, object_pairs_hook=_unique_names, parse_constant=_not_a_number)
    except (ValueError, RecursionError):
        _refuse(f"has a {what} that is not JSON")
    if not isinstance(value, dict):
        _refuse(f"has a {what} that is not a JSON object")
    return value


def parse_jws(token: str) -> Jws:
    """Split a JWS compact serialisation and decode its header and payload (RFC 7515 section 7.1).

    :raise Unauthorized: too long, not three base64url parts, or a part that is not a JSON object;
        the message completes "the access token ..." or "the visa ...".
    """
    if len(token) > _MAX_TOKEN_CHARS:
        _refuse(f"is longer than {_MAX_TOKEN_CHARS} characters")
    parts = token.split(".")
    if len(parts) != 3 or not all(_BASE64URL.fullmatch(p) for p in parts):
        _refuse("is not a JWT (three base64url parts)")
    return Jws(_json_object(parts[0], "header"), _json_object(parts[1], "payload"))


def _header_policy(header: dict[str, Any], algorithms: Sequence[str], jwks_uri: str) -> tuple[str, str | None]:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms or alg not in KEY_TYPE_OF_ALGORITHM:
        _refuse(f"uses the algorithm {_shown(alg)}, which is not accepted")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        _refuse("names its key with something other than a string")
    refused = [name for name in _REFUSED_HEADERS if name in header]
    if refused:
        _refuse(f"carries header parameters this beacon never honours: {', '.join(refused)}")
    if "jku" in header and header["jku"] != jwks_uri:
        _refuse("names a key set (jku) that is not its issuer's")
    return alg, kid


# The caller of every request without a token (frozen, so one value serves them all).
NOBODY = Caller()


class Authenticator:
    """Validates access tokens and passports against the security configuration."""

    def __init__(self, config: SecurityConfig, keys: KeyDirectory) -> None:
        self._config = config
        self._keys = keys
        self._issuers = {i.issuer: i for i in config.issuers}
        self._brokers = {b.issuer: b for b in config.visa_brokers}
        self._userinfo: dict[str, tuple[float, list[object]]] = {}

    async def caller(self, authorization: str | None) -> Caller:
        """The caller of a request with this Authorization header (None: anonymous).

        :raise Unauthorized: a token is given and is not valid; visas that are not valid only grant nothing.
        """
        if authorization is None:
            return NOBODY
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            msg = "Authorization must be 'Bearer <access token>'"
            raise Unauthorized(msg)
        token = token.strip()
        try:
            claims, issuer = await self._validate(token)
        except _Refused as exc:
            msg = f"the access token {exc.message}"
            raise Unauthorized(msg) from None
        subject: str = claims["sub"]
        visas = claims.get("ga4gh_passport_v1")
        if visas is None and issuer.userinfo:
            visas = await self._passport_from_userinfo(issuer, token, subject)
        verified = await self._verified_visas(visas)
        held = passport.holdings(subject, verified, time.time())
        return Caller(identity=f"{issuer.issuer}#{subject}", registered=True, grants=held.grants, visa_types=held.types)

    async def _validate(self, token: str) -> tuple[dict[str, Any], TrustedIssuer]:
        jws = parse_jws(token)
        iss = jws.claims.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            _refuse("comes from an issuer this beacon does not trust")
        jwks_uri = (await self._keys.discovery(issuer.issuer)).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            _refuse(f"comes from {issuer.issuer}, which publishes no jwks_uri")
        claims = await self._verify(token, jws, issuer.issuer, issuer.algorithms, jwks_uri, issuer.audience)
        return claims, issuer

    async def _verify(
        self, token: str, jws: Jws, issuer: str, algorithms: Sequence[str], jwks_uri: str, audience: str | None
    ) -> dict[str, Any]:
        """The claims of a token whose header, key, signature and registered claims hold.

        :raise Unauthorized: a check fails, or the issuer's keys cannot be read.
        """
        alg, kid = _header_policy(jws.header, algorithms, jwks_uri)
        key = await self._keys.key(jwks_uri, kid, self._config.jwks_max_age_s)
        if not key.fits(alg):
            _refuse(f"says {alg} but names a key of type {key.kty}{' ' + key.crv if key.crv else ''}")
        required = ["exp", "iss", "sub", "aud"] if audience is not None else ["exp", "iss", "sub"]
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=_LEEWAY_S,
                options={"require": required, "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError:
            _refuse("has expired")
        except jwt.InvalidAudienceError:
            _refuse("is not meant for this beacon (audience)")
        except jwt.ImmatureSignatureError:
            _refuse("is not valid yet")
        except jwt.PyJWTError as exc:
            _refuse(f"is not valid: {type(exc).__name__}")
        except (TypeError, ValueError, OverflowError):
            # PyJWT and cryptography raise these for keys and inputs they did not expect; the
            # checks above should leave none, and none may become a 500.
            _refuse("could not be verified")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            _refuse("has no subject (sub)")
        for name in ("exp", "nbf", "iat"):
            # PyJWT reads "exp": "1700000000" and true as times.
            if name in claims and not _is_time(claims[name]):
                _refuse(f"has a {name} that is not a number")
        return claims

    async def _passport_from_userinfo(self, issuer: TrustedIssuer, token: str, subject: str) -> list[object]:
        # Keyed by a digest: tokens never sit in memory longer than the request that brought them.
        digest = hashlib.sha256(token.encode()).hexdigest()
        cached = self._userinfo.get(digest)
        if cached is not None and time.monotonic() - cached[0] < _USERINFO_TTL_S:
            return cached[1]
        try:
            info = await self._keys.userinfo(issuer.issuer, token)
        except Unauthorized as exc:
            # The token itself is valid: without its passport the caller is still registered.
            log.warning("no passport from the userinfo of %s: %s", issuer.issuer, exc.message)
            return []
        visas: list[object] = []
        passport_claim = info.get("ga4gh_passport_v1")
        if info.get("sub") != subject:
            # OpenID Connect Core 5.3.2: a userinfo answer about another subject must not be used.
            log.warning("ignoring the userinfo of %s: its sub is not the access token's", issuer.issuer)
        elif isinstance(passport_claim, list):
            visas = passport_claim
        elif passport_claim is not None:
            log.warning("ignoring the passport from the userinfo of %s: not a list of visas", issuer.issuer)
        if len(self._userinfo) > 10_000:
            self._userinfo.clear()
        self._userinfo[digest] = (time.monotonic(), visas)
        return visas

    async def _verified_visas(self, visas: object) -> list[passport.Visa]:
        if visas is None:
            return []
        if not isinstance(visas, list):
            log.warning("ignoring a passport that is not a list of visas")
            return []
        if len(visas) > passport.MAX_VISAS:
            log.warning(
                "ignoring %d visas of a passport beyond the first %d",
                len(visas) - passport.MAX_VISAS,
                passport.MAX_VISAS,
            )
        verified = []
        for n, visa in enumerate(visas[: passport.MAX_VISAS]):
            try:
                verified.append(await self._verified_visa(n, visa))
            except _Refused as exc:
                log.warning("ignoring visa %d of a passport: the visa %s", n, exc.message)
            except Unauthorized as exc:
                log.warning("ignoring visa %d of a passport: %s", n, exc.message)
        return verified

    async def _verified_visa(self, index: int, visa: object) -> passport.Visa:
        if not isinstance(visa, str):
            _refuse("is not a string")
        jws = parse_jws(visa)
        iss = jws.claims.get("iss")
        broker = self._brokers.get(iss) if isinstance(iss, str) else None
        if broker is None:
            _refuse(f"is issued by {_shown(iss)}, which is not an allow-listed broker")
        jwks_uri = await self._broker_jwks(broker)
        claims = await self._verify(visa, jws, broker.issuer, broker.algorithms, jwks_uri, None)
        fields = claims.get("ga4gh_visa_v1")
        if not isinstance(fields, dict):
            _refuse("has no ga4gh_visa_v1 object")
        return passport.Visa(index, broker.issuer, claims["sub"], fields)

    async def _broker_jwks(self, broker: VisaBroker) -> str:
        if broker.jwks_uri:
            return broker.jwks_uri
        jwks_uri = (await self._keys.discovery(broker.issuer)).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            _refuse(f"comes from {broker.issuer}, which publishes no jwks_uri")
        return jwks_uri
