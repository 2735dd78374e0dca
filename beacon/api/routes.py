"""The one route table, derived from the entry-type table and shared by the beacon and the aggregator.

Framework endpoints, the OpenAPI document and its page, and every entry, id, filtering-terms and
lookup path, GET and POST alike. What answers entry queries and filtering terms is the one thing a
beacon and an aggregator differ in: each passes its own `Answerers`; the paths cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from aiohttp import web

from beacon.api import docs_page, entries, framework, openapi, protected_resource
from beacon.model.entry_types import EntryType, EntryTypeTable, Lookup

API = "/api"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class EntryAnswerer(Protocol):
    """Answers `/{entry}`, `/{entry}/{id}` (`single`) and `/{entry}/{id}/{target}` (`lookup`)."""

    def __call__(
        self, request: web.Request, entry: EntryType, lookup: Lookup | None, single: bool
    ) -> Awaitable[web.StreamResponse]: ...


class TermsAnswerer(Protocol):
    """Answers `/filtering_terms` (no entry), `/{entry}/filtering_terms` and `/{entry}/{id}/filtering_terms`."""

    def __call__(
        self, request: web.Request, entry: EntryType | None = None, per_record: bool = False
    ) -> Awaitable[web.StreamResponse]: ...


@dataclass(frozen=True)
class Answerers:
    """Who answers the data endpoints; the framework endpoints answer from the app's `CONFIG` in both apps."""

    entries: EntryAnswerer
    filtering_terms: TermsAnswerer


BEACON = Answerers(entries=entries.answer, filtering_terms=framework.filtering_terms)


def _both(path: str, handler: Handler) -> list[web.RouteDef]:
    return [web.get(path, handler, allow_head=False), web.post(path, handler)]


def route_table(table: EntryTypeTable, answerers: Answerers = BEACON) -> list[web.RouteDef]:
    """Every route the API serves, GET and POST alike, in the order aiohttp must match them."""
    routes: list[web.RouteDef] = []
    for path, handler in (
        ("", framework.info),
        ("/", framework.info),
        ("/info", framework.info),
        ("/service-info", framework.service_info),
        ("/configuration", framework.configuration),
        ("/map", framework.map_),
        ("/entry_types", framework.entry_types),
        ("/filtering_terms", answerers.filtering_terms),
    ):
        routes += _both(API + path, handler)
    # The description of exactly these routes, built once per app, and a page that reads it.
    routes.append(
        web.get(openapi.OPENAPI_PATH, partial(openapi.openapi_json, cache=openapi.DocumentCache()), allow_head=False)
    )
    routes.append(web.get(openapi.DOCS_PATH, docs_page.docs_page, allow_head=False))
    # RFC 9728: at the host's root, and in the form for a resource whose identifier has the path /api.
    for path in (protected_resource.WELL_KNOWN, protected_resource.WELL_KNOWN + API):
        routes.append(web.get(path, protected_resource.protected_resource, allow_head=False))
    answer, terms = answerers.entries, answerers.filtering_terms
    for entry in table.enabled():
        root = f"{API}/{entry.path}"
        # Static segments first: aiohttp matches in registration order, so these win over {id}.
        routes += _both(f"{root}/filtering_terms", partial(terms, entry=entry))
        routes += _both(root, partial(answer, entry=entry, lookup=None, single=False))
        routes += _both(f"{root}/{{id}}", partial(answer, entry=entry, lookup=None, single=True))
        if entry.filtering_terms_per_record:
            routes += _both(f"{root}/{{id}}/filtering_terms", partial(terms, entry=entry, per_record=True))
        for lookup, target in table.lookups_of(entry):
            routes += _both(f"{root}/{{id}}/{target.path}", partial(answer, entry=entry, lookup=lookup, single=False))
    return routes
