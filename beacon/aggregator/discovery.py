"""What each member serves: its `/map` read at start and every `refresh_s`, and its health from that read."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from beacon.aggregator.members import Ask, Member, Status, call
from beacon.aggregator.network import Network

log = logging.getLogger(__name__)


def entry_paths(document: dict[str, Any]) -> frozenset[str] | None:
    """The entry paths a `/map` answer lists (last segment of each `rootUrl`); None if it lists none."""
    sets = document.get("response", {}).get("endpointSets")
    if not isinstance(sets, dict):
        return None
    paths = set()
    for endpoint_set in sets.values():
        root = endpoint_set.get("rootUrl") if isinstance(endpoint_set, dict) else None
        if isinstance(root, str) and root.rstrip("/"):
            paths.add(root.rstrip("/").rsplit("/", 1)[-1])
    return frozenset(paths)


async def discover(network: Network, member: Member) -> None:
    """Read the member's /map (entry types it serves, its beacon id); mark it healthy or not."""
    ask = Ask("GET", "/map", validate=False)
    outcome = await call(network.session, member, ask, network.settings.max_response_bytes)
    if outcome.status is Status.OK and outcome.document is not None:
        member.entry_paths = entry_paths(outcome.document) or member.entry_paths
        member.beacon_id = outcome.document.get("meta", {}).get("beaconId", member.beacon_id)
        member.healthy = True
    else:
        member.healthy = False
        member.last_error = outcome.message
        log.warning("member %s: discovery failed: %s", member.id, outcome.message)
    member.discovered_at = time.monotonic()


async def discover_all(network: Network) -> None:
    await asyncio.gather(*(discover(network, m) for m in network.members.values()))


async def refresh_forever(network: Network) -> None:
    """Discover every member again every `refresh_s` seconds, until cancelled."""
    while True:
        await asyncio.sleep(network.settings.refresh_s)
        await discover_all(network)
