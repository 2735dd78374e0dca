"""Ask every capable member at once; yield outcomes as they come, and timeouts for the rest at the deadline.

One member's failure never cancels another's request: each call ends in an Outcome value
(beacon/aggregator/members.py); only the overall deadline cancels, and it reports what it cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from beacon.aggregator.members import Ask, Member, Outcome, Status, call
from beacon.aggregator.network import Network


async def fan_out(network: Network, ask: Ask) -> AsyncIterator[Outcome]:
    """Outcomes in the order members answer; skipped members first, timeouts at the deadline last."""
    settings = network.settings
    tasks: dict[asyncio.Task[Outcome], Member] = {}
    for member in network.members.values():
        if ask.entry_path is not None and not member.serves(ask.entry_path):
            yield Outcome(member.id, Status.SKIPPED, message=f"does not serve /{ask.entry_path}")
            continue
        tasks[asyncio.ensure_future(call(network.session, member, ask, settings.max_response_bytes))] = member
    started = time.perf_counter()
    pending = set(tasks)
    try:
        while pending:
            remaining = settings.deadline_s - (time.perf_counter() - started)
            if remaining <= 0:
                break
            done, pending = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    elapsed = (time.perf_counter() - started) * 1000
    for task in pending:
        yield Outcome(
            tasks[task].id, Status.TIMEOUT, elapsed, f"no answer within the {settings.deadline_s:g} s deadline"
        )


def observe(network: Network, outcome: Outcome) -> None:
    """Count the outcome in the member metrics (latency only for members that were asked)."""
    asked = outcome.status is not Status.SKIPPED
    latency = outcome.latency_ms / 1000 if asked else None
    network.metrics.observe(outcome.member, outcome.status.value, latency, deviating=bool(outcome.warnings))
