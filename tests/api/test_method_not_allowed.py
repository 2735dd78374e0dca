"""A 405 says which methods the path takes (`Allow`, RFC 9110 §15.5.6), on every kind of route, as a Beacon error."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import fetch


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/individuals", "GET, POST"),
        ("PUT", "/api/g_variants", "GET, POST"),
        ("PATCH", "/api/individuals/HG00096", "GET, POST"),
        ("DELETE", "/api/individuals/HG00096/biosamples", "GET, POST"),
        ("PUT", "/api/individuals/filtering_terms", "GET, POST"),
        ("DELETE", "/api/info", "GET, POST"),
        ("PUT", "/api/map", "GET, POST"),
        ("POST", "/api/openapi.json", "GET"),
        ("POST", "/health", "GET, HEAD"),
        ("DELETE", "/health/live", "GET, HEAD"),
        ("POST", "/metrics", "GET, HEAD"),
        ("POST", "/", "GET, HEAD"),
        ("DELETE", "/static/app.js", "GET, HEAD"),
    ],
    ids=lambda v: str(v),
)
async def test_a_405_carries_allow_with_the_methods_the_path_takes(
    cineca: TestClient[Any, Any], method: str, path: str, allow: str
) -> None:
    resp = await cineca.request(method, path)
    assert resp.status == 405, await resp.text()
    assert resp.headers["Allow"] == allow
    assert resp.headers["X-Request-Id"]
    document = await resp.json()
    assert document["error"] == {"errorCode": 405, "errorMessage": f"method {method} not allowed on {path}"}


async def test_other_errors_carry_only_their_own_headers(cineca: TestClient[Any, Any]) -> None:
    resp = await cineca.get("/api/individuals", params={"skip": "-1"})
    assert resp.status == 400
    assert "Allow" not in resp.headers
    assert "Retry-After" not in resp.headers
    await fetch(cineca, "GET", "/api/nowhere", status=404)
