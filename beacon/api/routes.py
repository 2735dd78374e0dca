"""The route table, derived from the entry-type table: framework endpoints plus every entry, id and lookup path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from beacon.api import docs_page, entries, framework, openapi
from beacon.model.entry_types import EntryTypeTable

API = "/api"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _both(path: str, handler: Handler) -> list[web.RouteDef]:
    return [web.get(path, handler, allow_head=False), web.post(path, handler)]


def route_table(table: EntryTypeTable) -> list[web.RouteDef]:
    """Every route the API serves, GET and POST alike."""
    routes: list[web.RouteDef] = []
    for path, handler in (
        ("", framework.info),
        ("/", framework.info),
        ("/info", framework.info),
        ("/service-info", framework.service_info),
        ("/configuration", framework.configuration),
        ("/map", framework.map_),
        ("/entry_types", framework.entry_types),
        ("/filtering_terms", framework.filtering_terms),
    ):
        routes += _both(API + path, handler)
    # The description of exactly these routes, built once per app, and a page that reads it.
    routes.append(
        web.get(openapi.OPENAPI_PATH, partial(openapi.openapi_json, cache=openapi.DocumentCache()), allow_head=False)
    )
    routes.append(web.get(openapi.DOCS_PATH, docs_page.docs_page, allow_head=False))
    for entry in table.enabled():
        root = f"{API}/{entry.path}"
        # Static segments first: aiohttp matches in registration order, so these win over {id}.
        routes += _both(f"{root}/filtering_terms", partial(framework.filtering_terms, entry=entry))
        routes += _both(root, partial(entries.answer, entry=entry, lookup=None, single=False))
        routes += _both(f"{root}/{{id}}", partial(entries.answer, entry=entry, lookup=None, single=True))
        if entry.filtering_terms_per_record:
            routes += _both(
                f"{root}/{{id}}/filtering_terms",
                partial(framework.filtering_terms, entry=entry, per_record=True),
            )
        for lookup, target in table.lookups_of(entry):
            routes += _both(
                f"{root}/{{id}}/{target.path}",
                partial(entries.answer, entry=entry, lookup=lookup, single=False),
            )
    return routes
