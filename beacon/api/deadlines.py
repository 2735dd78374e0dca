"""Request deadlines on one timer per app instead of one per request.

`asyncio.timeout` schedules a timer handle for every request and cancels it when the request ends:
on an allele query answered in 70 µs of Python that was 8 µs, the largest single cost the shared
middleware chain added to it. Here the requests in flight sit in a dict and one timer, set for the
earliest deadline, cancels whoever is over time; a request pays a dict insert and delete.

The semantics are `asyncio.timeout`'s: on expiry the request's task is cancelled, and the block
raises `TimeoutError` only when that cancellation is the one that ended it (a client that went away
at the same time still cancels the request); see `Deadline.__exit__`.
"""

from __future__ import annotations

import asyncio
import math
from types import TracebackType


class Deadline:
    """One request's deadline: a context manager like `asyncio.timeout`, raising TimeoutError when it expires."""

    __slots__ = ("_cancelling", "_owner", "_task", "expired", "seconds", "when")

    def __init__(self, owner: Deadlines, seconds: float) -> None:
        self._owner = owner
        self.seconds = seconds
        self.expired = False

    def __enter__(self) -> Deadline:
        # Entered once per request: the owner's bookkeeping is inlined here and in __exit__.
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        if task is None:
            msg = "a deadline must be entered inside a task"
            raise RuntimeError(msg)
        self._task = task
        self._cancelling = task.cancelling()
        when = self.when = loop.time() + self.seconds
        owner = self._owner
        owner.flight[self] = None
        # Every request of an app has the same allowance, so this is the earliest only when the
        # timer is idle; a shorter allowance moves the timer forward.
        if when < owner.timer_at:
            owner.arm(loop, when)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._owner.flight.pop(self, None)
        # As asyncio.timeout: take back our cancellation, and report a timeout only when no other
        # cancellation (the client going away, shutdown) is pending on the task.
        if self.expired and self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc

    def expire(self) -> None:
        self.expired = True
        self._task.cancel()


class Deadlines:
    """The deadlines of one app's requests in flight, served by one timer set for the earliest."""

    def __init__(self) -> None:
        self.flight: dict[Deadline, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self.timer_at = math.inf

    def within(self, seconds: float) -> Deadline:
        """A deadline `seconds` from when it is entered (`with deadlines.within(s): await ...`)."""
        return Deadline(self, seconds)

    def __len__(self) -> int:
        return len(self.flight)

    def arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        """Set the one timer for `when` (the earliest deadline in flight)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._expire, loop)
        self.timer_at = when

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer, self.timer_at = None, math.inf
        now = loop.time()
        nearest = math.inf
        for deadline in list(self.flight):
            if deadline.when <= now:
                del self.flight[deadline]
                deadline.expire()
            elif deadline.when < nearest:
                nearest = deadline.when
        if nearest < math.inf:
            self.arm(loop, nearest)
