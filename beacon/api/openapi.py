"""The OpenAPI 3.1 description of this Beacon, generated from the configuration's entry-type table and the parser.

Paths come from the same table the route table is derived from; query parameters are the names
`api/parse.py` accepts, with the types, enums and limits it enforces; the POST body schema is the
project's own `schemas/request.schema.json`. The document is built on first use and kept per app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from beacon.api.keys import CONFIG
from beacon.api.openapi_params import (
    PAGING_PARAMS,
    body_examples,
    entry_params,
    example_components,
    parameter_components,
    parameter_key,
)
from beacon.api.parse import request_body_schema
from beacon.config import Config
from beacon.model.entry_types import EntryType
from beacon.model.request import API_VERSION

OPENAPI_PATH = "/api/openapi.json"
DOCS_PATH = "/api/docs"
OPENAPI_VERSION = "3.1.0"
_RESPONSES_RAW = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/framework/json/responses/"


@dataclass(frozen=True)
class _Framework:
    """One informational endpoint: what it answers and which Beacon response schema describes it."""

    summary: str
    response_schema: str
    required: tuple[str, ...] = ("meta", "response")


# The framework endpoints `api/routes.py` serves, by path below /api.
_FRAMEWORK: dict[str, _Framework] = {
    "": _Framework("Beacon information", "beaconInfoResponse"),
    "/": _Framework("Beacon information", "beaconInfoResponse"),
    "/info": _Framework("Beacon information", "beaconInfoResponse"),
    "/service-info": _Framework(
        "GA4GH service-info", "ga4gh-service-info-1-0-0-schema", ("id", "name", "type", "organization", "version")
    ),
    "/configuration": _Framework("Beacon configuration", "beaconConfigurationResponse"),
    "/map": _Framework("Map of every endpoint", "beaconMapResponse"),
    "/entry_types": _Framework("Entry types served", "beaconEntryTypesResponse"),
}
_FILTERING_TERMS = "beaconFilteringTermsResponse"


@dataclass(frozen=True)
class _Operation:
    """What differs between paths: the tag, the answer, the kind of request and the entry types involved.

    `kind` selects the query parameters: none (informational), paging (filtering terms) or every
    parameter (entry queries); `target` is the entry type answered, `path_id` the one `{id}` names.
    """

    tag: str
    summary: str
    response: dict[str, Any]
    kind: Literal["info", "terms", "query"] = "info"
    target: EntryType | None = None
    path_id: EntryType | None = None

    @property
    def params(self) -> tuple[str, ...]:
        return {"info": (), "terms": PAGING_PARAMS, "query": entry_params()}[self.kind]


def _response_schema(name: str, required: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "description": f"A Beacon v2 `{name}` (official framework schema).",
        "externalDocs": {"url": f"{_RESPONSES_RAW}{name}.json"},
    }


def _entry_response(target: EntryType) -> dict[str, Any]:
    shape = "beaconCollectionsResponse" if target.is_collection else "beaconResultsetsResponse"
    return {
        "type": "object",
        "required": ["meta", "responseSummary"],
        "description": "A Beacon v2 `beaconBooleanResponse`, `beaconCountResponse` or "
        f"`{shape}` as the returned granularity allows; records follow `{target.schema_id}`.",
        "externalDocs": {"url": f"{_RESPONSES_RAW}{shape}.json"},
    }


def _query_parameters(op: _Operation) -> list[dict[str, Any]]:
    return [{"$ref": f"#/components/parameters/{parameter_key(name, op.target)}"} for name in op.params]


def _operations(config: Config) -> Iterator[tuple[str, _Operation]]:
    """Every Beacon path (GET and POST alike) with what describes it, in the route table's order."""
    for suffix, fw in _FRAMEWORK.items():
        yield f"/api{suffix}", _Operation("framework", fw.summary, _response_schema(fw.response_schema, fw.required))
    terms = _response_schema(_FILTERING_TERMS, ("meta", "response"))
    yield "/api/filtering_terms", _Operation("framework", "Filtering terms of every entry type", terms, "terms")
    for entry in config.entry_types.enabled():
        root, tag, answer = f"/api/{entry.path}", entry.path, _entry_response(entry)
        yield f"{root}/filtering_terms", _Operation(tag, f"Filtering terms of {entry.path}", terms, "terms", entry)
        yield root, _Operation(tag, f"Query {entry.path}", answer, "query", entry)
        yield f"{root}/{{id}}", _Operation(tag, f"One {entry.id} by id", answer, "query", entry, entry)
        if entry.filtering_terms_per_record:
            summary = f"Filtering terms of one {entry.id}"
            yield f"{root}/{{id}}/filtering_terms", _Operation(tag, summary, terms, "terms", entry, entry)
        for _, target in config.entry_types.lookups_of(entry):
            summary = f"{target.path} of one {entry.id}"
            yield (
                f"{root}/{{id}}/{target.path}",
                _Operation(tag, summary, _entry_response(target), "query", target, entry),
            )


