"""What the ELIXIR network's validator and EGA's beacon verifier do to a beacon: walk /map and GET every URL it lists.

Informational endpoints first, then for every endpoint set its root, its single-entry URL (`{id}`
filled from the first record of that entry type), its filtering terms and every lookup URL, each as a
bare GET, each validated against the official schemas, each timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient

from beacon.model.entry_types import EntryTypeTable
from tests.conftest import fetch

INFORMATIONAL = ("info", "service-info", "configuration", "map", "entry_types", "filtering_terms")


@dataclass
class Walk:
    """Every URL asked, with its latency in seconds."""

    latencies: dict[str, float] = field(default_factory=dict)

    def p95(self) -> float:
        ordered = sorted(self.latencies.values())
        return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


async def _get(client: TestClient[Any, Any], walk: Walk, url: str, endpoint: str | None = None) -> dict[str, Any]:
    path = urlsplit(url).path
    started = time.perf_counter()
    resp = await client.get(path)
    walk.latencies[path] = time.perf_counter() - started
    assert resp.status == 200, (path, await resp.text())
    # fetch() asks again, validating the answer against the official schemas (records included).
    return await fetch(client, "GET", path, endpoint=endpoint)


async def _first_id(client: TestClient[Any, Any], root: str, id_field: str) -> str | None:
    path = urlsplit(root).path
    document = await fetch(client, "GET", path + "?requestedGranularity=record&limit=1")
    response = document.get("response", {})
    records = response.get("collections") or [r for rs in response.get("resultSets", []) for r in rs["results"]]
    return str(records[0][id_field]) if records else None


async def walk_map(client: TestClient[Any, Any], table: EntryTypeTable) -> Walk:
    """GET every informational endpoint and every URL of /map; assert each answer is 200 and schema-valid."""
    walk = Walk()
    for endpoint in INFORMATIONAL:
        await _get(client, walk, f"/api/{endpoint}", endpoint=endpoint)
    beacon_map = await fetch(client, "GET", "/api/map", endpoint="map")
    sets = beacon_map["response"]["endpointSets"]
    assert {table.by_id(t).id for t in sets} == {t.id for t in table.enabled()}
    for entry_id, endpoint_set in sets.items():
        entry = table.by_id(entry_id)
        await _get(client, walk, endpoint_set["rootUrl"])
        await _get(client, walk, endpoint_set["filteringTermsUrl"], endpoint="filtering_terms")
        record_id = await _first_id(client, endpoint_set["rootUrl"], entry.id_field)
        assert record_id is not None, f"{entry_id}: no record to fill {{id}} with"
        await _get(client, walk, endpoint_set["singleEntryUrl"].replace("{id}", record_id))
        for lookup in endpoint_set.get("endpoints", {}).values():
            await _get(client, walk, lookup["url"].replace("{id}", record_id))
    return walk
