"""What of a member's answer the merge can use, and how far it deviates from the official schemas.

Beacons in a network speak dialects: an echo of the request in its flat form, `start` as a string,
frequencies under `populations[]` (the GDI reference node), meta fields left out. Such an answer is
still an answer. Two judgements are kept apart:

- usable: the parts the merge reads have the types it needs (`responseSummary.exists` a boolean,
  counts non-negative integers, result sets objects with a string `id`, records objects). An answer
  that fails here is `invalid`, as before, and counts against the member's circuit breaker;
- conforming: the whole envelope against its official schema, and each record passed on against its
  entry type's schema. Deviations are warnings, reported per member (`info.members[].warnings`,
  `info.warnings`, the deviations metric); the answer is merged and the member stays healthy.

Known dialect shapes are converted before judging (`populations[]` becomes the specification's
`frequencies[]`), and the conversion is itself reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from beacon.spec import RecordChecker, record_checker, response_checker

MAX_WARNINGS = 10  # per member answer: enough to fix a dialect, bounded against a hostile member
_ENTRY_SCHEMAS = {"boolean": "beaconBooleanResponse.json", "count": "beaconCountResponse.json"}


@cache
def _envelope(schema: str) -> RecordChecker:
    return response_checker(schema)


@cache
def _records(schema_file: str) -> RecordChecker:
    return record_checker(schema_file)


def warm_up(record_schemas: tuple[str, ...] = ()) -> None:
    """Compile the validators (reads schema files: call off the event loop, at startup)."""
    for schema in (*_ENTRY_SCHEMAS.values(), "beaconResultsetsResponse.json", "beaconCollectionsResponse.json"):
        _envelope(schema)
    _envelope("beaconErrorResponse.json")
    for schema_file in record_schemas:
        _records(schema_file)


@dataclass(frozen=True)
class Reading:
    """A member's answer as the merge will use it, or why it cannot be used."""

    document: dict[str, Any] | None
    problem: str | None = None  # set when the answer is unusable
    warnings: tuple[str, ...] = ()


def returned_granularity(document: dict[str, Any]) -> str:
    """A member answer's granularity: as stated in meta, else as its content shows (older members omit it)."""
    meta = document.get("meta")
    stated = meta.get("returnedGranularity") if isinstance(meta, dict) else None
    if stated in ("boolean", "count", "record"):
        return str(stated)
    response = document.get("response")
    if isinstance(response, dict) and ("collections" in response or "resultSets" in response):
        return "record"
    summary = document.get("responseSummary")
    return "count" if isinstance(summary, dict) and "numTotalResults" in summary else "boolean"


