"""RFC 9728 metadata: the trusted issuers, brokers and visa types from the configuration, found from any 401."""

from __future__ import annotations

import pytest

from tests.security.conftest import World


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/api"])
async def test_the_metadata_names_the_trusted_issuers_brokers_and_visa_types(world: World, path: str) -> None:
    resp = await world.client.get(path)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    document = await resp.json()
    assert document == {
        "resource": "http://testserver/api",
        "resource_name": "Test Beacon",
        "authorization_servers": [world.issuer.url],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["openid", "ga4gh_passport_v1"],
        "ga4gh_visa_issuers": [world.broker.url],
        "ga4gh_visa_types_supported": ["ControlledAccessGrants"],
    }
    assert world.rogue.url not in str(document)
    assert "ctl-ds" not in str(document), "no dataset id or grant value is listed"


async def test_a_refused_token_points_to_the_metadata(world: World) -> None:
    resp = await world.client.get("/api/individuals", headers={"Authorization": "Bearer not-a-jwt"})
    assert resp.status == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="beacon", error="invalid_token"')
    assert challenge.endswith(', resource_metadata="http://testserver/.well-known/oauth-protected-resource/api"')
    assert (await world.client.get("/.well-known/oauth-protected-resource/api")).status == 200


async def test_the_metadata_takes_no_post(world: World) -> None:
    resp = await world.client.post("/.well-known/oauth-protected-resource", json={})
    assert resp.status == 405
