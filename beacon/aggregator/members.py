"""One member beacon: what it can answer, whether it is healthy, and one bounded call to it.

Every call ends in an Outcome value (ok, timeout, error, invalid, skipped); nothing a member does,
however slow, broken or hostile, raises into the fan-out.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

import aiohttp

from beacon.aggregator.settings import MemberSettings
from beacon.spec import RecordChecker, response_checker

_ENTRY_SCHEMAS = {"boolean": "beaconBooleanResponse.json", "count": "beaconCountResponse.json"}
RESPONSE_SCHEMAS = (
    "beaconBooleanResponse.json",
    "beaconCountResponse.json",
    "beaconResultsetsResponse.json",
    "beaconCollectionsResponse.json",
    "beaconErrorResponse.json",
)


@cache
def _checker(schema: str) -> RecordChecker:
    return response_checker(schema)


def warm_up() -> None:
    """Compile the response validators (reads schema files: call off the event loop, at startup)."""
    for schema in RESPONSE_SCHEMAS:
        _checker(schema)


class Status(StrEnum):
    OK = "ok"
    TIMEOUT = "timeout"
    ERROR = "error"
    INVALID = "invalid"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    member: str
    status: Status
    latency_ms: float = 0.0
    message: str = ""
    document: dict[str, Any] | None = None

    def report(self) -> dict[str, Any]:
        """How the outcome appears in the aggregated answer's `info.members`."""
        out: dict[str, Any] = {
            "memberId": self.member,
            "outcome": self.status.value,
            "latencyMs": round(self.latency_ms, 1),
        }
        if self.message:
            out["message"] = self.message
        return out


@dataclass
class Breaker:
    """Consecutive failures open the circuit for `open_s`; then one trial call decides."""

    failures_to_open: int
    open_s: float
    failures: int = 0
    opened_at: float | None = None

    def allows(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at >= self.open_s:
            self.opened_at = None  # half-open: this call is the trial
            self.failures = self.failures_to_open - 1
            return True
        return False

    def record(self, ok: bool) -> None:
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.failures_to_open:
            self.opened_at = time.monotonic()


@dataclass
class Member:
    settings: MemberSettings
    breaker: Breaker
    entry_paths: frozenset[str] | None = None  # from the member's /map; None = not discovered (try all)
    beacon_id: str | None = None
    healthy: bool = True
    last_error: str = ""
    discovered_at: float = field(default=float("-inf"))

    @property
    def id(self) -> str:
        return self.settings.id

    def serves(self, entry_path: str) -> bool:
        return self.entry_paths is None or entry_path in self.entry_paths


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
    `receivedRequestSummary.requestedGranularity`; members answering like them are still merged.
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


def response_problem(document: object) -> str | None:
    """Why a member's entry answer is not a valid Beacon response; None when it is."""
    if not isinstance(document, dict):
        return "not a JSON object"
    if "error" in document:
        schema = "beaconErrorResponse.json"
    else:
        granularity = returned_granularity(document)
        response = document.get("response")
        if isinstance(response, dict) and "collections" in response:
            schema = "beaconCollectionsResponse.json"
        elif granularity == "record" or (isinstance(response, dict) and "resultSets" in response):
            schema = "beaconResultsetsResponse.json"
        else:
            schema = _ENTRY_SCHEMAS[granularity]
    found = _checker(schema).problems(_with_meta_defaults(document))
    return f"{schema}: {found[0][0]}: {found[0][1]}" if found else None


async def read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or ValueError once it grows past `limit` (an endless body ends here)."""
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(65536):
        size += len(chunk)
        if size > limit:
            msg = f"response larger than {limit} bytes"
            raise ValueError(msg)
        chunks.append(chunk)
    return b"".join(chunks)


async def call(
    session: aiohttp.ClientSession,
    member: Member,
    method: str,
    path: str,
    query: str,
    body: bytes | None,
    authorization: str | None,
    max_bytes: int,
    validate: bool = True,
) -> Outcome:
    """One request to one member, bounded by its timeout; never raises (except cancellation)."""
    if not member.breaker.allows():
        return Outcome(member.id, Status.SKIPPED, message=f"circuit open after repeated failures: {member.last_error}")
    headers = dict(member.settings.headers)
    if authorization and member.settings.forward_token:
        headers["Authorization"] = authorization
    if body is not None:
        headers["Content-Type"] = "application/json"
    url = member.settings.url + path + (f"?{query}" if query else "")
    start = time.perf_counter()
    outcome = await _call(session, member, method, url, body, headers, max_bytes, validate, start)
    member.breaker.record(outcome.status in (Status.OK, Status.ERROR) and "HTTP 5" not in outcome.message)
    if outcome.status is not Status.OK:
        member.last_error = outcome.message
    return outcome


async def _call(
    session: aiohttp.ClientSession,
    member: Member,
    method: str,
    url: str,
    body: bytes | None,
    headers: dict[str, str],
    max_bytes: int,
    validate: bool,
    start: float,
) -> Outcome:
    def elapsed() -> float:
        return (time.perf_counter() - start) * 1000

    try:
        async with asyncio.timeout(member.settings.timeout_s):
            async with session.request(method, url, data=body, headers=headers, allow_redirects=False) as resp:
                raw = await read_limited(resp, max_bytes)
                status = resp.status
    except TimeoutError:
        return Outcome(member.id, Status.TIMEOUT, elapsed(), f"no answer within {member.settings.timeout_s:g} s")
    except ValueError as exc:
        return Outcome(member.id, Status.INVALID, elapsed(), str(exc))
    except aiohttp.ClientError as exc:
        return Outcome(member.id, Status.ERROR, elapsed(), f"{type(exc).__name__}")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        document = None
        if status == 200:
            return Outcome(member.id, Status.INVALID, elapsed(), "HTTP 200: body is not JSON")
    if status != 200:
        error = document.get("error") if isinstance(document, dict) else None
        text = error.get("errorMessage") if isinstance(error, dict) else None
        return Outcome(member.id, Status.ERROR, elapsed(), f"HTTP {status}: {str(text)[:200] if text else 'error'}")
    if validate:
        problem = response_problem(document)
        if problem is not None:
            return Outcome(member.id, Status.INVALID, elapsed(), f"not a valid Beacon response: {problem[:300]}")
    return Outcome(member.id, Status.OK, elapsed(), document=document)
