"""The one HTTP handler for every entry type, single entry and cross-entity lookup: parse, ask, answer.

Everything between the parsed request and the response body (access, budget, planning, disclosure)
is the answer service's (`beacon/answer/`); this module only moves values between it and aiohttp.
"""

from __future__ import annotations

from aiohttp import web

from beacon.answer.service import Answer, Ask
from beacon.api.fast_lane import FAST_LANES
from beacon.api.json_bytes import JSON_UTF8, json_bytes
from beacon.api.keys import (
    ANSWERED,
    ANSWERS,
    CALLER,
    CONFIG,
    ENTRY,
    PARSED_REQUEST,
)
from beacon.api.parse import parse_request
from beacon.model.entry_types import EntryType, Lookup


def ask_of(request: web.Request, entry: EntryType, lookup: Lookup | None, single: bool) -> Ask:
    breq = request[PARSED_REQUEST]
    record_id = request.match_info.get("id") if (single or lookup) else None
    return Ask(entry, breq, request[CALLER], record_id, lookup)


def respond(request: web.Request, answer: Answer) -> web.Response:
    """The response for `answer`, with what the audit and metrics middlewares read set on the request."""
    request[ANSWERED] = answer
    return web.Response(body=json_bytes(answer.document), headers={"Content-Type": JSON_UTF8})


async def answer(request: web.Request, entry: EntryType, lookup: Lookup | None, single: bool) -> web.Response:
    app = request.app
    request[ENTRY] = app[CONFIG].entry_types.by_id(lookup.target) if lookup else entry
    if lookup is None and not single and (lane := app.get(FAST_LANES)) is not None and entry is lane.entry:
        fast = await lane.answer(request)
        if fast is not None:
            return respond(request, fast)
    request[PARSED_REQUEST] = await parse_request(request, app[CONFIG].query)
    return respond(request, await app[ANSWERS].answer(ask_of(request, entry, lookup, single)))
