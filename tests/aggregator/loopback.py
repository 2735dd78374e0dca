"""Real beacons of this project and misbehaving ones on loopback, assembled into a network for the aggregator tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.model.granularity import Granularity
from beacon.spec import spec_dir
from tests.conftest import CINECA_ID, AiohttpClient, make_config

ServerFactory = Callable[..., Awaitable[TestServer]]
SPEC_EXAMPLES = spec_dir() / "framework/json/responses/examples-fullDocuments"
DEADLINE_S = 2.0


def misbehaving_app(kind: str, seen: list[dict[str, str]]) -> web.Application:
    """A member that answers every request the way `kind` says (recording the headers it saw in `seen`)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.headers))
        if request.path.endswith("/map"):
            return web.json_response({"meta": {"beaconId": kind}, "response": {"endpointSets": {}}})
        if kind == "slow":
            await asyncio.sleep(30)
        if kind == "http500":
            return web.Response(status=500, text="Internal Server Error")
        if kind == "malformed":
            return web.Response(text='{"meta": {"beaconId": "x"', content_type="application/json")
        if kind == "schema-invalid":
            return web.json_response({"hello": "world", "responseSummary": {"exists": "maybe"}})
        if kind == "endless":
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            await resp.prepare(request)
            await resp.write(b'{"meta": {"beaconId": "endless"}, "padding": "')
            while True:
                await resp.write(b"x" * 65536)
        if kind == "token500" and "Authorization" in request.headers:
            return web.Response(status=500, text="Internal Server Error")
        if kind in ("example", "token500"):
            name = "beaconCountResponse-example.json"
            return web.json_response(json.loads(await asyncio.to_thread((SPEC_EXAMPLES / name).read_text)))
        raise AssertionError(kind)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


class Network:
    """An aggregator client and the API root of each of its members."""

    def __init__(
        self, client: TestClient[Any, Any], members: dict[str, str], seen: dict[str, list[dict[str, str]]]
    ) -> None:
        self.client = client
        self.members = members  # id -> API root
        self.seen = seen


async def build_network(
    aiohttp_server: ServerFactory,
    aiohttp_client: AiohttpClient,
    dbs: dict[str, Path],
    misbehaving: tuple[str, ...],
    forward: tuple[str, ...] = ("cineca",),
    count_floor: int = 0,
    apps: dict[str, web.Application] | None = None,
    **fanout: Any,
) -> Network:
    """Real beacons on `dbs`, misbehaving members of the given kinds, and an aggregator client in front.

    Members named in `forward` are configured with `forward_token: true`; `apps` are further members by id
    (e.g. beacons speaking another implementation's dialect); `fanout` overrides the fan-out settings.
    """
    members: dict[str, str] = {}
    seen: dict[str, list[dict[str, str]]] = {}
    for member_id, db in dbs.items():
        policy = DatasetPolicy(CINECA_ID, max_granularity=Granularity.RECORD, count_floor=count_floor)
        config = make_config(f"sqlite:///{db}", policy)
        server = await aiohttp_server(create_app(config))
        members[member_id] = str(server.make_url("/api"))
    for kind in misbehaving:
        seen[kind] = []
        server = await aiohttp_server(misbehaving_app(kind, seen[kind]))
        members[kind] = str(server.make_url("/api"))
    for member_id, app in (apps or {}).items():
        members[member_id] = str((await aiohttp_server(app)).make_url("/api"))
    if "refused" in misbehaving:
        members["refused"] = "http://127.0.0.1:9/api"
    settings = settings_from(
        {
            "beacon": {
                "id": "org.example.network",
                "name": "Test network",
                "organization": {"id": "org.example", "name": "Example"},
            },
            "fanout": {"deadline_s": DEADLINE_S, "max_response_bytes": 1 << 20, "cache_ttl_s": 0, **fanout},
            "members": [
                {"id": m, "url": url, "timeout_s": 1.0, **({"forward_token": True} if m in forward else {})}
                for m, url in members.items()
            ],
        }
    )
    client = await aiohttp_client(create_aggregator_app(settings))
    return Network(client, members, seen)


MISBEHAVING = ("slow", "refused", "http500", "malformed", "schema-invalid", "endless")
