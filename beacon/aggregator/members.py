"""One member beacon: what it can answer, whether it is healthy, and one bounded call to it.

Every call ends in an Outcome value (ok, timeout, error, invalid, refused, skipped); nothing a
member does, however slow, broken or hostile, raises into the fan-out.

Only what a member does on its own counts against its circuit breaker. When the caller's token was
forwarded, whatever the member answers (a 401 or 403 refusal, a 5xx, a slow or invalid answer) may
be the token's doing: it is reported to that caller and never opens the circuit for everyone else.
A refused connection happens before any token is sent and always counts.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import aiohttp

from beacon.aggregator import dialects
from beacon.aggregator.settings import MemberSettings


def warm_up(record_schemas: tuple[str, ...] = ()) -> None:
    """Compile the response and record validators (reads schema files: call off the event loop, at startup)."""
    dialects.warm_up(record_schemas)


class Status(StrEnum):
    OK = "ok"
    TIMEOUT = "timeout"
    ERROR = "error"
    INVALID = "invalid"
    REFUSED = "refused"  # HTTP 401/403: the member is up and refused this caller
    SKIPPED = "skipped"


class Verdict(StrEnum):
    """What one call says about the member's health, for its circuit breaker."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # the caller's own credential may have caused the answer: not evidence either way


@dataclass(frozen=True)
class Ask:
    """One question for the members: method, path below the API root, query string, body, caller's credential.

    `entry_path` names the entry type asked about (members not serving it are skipped; None asks all);
    `validate` checks every answer against the official response schemas.
    """

    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    authorization: str | None = None
    entry_path: str | None = None
    validate: bool = True
    record_schema: str | None = None  # the asked entry type's record schema, which records are checked against


@dataclass(frozen=True)
class Outcome:
    member: str
    status: Status
    latency_ms: float = 0.0
    message: str = ""
    document: dict[str, Any] | None = None
    http_status: int | None = None  # the member's HTTP status, when it answered at all
    warnings: tuple[str, ...] = ()  # deviations from the official schemas of an answer merged anyway

    def report(self) -> dict[str, Any]:
        """How the outcome appears in the aggregated answer's `info.members`."""
        out: dict[str, Any] = {
            "memberId": self.member,
            "outcome": self.status.value,
            "latencyMs": round(self.latency_ms, 1),
        }
        if self.status is Status.REFUSED and self.http_status is not None:
            out["httpStatus"] = self.http_status
        if self.message:
            out["message"] = self.message
        if self.warnings:
            out["warnings"] = list(self.warnings)
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

    def record(self, verdict: Verdict) -> None:
        if verdict is Verdict.UNKNOWN:
            return
        if verdict is Verdict.UP:
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


def response_problem(document: object) -> str | None:
    """Why a member's entry answer cannot be merged; None when it can (deviations are warnings, not problems)."""
    return dialects.read(document).problem


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


async def call(session: aiohttp.ClientSession, member: Member, ask: Ask, max_bytes: int) -> Outcome:
    """One request to one member, bounded by its timeout; never raises (except cancellation)."""
    if not member.breaker.allows():
        return Outcome(member.id, Status.SKIPPED, message=f"circuit open after repeated failures: {member.last_error}")
    headers = member.settings.static_headers()
    token = ask.authorization if member.settings.forward_token else None
    if token:
        headers["Authorization"] = token
    if ask.body is not None:
        headers["Content-Type"] = "application/json"
    url = member.settings.url + ask.path + (f"?{ask.query}" if ask.query else "")
    start = time.perf_counter()
    outcome, refused_connection = await _call(session, member, ask, url, headers, max_bytes, start)
    judged = verdict(outcome, forwarded=bool(token), refused_connection=refused_connection)
    member.breaker.record(judged)
    if judged is Verdict.DOWN:
        # Shown to every caller once the circuit opens: never what one caller's own request provoked.
        member.last_error = outcome.message
    return outcome


def verdict(outcome: Outcome, *, forwarded: bool, refused_connection: bool) -> Verdict:
    """What `outcome` says about the member itself (rules in the module docstring and docs/aggregator.md)."""
    if refused_connection:
        return Verdict.DOWN
    if forwarded:
        return Verdict.UNKNOWN
    if outcome.status in (Status.OK, Status.REFUSED):
        return Verdict.UP
    if outcome.status is Status.ERROR and outcome.http_status is not None and outcome.http_status < 500:
        return Verdict.UP  # a 4xx: the member is up and refused the question
    return Verdict.DOWN


async def _call(
    session: aiohttp.ClientSession,
    member: Member,
    ask: Ask,
    url: str,
    headers: dict[str, str],
    max_bytes: int,
    start: float,
) -> tuple[Outcome, bool]:
    """The outcome, and whether the connection itself was refused (nothing reached the member)."""

    def elapsed() -> float:
        return (time.perf_counter() - start) * 1000

    try:
        async with asyncio.timeout(member.settings.timeout_s):
            async with session.request(ask.method, url, data=ask.body, headers=headers, allow_redirects=False) as resp:
                raw = await read_limited(resp, max_bytes)
                status = resp.status
    except TimeoutError:
        return Outcome(member.id, Status.TIMEOUT, elapsed(), f"no answer within {member.settings.timeout_s:g} s"), False
    except ValueError as exc:
        return Outcome(member.id, Status.INVALID, elapsed(), str(exc)), False
    except aiohttp.ClientConnectorError as exc:
        return Outcome(member.id, Status.ERROR, elapsed(), f"{type(exc).__name__}"), True
    except aiohttp.ClientError as exc:
        return Outcome(member.id, Status.ERROR, elapsed(), f"{type(exc).__name__}"), False
    return _judge(member, ask, status, raw, elapsed()), False


def _judge(member: Member, ask: Ask, status: int, raw: bytes, latency_ms: float) -> Outcome:
    """The outcome of a member's complete HTTP answer."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        document = None
        if status == 200:
            return Outcome(member.id, Status.INVALID, latency_ms, "HTTP 200: body is not JSON", http_status=status)
    if status != 200:
        error = document.get("error") if isinstance(document, dict) else None
        text = error.get("errorMessage") if isinstance(error, dict) else None
        message = f"HTTP {status}: {str(text)[:200] if text else 'error'}"
        kind = Status.REFUSED if status in (401, 403) else Status.ERROR
        return Outcome(member.id, kind, latency_ms, message, http_status=status)
    if not ask.validate:
        return Outcome(member.id, Status.OK, latency_ms, document=document, http_status=status)
    reading = dialects.read(document, ask.record_schema)
    if reading.problem is not None:
        message = f"not a usable Beacon response: {reading.problem[:300]}"
        return Outcome(member.id, Status.INVALID, latency_ms, message, http_status=status)
    return Outcome(
        member.id, Status.OK, latency_ms, document=reading.document, http_status=status, warnings=reading.warnings
    )
