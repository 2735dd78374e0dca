"""Judge responses with the official schemas (reference jsonschema implementation), choosing the schema as the spec README says."""

from __future__ import annotations

from typing import Any

from beacon.model.entry_types import EntryTypeTable
from beacon.spec import MODEL, RESPONSES, validator

_BY_ENDPOINT = {
    "info": "beaconInfoResponse.json",
    "service-info": "ga4gh-service-info-1-0-0-schema.json",
    "configuration": "beaconConfigurationResponse.json",
    "map": "beaconMapResponse.json",
    "entry_types": "beaconEntryTypesResponse.json",
    "filtering_terms": "beaconFilteringTermsResponse.json",
}
_TABLE = EntryTypeTable()


def _errors(schema: str, document: object) -> list[str]:
    v = validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in v.iter_errors(document)][:5]


def response_problems(document: dict[str, Any], endpoint: str | None = None) -> list[str]:
    """Violations of the official schema for this response; [] when valid.

    `endpoint` names an informational endpoint; otherwise the schema is chosen from the error
    body or `meta.returnedGranularity`, and every returned record is checked against its entry
    type's default schema (found from `meta.returnedSchemas`).
    """
    if "error" in document:
        return _errors(f"{RESPONSES}/beaconErrorResponse.json", document)
    if endpoint is not None:
        return _errors(f"{RESPONSES}/{_BY_ENDPOINT[endpoint]}", document)
    granularity = document["meta"]["returnedGranularity"]
    response = document.get("response", {})
    if "collections" in response:
        schema = "beaconCollectionsResponse.json"
        records = response["collections"]
    elif granularity == "record":
        schema = "beaconResultsetsResponse.json"
        records = [r for s in response.get("resultSets", []) for r in s["results"]]
    else:
        schema = "beaconCountResponse.json" if granularity == "count" else "beaconBooleanResponse.json"
        records = []
    problems = _errors(f"{RESPONSES}/{schema}", document)
    entity = document["meta"]["returnedSchemas"][0]["entityType"]
    record_schema = f"{MODEL}/{_TABLE.by_id(entity).schema_file}"
    for record in records:
        problems += [f"record {record.get('id')}: {p}" for p in _errors(record_schema, record)]
    return problems
