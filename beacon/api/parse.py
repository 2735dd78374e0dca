"""GET query strings and POST bodies into one validated BeaconRequest; every defect is an InvalidRequest."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import fields
from functools import cache
from typing import Any

import jsonschema
from aiohttp import web
from multidict import MultiDict, MultiMapping

from beacon.api.keys import CONFIG
from beacon.api.parse_filters import (
    body_filter_groups,
    body_filters,
    query_string_filter,
    query_string_groups,
    split,
)
from beacon.config import QueryConfig, schemas_dir
from beacon.errors import InvalidRequest, PayloadTooLarge
from beacon.model.granularity import Granularity, IncludeResultsets
from beacon.model.request import API_VERSION, MAX_INTEGER, BeaconRequest, VariantParams

# Filter parsing lives in beacon/api/parse_filters.py; its public names are re-exported here.
__all__ = ["from_body", "from_query_string", "parse_request", "query_string_filter", "query_string_groups", "split"]

# Alternative spellings clients use, mapped onto the names of genomicVariations/requestParameters.json.
VARIANT_ALIASES = {
    "geneid": "geneId",
    "allele": "genomicAlleleShortForm",
    "assemblyid": "assemblyId",
}
VARIANT_PARAMS = frozenset(f for f in VariantParams.__dataclass_fields__)
_INT_PARAMS = frozenset({"variantMinLength", "variantMaxLength"})
_BASES = re.compile(r"^[ACGTUNRYSWKMBDHV.\-]*$")
GET_PARAMS = frozenset(
    {
        "requestedSchema",
        "requestedSchemas",
        "skip",
        "limit",
        "includeResultsetResponses",
        "filters",
        "filterGroup",
        "requestedGranularity",
        "testMode",
        "datasetIds",
        "apiVersion",
    }
)


@cache
def _body_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((schemas_dir() / "request.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def request_body_schema() -> dict[str, Any]:
    """A copy of the project's request-body schema (read by `warm_up`, so no I/O once the app has started)."""
    return copy.deepcopy(dict(_body_validator().schema))  # type: ignore[arg-type]


def warm_up() -> None:
    """Read the request schema before serving, so no handler touches the file system."""
    _body_validator()


def _int(name: str, value: object) -> int:
    """A non-negative integer up to MAX_INTEGER, from a JSON number or a decimal string.

    :raise InvalidRequest: anything else, including negative numbers and numbers beyond any genome.
    """
    if isinstance(value, bool):
        value = None
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_INTEGER:
        value = int(value)  # JSON `5.0` is the integer 5 to the request schema too
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,30}", value.strip()):
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_INTEGER:
        shown = value if not isinstance(value, str) else value[:40]
        msg = f"{name}: expected an integer from 0 to {MAX_INTEGER}, got {shown!r}"
        raise InvalidRequest(msg)
    return value


def _bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    msg = f"{name}: expected true or false, got {value!r}"
    raise InvalidRequest(msg)


def _enum(name: str, value: str, kind: type[Granularity] | type[IncludeResultsets]) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        msg = f"{name}: {value!r} is not one of {allowed}"
        raise InvalidRequest(msg) from None