def _operation_id(method: str, path: str) -> str:
    parts = [p.replace("{id}", "by_id") for p in path.strip("/").split("/")]
    name = "_".join(p.replace("-", "_") for p in parts)
    return f"{method}_{name}" + ("_slash" if path.endswith("/") and path != "/" else "")


def _errors(statuses: tuple[int, ...]) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/Error{s}"} for s in statuses}


def _path_item(config: Config, path: str, op: _Operation) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if op.path_id is not None:
        item["parameters"] = [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "description": f"The `{op.path_id.id_field}` of a {op.path_id.id} record.",
                "schema": {"type": "string", "minLength": 1},
            }
        ]
    common = (400, 401, 403, *((404,) if op.path_id else ()), 429, *((501,) if op.kind == "query" else ()), 503)
    with_body = tuple(sorted((*common, 413)))
    ok = {"description": "The Beacon answer.", "content": {"application/json": {"schema": op.response}}}
    item["get"] = {
        "tags": [op.tag],
        "summary": op.summary,
        "operationId": _operation_id("get", path),
        "parameters": _query_parameters(op),
        "responses": {"200": ok, **_errors(common)},
    }
    item["post"] = {
        "tags": [op.tag],
        "summary": op.summary,
        "description": "The same query as GET, as a Beacon request body; the query string must be empty.",
        "operationId": _operation_id("post", path),
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/BeaconRequestBody"},
                    "examples": {
                        name: {"$ref": f"#/components/examples/{name}"}
                        for name in body_examples(config, op.target if op.kind == "query" else None)
                    },
                }
            },
        },
        "responses": {"200": ok, **_errors(with_body)},
    }
    return item


_ERRORS = {
    400: "The request is malformed: unknown parameter, wrong value, too many filters or values.",
    401: "The bearer token is missing where required, invalid or expired.",
    403: "The token is valid but does not grant what was asked.",
    404: "No such record (or no such path).",
    413: "The request body exceeds the server's limit.",
    429: "The client's rate limit or the caller's query budget is spent; see Retry-After.",
    501: "A well-formed query this Beacon cannot answer.",
    503: "The store is unavailable or the request took too long; see Retry-After.",
}


