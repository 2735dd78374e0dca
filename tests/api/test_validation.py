"""`serve --validate-responses` checks real responses against the official schemas and logs violations."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from beacon.api.app import create_app
from beacon.api.validation import endpoint_of
from beacon.config import Config
from beacon.model.plan import Query
from beacon.store.base import Document
from beacon.store.sqlite import SqliteStore
from tests.conftest import AiohttpClient


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/api", "info"),
        ("/api/map", "map"),
        ("/api/individuals/filtering_terms", "filtering_terms"),
        ("/api/runs", None),
    ],
)
def test_endpoint_of_path(path: str, endpoint: str | None) -> None:
    assert endpoint_of(path) == endpoint


async def test_valid_responses_log_nothing(
    aiohttp_client: AiohttpClient, cineca_config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    config = replace(cineca_config, server=replace(cineca_config.server, validate_responses=True))
    client = await aiohttp_client(create_app(config))
    for path in ("/api/info", "/api/map", "/api/individuals?requestedGranularity=record", "/api/nope"):
        resp = await client.get(path)
        await resp.read()
    assert [r for r in caplog.records if r.name == "beacon.validation"] == []


class _StoreReturningBrokenRecords(SqliteStore):
    async def find(self, query: Query) -> list[Document]:
        return [{"id": "no-sex-given"}]  # individuals require `sex`


async def test_an_invalid_response_is_logged_with_its_request_id(
    aiohttp_client: AiohttpClient, cineca_config: Config, cineca_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = replace(cineca_config, server=replace(cineca_config.server, validate_responses=True))
    client = await aiohttp_client(create_app(config, store=_StoreReturningBrokenRecords(cineca_db)))
    caplog.set_level(logging.WARNING, logger="beacon.validation")
    resp = await client.get("/api/individuals", params={"requestedGranularity": "record"})
    assert resp.status == 200
    messages = [r.getMessage() for r in caplog.records if r.name == "beacon.validation"]
    assert len(messages) == 1
    assert resp.headers["X-Request-Id"] in messages[0]
    assert "record no-sex-given" in messages[0]
    assert "'sex' is a required property" in messages[0]