def _with_meta_defaults(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the meta fields the merge never reads filled in when missing.

    The specification's own example responses omit `returnedGranularity` and
    `receivedRequestSummary.requestedGranularity`; members answering like them conform.
    """
    meta = document.get("meta")
    if not isinstance(meta, dict) or "error" in document:
        return document
    fixed = {**meta}
    fixed.setdefault("returnedGranularity", returned_granularity(document))
    summary = fixed.get("receivedRequestSummary")
    if isinstance(summary, dict):
        fixed["receivedRequestSummary"] = {"requestedGranularity": fixed["returnedGranularity"], **summary}
    return {**document, "meta": fixed}


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _unusable(document: dict[str, Any]) -> str | None:
    """Why the merge cannot read `document` (an entry answer, not an error), or None."""
    summary = document.get("responseSummary")
    if not isinstance(summary, dict) or not isinstance(summary.get("exists"), bool):
        return "responseSummary.exists is not a boolean"
    if "numTotalResults" in summary and not _count(summary["numTotalResults"]):
        return "responseSummary.numTotalResults is not a non-negative integer"
    response = document.get("response", {})
    if not isinstance(response, dict):
        return "response is not an object"
    for key in ("resultSets", "collections"):
        if key in response and not isinstance(response[key], list):
            return f"response.{key} is not a list"
    for n, rs in enumerate(response.get("resultSets", [])):
        where = f"response.resultSets[{n}]"
        if not isinstance(rs, dict) or not isinstance(rs.get("id"), str):
            return f"{where} is not an object with a string id"
        if "resultsCount" in rs and not _count(rs["resultsCount"]):
            return f"{where}.resultsCount is not a non-negative integer"
        if not isinstance(rs.get("results", []), list) or not all(isinstance(r, dict) for r in rs.get("results", [])):
            return f"{where}.results is not a list of objects"
    if not all(isinstance(c, dict) for c in response.get("collections", [])):
        return "response.collections is not a list of objects"
    return None


def _frequencies_converted(record: dict[str, Any]) -> dict[str, Any] | None:
    """The record with `frequencyInPopulations[].populations` renamed `frequencies`; None when none was."""
    sources = record.get("frequencyInPopulations")
    if not isinstance(sources, list):
        return None
    changed = False
    fixed = []
    for source in sources:
        if isinstance(source, dict) and "populations" in source and "frequencies" not in source:
            source = {("frequencies" if k == "populations" else k): v for k, v in source.items()}
            changed = True
        fixed.append(source)
    return {**record, "frequencyInPopulations": fixed} if changed else None


def _converted(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`document` with known dialect shapes in the specification's form, and what was converted."""
    response = document.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("resultSets"), list):
        return document, []
    converted = 0
    sets = []
    for rs in response["resultSets"]:
        results = []
        for record in rs.get("results", []):
            fixed = _frequencies_converted(record)
            converted += fixed is not None
            results.append(fixed if fixed is not None else record)
        sets.append({**rs, "results": results} if "results" in rs else rs)
    if not converted:
        return document, []
    note = f"{converted} record(s) gave frequencyInPopulations[].populations: converted to frequencies"
    return {**document, "response": {**response, "resultSets": sets}}, [note]


def envelope_schema(document: dict[str, Any]) -> str:
    """The official response schema `document` answers under."""
    if "error" in document:
        return "beaconErrorResponse.json"
    granularity = returned_granularity(document)
    response = document.get("response")
    if isinstance(response, dict) and "collections" in response:
        return "beaconCollectionsResponse.json"
    if granularity == "record" or (isinstance(response, dict) and "resultSets" in response):
        return "beaconResultsetsResponse.json"
    return _ENTRY_SCHEMAS[granularity]


def _deviations(document: dict[str, Any], record_schema: str | None) -> list[str]:
    """The envelope's and each record's deviations from the official schemas, at most MAX_WARNINGS."""
    schema = envelope_schema(document)
    found = [f"{schema}: {where}: {message}" for where, message in _envelope(schema).problems(document, MAX_WARNINGS)]
    response = document.get("response", {})
    if record_schema is None or not isinstance(response, dict):
        return found[:MAX_WARNINGS]
    records = [(f"resultSets[{n}]", rs.get("results", [])) for n, rs in enumerate(response.get("resultSets", []))]
    records.append(("collections", response.get("collections", [])))
    checker = _records(record_schema)
    for where, items in records:
        for i, record in enumerate(items):
            if len(found) >= MAX_WARNINGS:
                return found
            for path, message in checker.problems(record):
                found.append(f"record {where}.results[{i}] ({record.get('id', '?')}): {path}: {message}")
    return found[:MAX_WARNINGS]


def read(document: object, record_schema: str | None = None) -> Reading:
    """How the merge may use a member's HTTP 200 answer.

    `record_schema` names the entry type's record schema (as in the entry-type table); records are
    checked against it when given.
    """
    if not isinstance(document, dict):
        return Reading(None, "not a JSON object")
    if "error" in document:
        found = _envelope("beaconErrorResponse.json").problems(document)
        return Reading(None, f"beaconErrorResponse.json: {found[0][0]}: {found[0][1]}") if found else Reading(document)
    problem = _unusable(document)
    if problem is not None:
        return Reading(None, problem)
    converted, notes = _converted(document)
    deviations = _deviations(_with_meta_defaults(converted), record_schema)
    return Reading(converted, warnings=tuple(notes + deviations)[:MAX_WARNINGS])