def _hoisted(node: Any, names: dict[str, str]) -> Any:
    """`node` with every `#/$defs/x` reference pointing at the component schema `names[x]` instead."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return {**node, "$ref": f"#/components/schemas/{names[ref.removeprefix('#/$defs/')]}"}
        return {k: _hoisted(v, names) for k, v in node.items()}
    if isinstance(node, list):
        return [_hoisted(v, names) for v in node]
    return node


def _request_schemas(scopes: list[str]) -> dict[str, Any]:
    """The request-body schema and its `$defs` as component schemas (a `#/$defs` pointer means nothing here).

    Two rules the parser checks after the schema (for clearer messages) are stated here too: a filter's
    `scope` is one of the served entry types' scopes, and an alphanumeric filter has both `operator`
    and `value`.
    """
    body = {k: v for k, v in request_body_schema().items() if k not in ("$schema", "$id")}
    defs = body.pop("$defs", {})
    for form in defs.get("filter", {}).get("anyOf", []):
        if "scope" in form.get("properties", {}):
            form["properties"]["scope"] = {"enum": scopes}
            form["dependentRequired"] = {"operator": ["value"], "value": ["operator"]}
    names = {name: f"BeaconRequest{name[:1].upper()}{name[1:]}" for name in defs}
    out = {"BeaconRequestBody": _hoisted(body, names)}
    out.update({names[name]: _hoisted(schema, names) for name, schema in defs.items()})
    return out


def _components(config: Config) -> dict[str, Any]:
    error = {
        "type": "object",
        "required": ["meta", "error"],
        "description": "A Beacon v2 `beaconErrorResponse`; errorCode is the HTTP status.",
        "externalDocs": {"url": f"{_RESPONSES_RAW}beaconErrorResponse.json"},
        "properties": {
            "meta": {"type": "object"},
            "error": {
                "type": "object",
                "required": ["errorCode"],
                "properties": {"errorCode": {"type": "integer"}, "errorMessage": {"type": "string"}},
            },
        },
    }
    headers: dict[int, dict[str, Any]] = {
        401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}},
        429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
        503: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    }
    responses = {}
    for status, description in _ERRORS.items():
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BeaconErrorResponse"}}},
        }
        if status in headers:
            response["headers"] = headers[status]
        if status == 400:
            # A request line over 8 KiB is refused by aiohttp's HTTP parser before the application sees it
            # (docs/decisions.md): the one answer that is not a Beacon error.
            response["content"]["text/plain"] = {"schema": {"type": "string"}}
        responses[f"Error{status}"] = response
    return {
        "schemas": {**_request_schemas(sorted(config.entry_types.by_scope())), "BeaconErrorResponse": error},
        "parameters": parameter_components(config),
        "examples": example_components(config),
        "responses": responses,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token of a trusted OpenID issuer (registered datasets) or one "
                "carrying GA4GH passport visas (controlled datasets). Public data needs none.",
            }
        },
    }


def _documentation_paths() -> dict[str, Any]:
    return {
        OPENAPI_PATH: {
            "get": {
                "tags": ["documentation"],
                "summary": "This OpenAPI document",
                "operationId": "get_api_openapi_json",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        DOCS_PATH: {
            "get": {
                "tags": ["documentation"],
                "summary": "A readable page of this document",
                "operationId": "get_api_docs",
                "responses": {
                    "200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
                },
            }
        },
    }


def build_document(config: Config) -> dict[str, Any]:
    """The OpenAPI document for `config`: every path `route_table(config.entry_types)` serves under /api.

    Needs the request schema already read (`parse.warm_up`, run at app start-up); does no other I/O.
    """
    b = config.beacon
    paths = {path: _path_item(config, path, op) for path, op in _operations(config)}
    paths.update(_documentation_paths())
    tags = [{"name": "framework", "description": "Informational endpoints of the Beacon framework."}]
    tags += [{"name": e.path, "description": f"{e.name}: {e.description}"} for e in config.entry_types.enabled()]
    tags.append({"name": "documentation", "description": "This document and its page."})
    info: dict[str, Any] = {
        "title": b.name,
        "version": b.version,
        "description": f"GA4GH Beacon {API_VERSION} API of `{b.id}`. Every query endpoint takes GET "
        "parameters or the same query as a POST body. Generated from the served entry-type table.",
    }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "tags": tags,
        "paths": paths,
        "components": _components(config),
        # Anonymous callers are welcome; a token only widens what they may see.
        "security": [{}, {"bearerAuth": []}],
    }
    if b.documentation_url:
        document["externalDocs"] = {"url": b.documentation_url}
    return document


@dataclass
class DocumentCache:
    """The serialised document of one app, built at the first request (config is fixed for the app's life)."""

    body: bytes | None = None


async def openapi_json(request: web.Request, cache: DocumentCache) -> web.Response:
    if cache.body is None:
        cache.body = json.dumps(build_document(request.app[CONFIG]), separators=(",", ":")).encode()
    return web.Response(body=cache.body, content_type="application/json")
