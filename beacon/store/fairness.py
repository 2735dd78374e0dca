"""Sharing the store's worker threads between clients by the store time they use, not by arrival.

Store calls that may scan run on a few worker threads. Queued first come, first served, four 1.5 s
queries from one client made every other client's 2 ms query wait behind them (docs/security.md,
"Fairness under load"). Here each client (the peer address, set per request in `STORE_CLIENT`) may
hold at most `per_client` of the `slots`, so one client never holds them all; a client over its
share waits behind its own calls, and when a slot frees, the waiting client that used the least store
time recently (seconds, halved every `half_life_s`) goes first. A client with more than `max_waiting`
calls queued is refused (429), so a flood queues in nobody's memory.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from beacon.errors import TooManyRequests

# Who the store is working for: the API sets the peer address per request (beacon/api/callers.py);
# work outside requests (loads, probes) is the server's own. A context variable, not a global: each
# request's task has its own value.
STORE_CLIENT: ContextVar[str] = ContextVar("store_client", default="server")
Clock = Callable[[], float]


class FairShare:
    """`slots` concurrent store calls, shared between clients by recent store time."""

    def __init__(
        self,
        slots: int,
        per_client: int,
        max_waiting: int = 64,
        half_life_s: float = 10.0,
        clock: Clock = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self._free, self._per_client, self._max_waiting = slots, per_client, max_waiting
        self._decay = math.log(2) / half_life_s
        self._clock, self._max_clients = clock, max_clients
        self._held: Counter[str] = Counter()
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._used: dict[str, tuple[float, float]] = {}  # client -> (store seconds, decayed to this time)

    def usage(self, client: str) -> float:
        """The client's recent store time in seconds (decayed)."""
        used, at = self._used.get(client, (0.0, 0.0))
        return used * math.exp(-self._decay * (self._clock() - at))

    @asynccontextmanager
    async def slot(self, client: str) -> AsyncIterator[None]:
        """Hold one slot for `client` while the body runs; its duration is charged to the client.

        :raise TooManyRequests: the client already has `max_waiting` calls waiting.
        """
        await self._acquire(client)
        started = self._clock()
        try:
            yield
        finally:
            self._charge(client, self._clock() - started)
            self._release(client)

    async def _acquire(self, client: str) -> None:
        # Whenever a slot is free, nobody who may take it is waiting (_dispatch runs on every release).
        if self._free > 0 and self._held[client] < self._per_client:
            self._take(client)
            return
        queue = self._waiting.setdefault(client, deque())
        if len(queue) >= self._max_waiting:
            msg = f"too many queries waiting for the store from this client (at most {self._max_waiting}); slow down"
            raise TooManyRequests(msg, retry_after_s=1)
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(client)  # the slot came with the cancellation: pass it on
            elif granted in queue:
                queue.remove(granted)
                if not queue and self._waiting.get(client) is queue:
                    del self._waiting[client]
            raise

    def _take(self, client: str) -> None:
        self._free -= 1
        self._held[client] += 1

    def _release(self, client: str) -> None:
        self._held[client] -= 1
        if self._held[client] <= 0:
            del self._held[client]
        self._free += 1
        self._dispatch()

    def _dispatch(self) -> None:
        while self._free > 0:
            eligible = [c for c, q in self._waiting.items() if q and self._held[c] < self._per_client]
            if not eligible:
                return
            client = min(eligible, key=self.usage)
            queue = self._waiting[client]
            granted = queue.popleft()
            if not queue:
                del self._waiting[client]
            if granted.done():
                continue  # cancelled while waiting; its task is on its way out
            self._take(client)
            granted.set_result(None)

    def _charge(self, client: str, seconds: float) -> None:
        if len(self._used) >= self._max_clients and client not in self._used:
            # Bounded memory under address scans: forget the clients whose usage has decayed away.
            self._used = {c: u for c, u in self._used.items() if self.usage(c) > 0.001}
        self._used[client] = (self.usage(client) + seconds, self._clock())
