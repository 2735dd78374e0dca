"""The clinician page at `/` and its two assets, served by the beacon and the aggregator alike."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).resolve().parent / "web"
# A fixed allow-list instead of add_static: no directory listing, no path handling, no I/O at startup.
_ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})


async def asset(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if name not in _ASSETS:
        raise web.HTTPNotFound
    return web.FileResponse(WEB_DIR / name, headers={"Content-Type": f"{_ASSETS[name]}; charset=utf-8"})


def add_web_routes(app: web.Application) -> None:
    """`/` and `/static/{name}`: the page finds out from the answers whether it talks to a beacon or a network."""
    app.router.add_get("/", page)
    app.router.add_get("/static/{name}", asset)
