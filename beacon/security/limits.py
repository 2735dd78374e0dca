"""Per-client rate limit and per-identity query budget, both in memory, both O(1) per request."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from beacon.errors import TooManyRequests

Clock = Callable[[], float]


class RateLimiter:
    """A token bucket per client address: `rate` requests per second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic, max_clients: int = 100_000) -> None:
        self._rate, self._burst, self._clock, self._max = rate, burst, clock, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)

    def check(self, client: str) -> None:
        """:raise TooManyRequests: the client has used its allowance."""
        if self._rate <= 0:
            return
        now = self._clock()
        tokens, last = self._buckets.get(client, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            msg = f"rate limit of {self._rate:g} requests per second exceeded; slow down"
            raise TooManyRequests(msg)
        if len(self._buckets) >= self._max and client not in self._buckets:
            self._buckets.clear()  # bounded memory under address scans; everyone restarts with a full bucket
        self._buckets[client] = (tokens - 1, now)


class QueryBudget:
    """At most `queries` allele queries per identity in any sliding window of `window_s` seconds.

    Repeated allele queries are how membership-inference attacks on beacons work; the budget caps how
    many a single identity can make against registered and controlled data.
    """

    def __init__(self, queries: int, window_s: float, clock: Clock = time.monotonic) -> None:
        self._queries, self._window_s, self._clock = queries, window_s, clock
        self._spent: dict[str, deque[float]] = {}

    def spend(self, identity: str) -> None:
        """:raise TooManyRequests: the identity's budget for the current window is used up."""
        now = self._clock()
        spent = self._spent.setdefault(identity, deque())
        while spent and spent[0] <= now - self._window_s:
            spent.popleft()
        if len(spent) >= self._queries:
            msg = (
                f"query budget exhausted: at most {self._queries} allele queries on registered or controlled "
                f"data per {self._window_s:g} s"
            )
            raise TooManyRequests(msg)
        spent.append(now)
