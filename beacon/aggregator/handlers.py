"""The aggregator's answers to entry queries and filtering terms (mounted by beacon/api/routes.py), and /health.

Requests are parsed and checked with the beacon's own code before any member is asked; members'
answers are merged by beacon/aggregator/merge.py. Every member's outcome is in `info.members`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from beacon.aggregator.fanout import fan_out, observe
from beacon.aggregator.members import Ask, Outcome, Status
from beacon.aggregator.merge import merge, merge_terms
from beacon.aggregator.network import NETWORK
from beacon.api.keys import CONFIG, ENTRY, PARSED_REQUEST
from beacon.api.parse import parse_request
from beacon.api.routes import API, Answerers
from beacon.model.entry_types import EntryType, Lookup

NDJSON = "application/x-ndjson"


async def _ask(
    request: web.Request, entry: EntryType | None, validate: bool = True, target: EntryType | None = None
) -> Ask:
    """The member request for `request`, the same path below each member's API root."""
    body = await request.read() if request.method == "POST" else None
    return Ask(
        method=request.method,
        path=request.path[len(API) :],
        query=request.query_string,
        body=body,
        authorization=request.headers.get("Authorization"),
        entry_path=entry.path if entry is not None else None,
        validate=validate,
        record_schema=target.schema_file if target is not None else None,
    )


async def answer(request: web.Request, entry: EntryType, lookup: Lookup | None, single: bool) -> web.StreamResponse:
    """`/{entry}[/{id}[/{target}]]` from every member serving `entry`, merged; NDJSON streams members as they answer.

    :raise InvalidRequest: a malformed request (no member is asked).
    """
    del single  # members see the same path: `{id}` travels in it
    network = request.app[NETWORK]
    config = request.app[CONFIG]
    target = config.entry_types.by_id(lookup.target) if lookup else entry
    request[ENTRY] = target
    breq = await parse_request(request, config.query)  # invalid requests stop here, not at every member
    request[PARSED_REQUEST] = breq
    ask = await _ask(request, entry, target=target)
    streaming = NDJSON in request.headers.get("Accept", "")
    key = network.cache.key(ask)
    cached = None if streaming else network.cache.get(key)
    if cached is not None:
        return web.json_response(cached)
    outcomes: dict[str, Outcome] = {}
    stream: web.StreamResponse | None = None
    if streaming:
        stream = web.StreamResponse(headers={"Content-Type": NDJSON})
        await stream.prepare(request)
    async for outcome in fan_out(network, ask):
        outcomes[outcome.member] = outcome
        observe(network, outcome)
        if stream is not None:
            line: dict[str, Any] = outcome.report() | ({"response": outcome.document} if outcome.document else {})
            await stream.write(json.dumps(line).encode() + b"\n")
    document = merge(config, breq, target, [outcomes[m] for m in network.members if m in outcomes])
    if stream is not None:
        await stream.write(json.dumps({"merged": document}).encode() + b"\n")
        await stream.write_eof()
        return stream
    # A partial answer (a member timed out, failed or refused) is never repeated from the cache.
    if all(o.status in (Status.OK, Status.SKIPPED) for o in outcomes.values()):
        network.cache.put(key, document)
    return web.json_response(document)


async def filtering_terms(
    request: web.Request, entry: EntryType | None = None, per_record: bool = False
) -> web.StreamResponse:
    """The union of the members' terms for `/filtering_terms`, `/{entry}/filtering_terms` or one record's.

    :raise InvalidRequest: a malformed request (no member is asked).
    """
    del per_record  # the record id travels in the path
    network = request.app[NETWORK]
    config = request.app[CONFIG]
    request[PARSED_REQUEST] = await parse_request(request, config.query)
    outcomes: dict[str, Outcome] = {}
    async for outcome in fan_out(network, await _ask(request, entry, validate=False)):
        outcomes[outcome.member] = outcome
        observe(network, outcome)
    return web.json_response(merge_terms(config, [outcomes[m] for m in network.members if m in outcomes]))


AGGREGATOR = Answerers(entries=answer, filtering_terms=filtering_terms)


async def health(request: web.Request) -> web.Response:
    """200 while at least one member is healthy, else 503; every member's state either way."""
    members = request.app[NETWORK].members.values()
    report = {m.id: {"healthy": m.healthy, "circuit": "open" if m.breaker.opened_at else "closed"} for m in members}
    ok = any(m.healthy for m in members)
    return web.json_response({"status": "ok" if ok else "unavailable", "members": report}, status=200 if ok else 503)
