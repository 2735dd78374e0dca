"""Which published keys may verify which algorithms, and which JWKS entries are never used."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from beacon.security.jwks import KEY_TYPE_OF_ALGORITHM, parse_jwks
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
