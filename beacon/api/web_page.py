"""The clinician page at `/`, its assets and its language files, served by the beacon and the aggregator alike.

The server's only part in the page is choosing the first language from `Accept-Language`; everything the
page shows it asks of the public Beacon API from the browser, like any other client.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).resolve().parent / "web"
# The page's languages, each a plain JSON file of texts in web/i18n/ (docs/web-page.md).
LANGUAGES = ("en", "da", "sv", "nb", "nn", "bg", "fr")
DEFAULT_LANGUAGE = "en"
# Browsers send the macrolanguage `no` for Norwegian; bokmål is what most of them mean by it.
_SYNONYMS = {"no": "nb"}
# A fixed allow-list instead of add_static: no directory listing, no path handling, no I/O at startup.
_ASSETS = {
    "app.js": "text/javascript",
    "answers.js": "text/javascript",
    "api.js": "text/javascript",
    "i18n.js": "text/javascript",
    "filters.js": "text/javascript",
    "card.js": "text/javascript",
    "links.js": "text/javascript",
    "populations.js": "text/javascript",
    "validation.js": "text/javascript",
    "style.css": "text/css",
}
_HTML_TAG = '<html lang="en">'


def chosen_language(accept_language: str) -> str:
    """The best of LANGUAGES for an `Accept-Language` header (RFC 9110 weights); English when none fits."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        language = _SYNONYMS.get(primary, primary)
        if language in LANGUAGES and weight > 0:
            ranked.append((-weight, order, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


async def page(request: web.Request) -> web.Response:
    language = chosen_language(request.headers.get("Accept-Language", ""))
    html = await asyncio.to_thread((WEB_DIR / "index.html").read_text, encoding="utf-8")
    return web.Response(
        text=html.replace(_HTML_TAG, f'<html lang="{language}">', 1),
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Language": language, "Vary": "Accept-Language"},
    )


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in _ASSETS:
        raise web.HTTPNotFound
    return web.FileResponse(WEB_DIR / name, headers={"Content-Type": f"{_ASSETS[name]}; charset=utf-8"})


async def texts(request: web.Request) -> web.FileResponse:
    language = request.match_info["language"]
    if language not in LANGUAGES:
        raise web.HTTPNotFound
    path = WEB_DIR / "i18n" / f"{language}.json"
    return web.FileResponse(path, headers={"Content-Type": "application/json; charset=utf-8"})


def add_web_routes(app: web.Application) -> None:
    """`/`, `/static/{name}` and `/static/i18n/{language}.json`: the page learns from the answers what it talks to."""
    app.router.add_get("/", page)
    app.router.add_get("/static/i18n/{language}.json", texts)
    app.router.add_get("/static/{name}", asset)
