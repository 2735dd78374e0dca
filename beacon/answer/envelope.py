"""Build the Beacon response documents: meta sections, summaries, result sets, collections and errors."""

from __future__ import annotations

from typing import Any

from beacon.config import Config
from beacon.model.entry_types import EntryType
from beacon.model.granularity import Granularity
from beacon.model.request import API_VERSION, BeaconRequest


def returned_schemas(entry: EntryType) -> list[dict[str, str]]:
    return [{"entityType": entry.id, "schema": entry.schema_id}]


def informational_meta(config: Config, entry: EntryType | None = None) -> dict[str, Any]:
    return {
        "beaconId": config.beacon.id,
        "apiVersion": API_VERSION,
        "returnedSchemas": returned_schemas(entry) if entry else [],
    }


def response_meta(
    config: Config, request: BeaconRequest, entry: EntryType | None, granularity: Granularity
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "beaconId": config.beacon.id,
        "apiVersion": API_VERSION,
        "returnedGranularity": granularity.value,
        "receivedRequestSummary": request.summary(entry.id if entry else ""),
        "returnedSchemas": returned_schemas(entry) if entry else [],
    }
    # Always said, false included: clients of the EGA implementation read it on every response (docs/decisions.md).
    meta["testMode"] = request.test_mode
    return meta


def error_document(
    config: Config,
    status: int,
    message: str,
    request: BeaconRequest | None = None,
    entry: EntryType | None = None,
) -> dict[str, Any]:
    request = request or BeaconRequest(granularity=config.query.default_granularity)
    return {
        "meta": response_meta(config, request, entry, request.granularity.at_most(Granularity.BOOLEAN)),
        "error": {"errorCode": status, "errorMessage": message},
    }
