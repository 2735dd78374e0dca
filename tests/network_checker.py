"""What the ELIXIR network's validator and EGA's beacon verifier do to a beacon: walk /map and GET every URL it lists.

Informational endpoints first, then for every endpoint set its root, its single-entry URL (`{id}`
filled from the first record of that entry type), its filtering terms and every lookup URL, each as a
bare GET, each validated against the official schemas, each timed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient

from beacon.model.entry_types import EntryTypeTable
from tests.spec_check import response_problems

INFORMATIONAL = ("info", "service-info", "configuration", "map", "entry_types", "filtering_terms")


@dataclass
class Walk:
    """Every URL asked, with its latency in seconds."""

    client: TestClient[Any, Any]
    headers: dict[str, str] = field(default_factory=dict)
    latencies: dict[str, float] = field(default_factory=dict)

    def p95(self) -> float:
        ordered = sorted(self.latencies.values())
        return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


async def _get(walk: Walk, url: str, endpoint: str | None = None) -> dict[str, Any]:
    """One bare GET, timed, asserted 200 and valid against the official schemas (records included)."""
    path = urlsplit(url).path
    started = time.perf_counter()
    resp = await walk.client.get(path, headers=walk.headers)
    document: dict[str, Any] = await resp.json()
    walk.latencies[path] = time.perf_counter() - started
    assert resp.status == 200, (path, document)
    assert await asyncio.to_thread(response_problems, document, endpoint) == [], path
    return document


async def _first_id(walk: Walk, root: str, id_field: str) -> str | None:
    path = urlsplit(root).path + "?requestedGranularity=record&limit=1"
    resp = await walk.client.get(path, headers=walk.headers)
    document = await resp.json()
    response = document.get("response", {})
    records = response.get("collections") or [r for rs in response.get("resultSets", []) for r in rs["results"]]
    return str(records[0][id_field]) if records else None


async def walk_map(
    client: TestClient[Any, Any],
    table: EntryTypeTable,
    known_ids: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Walk:
    """GET every informational endpoint and every URL of /map; assert each answer is 200 and schema-valid.

    `{id}` is the first record's id of the entry type; where an anonymous caller sees no record (counts-only
    data), `known_ids` names one by entry type id. `headers` go with every request (e.g. a bearer token).
    """
    walk = Walk(client, dict(headers or {}))
    for endpoint in INFORMATIONAL:
        await _get(walk, f"/api/{endpoint}", endpoint=endpoint)
    beacon_map = await _get(walk, "/api/map", endpoint="map")
    sets = beacon_map["response"]["endpointSets"]
    assert {table.by_id(t).id for t in sets} == {t.id for t in table.enabled()}
    for entry_id, endpoint_set in sets.items():
        entry = table.by_id(entry_id)
        await _get(walk, endpoint_set["rootUrl"])
        await _get(walk, endpoint_set["filteringTermsUrl"], endpoint="filtering_terms")
        record_id = await _first_id(walk, endpoint_set["rootUrl"], entry.id_field)
        record_id = record_id or (known_ids or {}).get(entry_id)
        assert record_id is not None, f"{entry_id}: no record to fill {{id}} with"
        await _get(walk, endpoint_set["singleEntryUrl"].replace("{id}", record_id))
        for lookup in endpoint_set.get("endpoints", {}).values():
            await _get(walk, lookup["url"].replace("{id}", record_id))
    return walk