def _variant(raw: Mapping[str, object]) -> VariantParams:
    """Validate variant parameters given as lists (GET) or JSON values (POST)."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in ("start", "end"):
            items = value if isinstance(value, list) else [value]
            if isinstance(value, str):
                items = split([value])
            if not 1 <= len(items) <= 2:
                msg = f"{name}: expected one or two positions, got {len(items)}"
                raise InvalidRequest(msg)
            values[name] = tuple(_int(name, v) for v in items)
            continue
        if isinstance(value, list):
            if len(value) != 1:
                msg = f"{name}: expected a single value, got {len(value)}"
                raise InvalidRequest(msg)
            value = value[0]
        if name in _INT_PARAMS:
            values[name] = _int(name, value)
        elif not isinstance(value, str) or not value.strip():
            msg = f"{name}: expected a non-empty string, got {value!r}"
            raise InvalidRequest(msg)
        elif name in ("referenceBases", "alternateBases"):
            bases = value.strip().upper()
            if not _BASES.match(bases):
                msg = f"{name}: {value!r} is not a sequence of IUPAC nucleotide codes"
                raise InvalidRequest(msg)
            values[name] = bases
        else:
            values[name] = value.strip()
    return VariantParams(**values)


def _limits(skip: int, limit: int, cfg: QueryConfig) -> tuple[int, int]:
    # limit 0 asks for everything; the server answers at most max_limit records per page.
    return skip, cfg.max_limit if limit == 0 else min(limit, cfg.max_limit)


def from_query_string(query: MultiMapping[str], cfg: QueryConfig) -> BeaconRequest:
    """Parse GET parameters; lists are comma-separated or repeated.

    :raise InvalidRequest: unknown parameter or malformed value.
    """
    grouped: dict[str, list[str]] = {}
    for key in query:
        grouped.setdefault(key, list(query.getall(key)))
    unknown = sorted(k for k in grouped if k not in GET_PARAMS and k not in VARIANT_PARAMS and k not in VARIANT_ALIASES)
    if unknown:
        msg = f"unknown parameter(s): {', '.join(unknown)}"
        raise InvalidRequest(msg)

    def single(name: str) -> str | None:
        values = grouped.get(name)
        if values is None:
            return None
        if len(values) != 1:
            msg = f"{name}: expected one value, got {len(values)}"
            raise InvalidRequest(msg)
        return values[0]

    raw_variant: dict[str, object] = {}
    for key, values in grouped.items():
        name = VARIANT_ALIASES.get(key, key)
        if name in VARIANT_PARAMS:
            if name in raw_variant:
                msg = f"{name} given twice (as {key} and under another name)"
                raise InvalidRequest(msg)
            raw_variant[name] = split(values) if name in ("start", "end") else values
    granularity = single("requestedGranularity")
    include = single("includeResultsetResponses")
    api_version = single("apiVersion")
    if api_version is not None and not api_version.strip():
        msg = "apiVersion: expected a non-empty string"
        raise InvalidRequest(msg)
    if any(not part.strip() for value in grouped.get("datasetIds", []) for part in value.split(",")):
        msg = "datasetIds: expected comma-separated dataset ids, got an empty one"
        raise InvalidRequest(msg)
    skip = _int("skip", single("skip")) if "skip" in grouped else 0
    limit = _int("limit", single("limit")) if "limit" in grouped else cfg.default_limit
    skip, limit = _limits(skip, limit, cfg)
    test_mode = single("testMode")
    return BeaconRequest(
        api_version=api_version or API_VERSION,
        requested_schemas=tuple(split(grouped.get("requestedSchema", []) + grouped.get("requestedSchemas", []))),
        variant=_variant(raw_variant),
        dataset_ids=tuple(split(grouped.get("datasetIds", []))),
        filters=tuple(query_string_filter(i) for i in split(grouped.get("filters", []))),
        filter_groups=query_string_groups(grouped.get("filterGroup", [])),
        granularity=_enum("requestedGranularity", granularity, Granularity) if granularity else cfg.default_granularity,
        granularity_given=granularity is not None,
        include=_enum("includeResultsetResponses", include, IncludeResultsets) if include else IncludeResultsets.HIT,
        skip=skip,
        limit=limit,
        limit_given="limit" in grouped,
        test_mode=_bool("testMode", test_mode) if test_mode is not None else False,
    )


def _request_parameters(params: Mapping[str, Any]) -> tuple[dict[str, object], list[str]]:
    """Variant parameters and dataset ids from the nested (schema) or flat (de-facto) form."""
    raw: dict[str, object] = {}
    dataset_ids: list[str] = []
    for key, value in params.items():
        if key == "$schema":
            continue
        if key in ("g_variant", "g_variants", "genomicVariant", "genomicVariation"):
            if not isinstance(value, dict):
                msg = f"query.requestParameters.{key}: expected an object"
                raise InvalidRequest(msg)
            nested, ids = _request_parameters(value)
            raw.update(nested)
            dataset_ids.extend(ids)
        elif key in ("datasets", "datasetIds"):
            ids_value = value.get("datasetIds") if isinstance(value, dict) else value
            items = ids_value if isinstance(ids_value, list) else [ids_value]
            if not all(isinstance(i, str) and i for i in items):
                msg = f"query.requestParameters.{key}: expected a list of dataset ids"
                raise InvalidRequest(msg)
            dataset_ids.extend(str(i) for i in items)
        elif VARIANT_ALIASES.get(key, key) in VARIANT_PARAMS:
            raw[VARIANT_ALIASES.get(key, key)] = value
        else:
            msg = f"query.requestParameters: unknown parameter {key!r}"
            raise InvalidRequest(msg)
    return raw, dataset_ids


_MAX_DEPTH = 32  # a Beacon request needs 6; deeper bodies only exercise recursive validators
# A `\\u` escape of a UTF-16 surrogate: JSON can spell one alone, which no Unicode text holds.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _too_deep(value: object) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def _lone_surrogate(value: object) -> bool:
    """True when a key or string anywhere in the parsed body holds a lone surrogate (a pair decodes to one char)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            try:
                node.encode()
            except UnicodeEncodeError:
                return True
    return False


