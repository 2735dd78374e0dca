"""The app's ontology hierarchies: parsed once at startup, off the event loop (hp.obo takes about half a second)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from beacon.api.keys import CONFIG, ONTOLOGIES
from beacon.ontology import load_ontologies


async def load(app: web.Application) -> None:
    """Read the configured hierarchies into `app[ONTOLOGIES]`.

    :raise ConfigError: a configured ontology file is missing or malformed.
    """
    app[ONTOLOGIES] = await asyncio.to_thread(load_ontologies, app[CONFIG].ontologies)
