"""The clinician page is served at / with its assets, and the API stays under /api."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient


async def test_page_and_assets_are_served(cineca: TestClient[Any, Any]) -> None:
    page = await cineca.get("/")
    assert page.status == 200
    html = await page.text()
    assert 'src="/static/app.js"' in html
    assert '<label for="referenceName" data-i18n="field.chromosome">Chromosome</label>' in html
    for asset, kind in (("/static/app.js", "javascript"), ("/static/style.css", "text/css")):
        resp = await cineca.get(asset)
        assert resp.status == 200
        assert kind in resp.content_type
        await resp.read()
    script = await (await cineca.get("/static/app.js")).text()
    assert '"/api/g_variants"' in script
