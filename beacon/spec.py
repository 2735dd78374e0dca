"""The official Beacon v2 schemas, shipped with the package and resolved offline, as cached validators.

The schemas (v2.1.1, CC0, unchanged; provenance in `schemas/beacon-v2/README.md`) ship inside the
package as `schemas/beacon-v2/` (`beacon/schemas/beacon-v2/` in an installed wheel); env
`BEACON_SPEC_DIR` points elsewhere to use another copy. Every `$ref` that points at GitHub or w3id is
mapped onto that folder so validation never touches the network.

Fields newer than v2.1.1 that this beacon answers (v2.2's `countPrecision` and `countAdjustedTo` in
`responseSummary` and in each result set) validate as additional properties: both v2.1.1 objects are
open (`beaconSummaryResponseSection` declares no `additionalProperties`, `beaconResultsets` says
`true`), so they are accepted and their values are not checked by these schemas.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from beacon.config import schemas_dir
from beacon.errors import ConfigError

_RAW_GITHUB = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"
_VRS = "https://w3id.org/ga4gh/schema/vrs/1.3/vrs.json"
MODEL = "models/json/beacon-v2-default-model"
RESPONSES = "framework/json/responses"


def spec_dir() -> Path:
    """Folder of the official schemas: `BEACON_SPEC_DIR` when set, else the copy shipped with the package.

    :raise ConfigError: the folder does not hold the Beacon v2 schemas.
    """
    override = os.environ.get("BEACON_SPEC_DIR")
    root = Path(override).resolve() if override else schemas_dir() / "beacon-v2"
    if not (root / "framework" / "json").is_dir():
        where = f"BEACON_SPEC_DIR={root}" if override else f"{root} (the copy shipped with the package)"
        msg = f"{where}: no Beacon v2 schemas there (expected framework/json/)"
        raise ConfigError(msg)
    return root


def _load(root: Path, uri: str) -> Any:
    """The schema document behind `uri`, mapped into the spec folder (never the network)."""
    if uri.split("#")[0] == _VRS:
        return json.loads((root / "external/ga4gh-vrs-1.3/vrs.json").read_text())
    if uri.startswith(_RAW_GITHUB):
        path = root / uri[len(_RAW_GITHUB) :]
    elif uri.startswith("file://"):
        path = Path(uri[len("file://") :])
    else:
        raise LookupError(uri)
    # Five model schemas refer to a models/.../common/info.json that was never published.
    if not path.exists() and path.name == "info.json":
        path = root / "framework/json/common/info.json"
    return json.loads(path.read_text())


@cache
def _registry(root: Path) -> Registry[Any]:
    def retrieve(uri: str) -> Resource[Any]:
        spec = DRAFT7 if uri.split("#")[0] == _VRS else DRAFT202012
        return spec.create_resource(_load(root, uri))

    return Registry(retrieve=retrieve)  # type: ignore[call-arg]


@cache
def _validator(root: Path, relative: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": (root / relative).as_uri()}, registry=_registry(root))


def validator(relative: str) -> Draft202012Validator:
    """A cached validator for the schema at `relative` (a path inside the spec folder)."""
    return _validator(spec_dir(), relative)


def record_validator(schema_file: str) -> Draft202012Validator:
    """Validator of one record of an entry type (`schema_file` as in the entry-type table)."""
    return validator(f"{MODEL}/{schema_file}")


class RecordChecker:
    """Fast validation of records against one official schema (jsonschema-rs; same verdicts as jsonschema)."""

    def __init__(self, root: Path, relative: str) -> None:
        path = root / relative
        schema = json.loads(path.read_text()) | {"$id": path.as_uri()}
        self._validator = jsonschema_rs.validator_for(schema, retriever=lambda uri: _load(root, uri))

    def problems(self, document: object, limit: int = 1) -> list[tuple[str, str]]:
        """(JSON path, message) of at most `limit` violations; empty when valid."""
        if self._validator.is_valid(document):
            return []
        out = []
        for error in self._validator.iter_errors(document):
            where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
            out.append((where, error.message[:300]))
            if len(out) >= limit:
                break
        return out


@cache
def _checker(root: Path, relative: str) -> RecordChecker:
    return RecordChecker(root, relative)


def record_checker(schema_file: str) -> RecordChecker:
    """A cached fast checker for records of an entry type (`schema_file` as in the entry-type table)."""
    return _checker(spec_dir(), f"{MODEL}/{schema_file}")


def problems(validator_: Draft202012Validator, document: object, limit: int = 5) -> list[str]:
    """Human-readable violations (`path: message`), at most `limit`, best-match first."""
    out = []
    for error in sorted(validator_.iter_errors(document), key=lambda e: e.path)[:limit]:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        out.append(f"{where}: {error.message[:300]}")
    return out


_BY_ENDPOINT = {
    "info": "beaconInfoResponse.json",
    "service-info": "ga4gh-service-info-1-0-0-schema.json",
    "configuration": "beaconConfigurationResponse.json",
    "map": "beaconMapResponse.json",
    "entry_types": "beaconEntryTypesResponse.json",
    "filtering_terms": "beaconFilteringTermsResponse.json",
}


def _errors(schema: str, document: object) -> list[str]:
    v = validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in v.iter_errors(document)][:5]


def response_problems(document: dict[str, Any], endpoint: str | None, record_schemas: dict[str, str]) -> list[str]:
    """Violations of the official schema for a response; [] when valid.

    `endpoint` names an informational endpoint (`info`, `map`…); otherwise the schema is chosen
    from the error body or `meta.returnedGranularity` (the model's OpenAPI `oneOf` cannot be
    satisfied, see the spec README), and every returned record is checked against its entry
    type's default schema, looked up by entity type in `record_schemas`.
    """
    if "error" in document:
        return _errors(f"{RESPONSES}/beaconErrorResponse.json", document)
    if endpoint is not None:
        return _errors(f"{RESPONSES}/{_BY_ENDPOINT[endpoint]}", document)
    granularity = document["meta"]["returnedGranularity"]
    response = document.get("response", {})
    if "collections" in response:
        schema, records = "beaconCollectionsResponse.json", response["collections"]
    elif granularity == "record":
        schema = "beaconResultsetsResponse.json"
        records = [r for s in response.get("resultSets", []) for r in s["results"]]
    else:
        schema = "beaconCountResponse.json" if granularity == "count" else "beaconBooleanResponse.json"
        records = []
    problems = _errors(f"{RESPONSES}/{schema}", document)
    entity = document["meta"]["returnedSchemas"][0]["entityType"]
    for record in records:
        problems += [f"record {record.get('id')}: {p}" for p in _errors(f"{MODEL}/{record_schemas[entity]}", record)]
    return problems


def response_checker(schema_file: str) -> RecordChecker:
    """A cached fast checker for a framework response envelope (e.g. `beaconCountResponse.json`)."""
    return _checker(spec_dir(), f"{RESPONSES}/{schema_file}")