def from_body(text: str, cfg: QueryConfig) -> BeaconRequest:
    """Parse a POST body (empty means an unfiltered request).

    :raise InvalidRequest: not JSON, not an object, or a value of the wrong shape.
    """
    if not text.strip():
        body: Any = {}
    else:
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            raise InvalidRequest(msg) from None
        except RecursionError:
            body = None  # nested beyond the parser's stack: reported as too deep below
        if body is None or _too_deep(body):
            msg = f"request body nests deeper than {_MAX_DEPTH} levels"
            raise InvalidRequest(msg)
        if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(body):
            # Not text: neither store can bind it, nor can the response echo it (a 500 before).
            msg = "request body is not Unicode text: a \\u escape spells a lone UTF-16 surrogate"
            raise InvalidRequest(msg)
    if not isinstance(body, dict):
        msg = f"request body must be a JSON object, got {type(body).__name__}"
        raise InvalidRequest(msg)
    errors = sorted(_body_validator().iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.absolute_path) or "body"
        msg = f"{where}: {e.message}"
        raise InvalidRequest(msg)
    meta = body.get("meta", {})
    query = body.get("query", {})
    raw_variant, dataset_ids = _request_parameters(query.get("requestParameters", {}))
    pagination = query.get("pagination", {})
    skip = _int("query.pagination.skip", pagination.get("skip", 0))
    limit = _int("query.pagination.limit", pagination.get("limit", cfg.default_limit))
    skip, limit = _limits(skip, limit, cfg)
    schemas = [s if isinstance(s, str) else s["schema"] for s in meta.get("requestedSchemas", [])]
    granularity = query.get("requestedGranularity")
    return BeaconRequest(
        api_version=meta.get("apiVersion", API_VERSION),
        requested_schemas=tuple(schemas),
        variant=_variant(raw_variant),
        dataset_ids=tuple(dataset_ids),
        filters=body_filters(query.get("filters", [])),
        filter_groups=body_filter_groups(query.get("filters", []), query.get("filterGroups", [])),
        granularity=Granularity(granularity) if granularity else cfg.default_granularity,
        granularity_given=granularity is not None,
        include=IncludeResultsets(query.get("includeResultsetResponses", "HIT")),
        skip=skip,
        limit=limit,
        limit_given="limit" in pagination,
        test_mode=query.get("testMode", False),
    )


async def parse_request(request: web.Request, cfg: QueryConfig) -> BeaconRequest:
    """The BeaconRequest of a GET (query string) or POST (JSON body).

    :raise InvalidRequest: any malformed part, or more filters or list values than `cfg` allows;
        POST parameters belong in the body.
    :raise PayloadTooLarge: a body over the server's limit (aiohttp enforces it while reading).
    """
    if request.method == "POST":
        try:
            text = await request.text()
        except UnicodeDecodeError:
            msg = "request body is not UTF-8 text"
            raise InvalidRequest(msg) from None
        except web.HTTPRequestEntityTooLarge:
            msg = f"request body larger than {request.app[CONFIG].server.max_body_bytes} bytes"
            raise PayloadTooLarge(msg) from None
        parsed = from_body(text, cfg)
        if request.query:
            _agree(from_query_string(request.query, cfg), parsed, from_query_string(MultiDict(), cfg))
    else:
        parsed = from_query_string(request.query, cfg)
    return within_limits(parsed, cfg)


_REQUEST_NAMES = {
    "api_version": "apiVersion",
    "requested_schemas": "requestedSchemas",
    "dataset_ids": "datasetIds",
    "filter_groups": "filterGroup",
    "include": "includeResultsetResponses",
    "test_mode": "testMode",
}


def _agree(repeated: BeaconRequest, body: BeaconRequest, plain: BeaconRequest) -> None:
    """A POST's query string may repeat its body's parameters (clients of the EGA implementation do),
    never add to them or contradict them (docs/decisions.md).

    :raise InvalidRequest: a query-string parameter the body does not give the same value.
    """
    differing = [
        _REQUEST_NAMES.get(f.name, f.name)
        for f in fields(BeaconRequest)
        if f.name not in ("variant", "granularity", "granularity_given", "limit_given")
        and getattr(repeated, f.name) != getattr(plain, f.name)
        and getattr(repeated, f.name) != getattr(body, f.name)
    ]
    differing += [
        f.name
        for f in fields(VariantParams)
        if getattr(repeated.variant, f.name) not in (None, ())
        and getattr(repeated.variant, f.name) != getattr(body.variant, f.name)
    ]
    if repeated.granularity_given and repeated.granularity != body.granularity:
        differing.append("requestedGranularity")
    if differing:
        msg = (
            f"POST requests take their parameters in the JSON body; the query string may only repeat them, and "
            f"{', '.join(dict.fromkeys(differing))} differ from the body"
        )
        raise InvalidRequest(msg)


def within_limits(breq: BeaconRequest, cfg: QueryConfig) -> BeaconRequest:
    """The request, if it stays within the configured numbers of filters and list values."""
    given = len(breq.filters) + sum(len(g.filters) for g in breq.filter_groups)
    if given > cfg.max_filters:
        msg = f"filters: {given} given, at most {cfg.max_filters} allowed"  # filter groups count too
        raise InvalidRequest(msg)
    for name, values in (("datasetIds", breq.dataset_ids), ("requestedSchemas", breq.requested_schemas)):
        if len(values) > cfg.max_values:
            msg = f"{name}: {len(values)} values given, at most {cfg.max_values} allowed"
            raise InvalidRequest(msg)
    return breq
