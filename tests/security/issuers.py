"""A real OpenID issuer / passport broker on loopback, and a forger of JWS the libraries would refuse to write.

`Authority` serves a discovery document, a JWKS and a userinfo endpoint, and signs with keys of
every type a JWKS can publish (RSA, EC P-256/P-384/P-521, Ed25519). `forge` writes any header and
payload bytes with any signature, so tests can send what PyJWT's own encoder would reject.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

AUDIENCE = "beacon-test"
CTL_VISA = "https://dac.example/datasets/ctl-ds"
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# Key id -> (key type, the algorithm it signs with by default).
KIDS = {
    "rsa-1": ("RSA", "RS256"),
    "ec-1": ("P-256", "ES256"),
    "ec384-1": ("P-384", "ES384"),
    "ec521-1": ("P-521", "ES512"),
    "ed-1": ("Ed25519", "EdDSA"),
}
KIND_OF_ALGORITHM = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    "ES256": "P-256",
    "ES384": "P-384",
    "ES512": "P-521",
    "EdDSA": "Ed25519",
}
KID_OF_KIND = {kind: kid for kid, (kind, _) in KIDS.items()}


def new_key(kind: str) -> Any:
    if kind == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    curve = {"P-256": ec.SECP256R1(), "EC": ec.SECP256R1(), "P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[kind]
    return ec.generate_private_key(curve)


def public_jwk(key: Any) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return dict(jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True))
    if isinstance(public, ec.EllipticCurvePublicKey):
        return dict(jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True))
    return dict(jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True))


def public_pem(key: Any) -> bytes:
    return bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(part: dict[str, Any] | str | bytes) -> str:
    """A JWS part: a dict as JSON, bytes as they are, a str as already-encoded text."""
    if isinstance(part, str):
        return part
    return b64(part if isinstance(part, bytes) else json.dumps(part).encode())


def forge(header: dict[str, Any] | str | bytes, payload: dict[str, Any] | str | bytes, key: Any, alg: str) -> str:
    """A compact JWS over exactly these parts, signed with `key` by `alg` (`none`: empty; `HS*`: key is the secret)."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    if alg == "none":
        return signing_input + "."
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), digest).digest())}"
    signature = jwt.get_algorithm_by_name(alg).sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


@dataclass
class Authority:
    """An OpenID provider or passport broker: its own keys, JWKS and userinfo."""

    server: TestServer
    keys: dict[str, Any] = field(default_factory=dict)  # kid -> private key
    published: list[str] = field(default_factory=list)  # kids in the JWKS
    passports: dict[str, list[str]] = field(default_factory=dict)  # access token -> visas (userinfo)
    userinfo_sub: str = "alice"
    userinfo_status: int = 200

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def jwks_uri(self) -> str:
        return self.url + "/jwks"

    def add_key(self, kid: str, kind: str = "RSA", publish: bool = True, key: Any = None) -> None:
        self.keys[kid] = key if key is not None else new_key(kind)
        if publish:
            self.published.append(kid)

    def sign(self, claims: dict[str, Any], kid: str, alg: str | None = None, **headers: Any) -> str:
        key = self.keys[kid]
        if alg is None:
            alg = next((a for k, (_, a) in KIDS.items() if k == kid), None) or _default_alg(key)
        return forge({"typ": "JWT", "alg": alg, "kid": kid, **headers}, claims, key, alg)

    def claims(self, sub: str = "alice", **claims: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.url, "sub": sub, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims}

    def token(self, sub: str = "alice", kid: str = "rsa-1", **claims: Any) -> str:
        return self.sign(self.claims(sub, **claims), kid)

    def visa_claims(
        self, value: str = CTL_VISA, sub: str = "alice", exp_in: int = 600, **fields: Any
    ) -> dict[str, Any]:
        now = int(time.time())
        visa = {"type": "ControlledAccessGrants", "value": value, "source": "https://dac.example", "by": "dac"}
        return {
            "iss": self.url,
            "sub": sub,
            "iat": now,
            "exp": now + exp_in,
            "ga4gh_visa_v1": {**visa, "asserted": now - 60, **fields},
        }

    def visa(self, value: str = CTL_VISA, *, kid: str = "ec-1", exp_in: int = 600, **fields: Any) -> str:
        sub = fields.pop("sub", "alice")
        return self.sign(self.visa_claims(value, sub, exp_in, **fields), kid)


def _default_alg(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}[key.curve.name]
    return "EdDSA"


def authority_app(holder: list[Authority]) -> web.Application:
    async def discovery(request: web.Request) -> web.Response:
        a = holder[0]
        return web.json_response({"issuer": a.url, "jwks_uri": a.jwks_uri, "userinfo_endpoint": a.url + "/userinfo"})

    async def jwks(request: web.Request) -> web.Response:
        a = holder[0]
        return web.json_response({"keys": [{**public_jwk(a.keys[k]), "kid": k, "use": "sig"} for k in a.published]})

    async def userinfo(request: web.Request) -> web.Response:
        a = holder[0]
        if a.userinfo_status != 200:
            return web.Response(status=a.userinfo_status, text="down")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return web.json_response({"sub": a.userinfo_sub, "ga4gh_passport_v1": a.passports.get(token, [])})

    app = web.Application()
    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    app.router.add_get("/userinfo", userinfo)
    return app


AuthorityFactory = Callable[[], Awaitable[Authority]]
KeyRing = dict[tuple[str, str], Any]  # (party, kind) -> private key, generated once per session


async def new_authority(
    aiohttp_server: Callable[..., Awaitable[TestServer]], ring: KeyRing | None = None, party: str = ""
) -> Authority:
    """An authority on loopback publishing rsa-1 and ec-1 (and, with a key ring, a key of every other type)."""
    holder: list[Authority] = []
    server = await aiohttp_server(authority_app(holder))
    a = Authority(server)
    holder.append(a)
    kids = KIDS if ring is not None else {k: KIDS[k] for k in ("rsa-1", "ec-1")}
    for kid, (kind, _) in kids.items():
        a.add_key(kid, kind, key=ring[(party, kind)] if ring is not None else None)
    return a
