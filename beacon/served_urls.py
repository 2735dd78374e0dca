"""The URLs a beacon advertises (`/map`, `/info`, the page): from the address it serves, unless configured.

Without `beacon.base_url` in the configuration (or BEACON_BASE_URL), load_config derives it, and
`welcome_url`, from `server.host` and `server.port` after the BEACON_* overrides; `serving()` keeps them
following `--host`/`--port`. A wildcard host is shown as loopback: set base_url when the beacon is
reached through another address (a proxy, a public name).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beacon.config import BeaconInfo, Config, ServerConfig


def served_url(host: str, port: int) -> str:
    """`http://host:port` for a listening address; a wildcard address is shown as loopback."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


def derived_urls(beacon: BeaconInfo, server: ServerConfig, welcome: bool) -> BeaconInfo:
    """`beacon` with base_url (and welcome_url when `welcome`) at the address `server` listens on."""
    root = served_url(server.host, server.port)
    return replace(beacon, base_url=f"{root}/api", welcome_url=f"{root}/" if welcome else beacon.welcome_url)


def serving(config: Config, host: str | None = None, port: int | None = None) -> Config:
    """`config` served at `host`:`port` (None keeps the configured one); derived URLs follow, configured ones stay."""
    server = replace(config.server, host=host or config.server.host, port=port or config.server.port)
    beacon = config.beacon
    if config.urls_from_server:
        welcome = beacon.welcome_url == f"{served_url(config.server.host, config.server.port)}/"
        beacon = derived_urls(beacon, server, welcome)
    return replace(config, server=server, beacon=beacon)
