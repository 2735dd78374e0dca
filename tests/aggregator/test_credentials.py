"""Which credential each member sees: the caller's own token (forward_token) or the network's static one, never a mix."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import AggregatorSettings, load_aggregator_settings, settings_from
from beacon.errors import ConfigError
from tests.aggregator.loopback import SPEC_EXAMPLES, ServerFactory
from tests.conftest import AiohttpClient

SPELLINGS = ["Authorization", "authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"]
NETWORK = "Bearer network-service-credential"


def _conf(url: str, **member: Any) -> dict[str, Any]:
    return {
        "beacon": {"id": "org.example.net", "name": "Net", "organization": {"id": "org.example", "name": "Ex"}},
        "fanout": {"deadline_s": 2.0, "cache_ttl_s": 0},
        "members": [
            {"id": "plain", "url": url},
            {"id": "hub", "url": url, **member},
        ],
    }


@pytest.mark.parametrize("name", SPELLINGS)
def test_forward_token_with_a_static_authorization_is_refused_at_load_time(name: str) -> None:
    conf = _conf("http://member.example/api", forward_token=True, headers={"X-Trace": "1", name: NETWORK})
    with pytest.raises(ConfigError) as caught:
        settings_from(conf, "conf/aggregator.yaml")
    message = str(caught.value)
    assert message.startswith("conf/aggregator.yaml: members[1] (hub): forward_token and a static Authorization")
    assert NETWORK not in message  # the credential itself is never echoed


def test_the_refusal_names_the_file_and_the_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TOKEN", "network-service-credential")
    conf = _conf("http://member.example/api", forward_token=True, headers={"authorization": "Bearer ${HUB_TOKEN}"})
    path = tmp_path / "aggregator.yaml"
    path.write_text(yaml.safe_dump(conf))
    with pytest.raises(ConfigError, match=rf"^{path}: members\[1\] \(hub\): forward_token"):
        load_aggregator_settings(path)


@pytest.mark.parametrize("conf_member", [{"forward_token": True}, {"headers": {"Authorization": NETWORK}}])
def test_either_credential_alone_is_accepted(conf_member: dict[str, Any]) -> None:
    settings = settings_from(_conf("http://member.example/api", **conf_member))
    assert settings.members[1].forward_token is ("forward_token" in conf_member)


def _recording_member(seen: list[list[str]]) -> web.Application:
    """A member answering every entry question with the official count example, recording its Authorization values."""

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/map"):
            return web.json_response({"meta": {"beaconId": "hub"}, "response": {"endpointSets": {}}})
        seen.append(request.headers.getall("Authorization", []))
        name = "beaconCountResponse-example.json"
        return web.json_response(json.loads(await asyncio.to_thread((SPEC_EXAMPLES / name).read_text)))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def _seen_by_member(
    aiohttp_server: ServerFactory,
    aiohttp_client: AiohttpClient,
    settings_of: Callable[[str], AggregatorSettings],
    callers: list[str | None],
) -> list[list[str]]:
    """The Authorization values the member received on the entry question of each caller (None: no token)."""
    seen: list[list[str]] = []
    server = await aiohttp_server(_recording_member(seen))
    client = await aiohttp_client(create_aggregator_app(settings_of(str(server.make_url("/api")))))
    received = []
    for caller in callers:
        seen.clear()
        headers = {"Authorization": caller} if caller else {}
        resp = await client.get("/api/individuals", params={"requestedGranularity": "count"}, headers=headers)
        assert resp.status == 200, await resp.text()
        assert len(seen) == 1, seen
        received.append(seen[0])
    return received


@pytest.mark.parametrize("name", SPELLINGS)
async def test_a_static_authorization_is_never_sent_beside_a_forwarded_token(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, name: str
) -> None:
    # Settings the loader would refuse, built past it: the fan-out must still never send the static credential.
    def settings_of(url: str) -> AggregatorSettings:
        loaded = settings_from(_conf(url, forward_token=True))
        hub = replace(loaded.members[1], headers=(("X-Trace", "1"), (name, NETWORK)))
        return replace(loaded, members=(hub,))

    anonymous, carol = await _seen_by_member(aiohttp_server, aiohttp_client, settings_of, [None, "Bearer carol"])
    assert anonymous == []
    assert carol == ["Bearer carol"]


async def test_a_static_credential_without_forward_token_speaks_for_every_caller(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    def settings_of(url: str) -> AggregatorSettings:
        loaded = settings_from(_conf(url, headers={"Authorization": NETWORK}))
        return replace(loaded, members=loaded.members[1:])

    anonymous, carol = await _seen_by_member(aiohttp_server, aiohttp_client, settings_of, [None, "Bearer carol"])
    assert anonymous == carol == [NETWORK]
