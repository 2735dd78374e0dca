"""Request deadlines on one shared timer behave as asyncio.timeout: expiry, other cancellations, cleanup."""

from __future__ import annotations

import asyncio

import pytest

from beacon.api.deadlines import Deadlines


async def test_a_block_over_its_deadline_raises_timeout_error_and_leaves_nothing_behind() -> None:
    deadlines = Deadlines()
    with pytest.raises(TimeoutError), deadlines.within(0.05):
        await asyncio.sleep(5)
    assert len(deadlines) == 0
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_block_within_its_deadline_is_not_cancelled_later() -> None:
    deadlines = Deadlines()
    with deadlines.within(0.05):
        await asyncio.sleep(0)
    assert len(deadlines) == 0
    await asyncio.sleep(0.1)  # past the deadline: the finished block's timer must not cancel this task


async def test_each_of_many_requests_in_flight_expires_at_its_own_deadline() -> None:
    deadlines = Deadlines()

    async def request(allowance: float, work: float) -> str:
        try:
            with deadlines.within(allowance):
                await asyncio.sleep(work)
        except TimeoutError:
            return "timeout"
        return "done"

    outcomes = await asyncio.gather(
        request(0.3, 0.01), request(0.05, 5), request(0.3, 0.1), request(0.02, 5), request(5, 0.15)
    )
    assert outcomes == ["done", "timeout", "done", "timeout", "done"]
    assert len(deadlines) == 0


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines()
    started = asyncio.Event()

    async def request() -> None:
        with deadlines.within(5):
            started.set()
            await asyncio.sleep(5)

    task = asyncio.create_task(request())
    await started.wait()
    task.cancel()  # the client went away
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(deadlines) == 0


async def test_an_outside_cancellation_pending_at_expiry_wins_over_the_timeout() -> None:
    deadlines = Deadlines()
    seen: list[type[BaseException]] = []

    async def request() -> None:
        try:
            with deadlines.within(0.01):
                try:
                    await asyncio.sleep(5)
                finally:
                    await asyncio.sleep(0.05)  # the deadline passes while the task is also cancelled
        except BaseException as exc:
            seen.append(type(exc))
            raise

    task = asyncio.create_task(request())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [asyncio.CancelledError]
