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
    """At most `queries` genotype questions per identity in any sliding window of `window_s` seconds.

    Repeated allele questions are how membership-inference attacks on beacons work; the budget caps how
    many alleles a single identity can test against registered and controlled data, whichever endpoint
    or filter form asks (the cost of a request is decided in `beacon/answer/cost.py`).
    """

    def __init__(self, queries: int, window_s: float, clock: Clock = time.monotonic) -> None:
        self._queries, self._window_s, self._clock = queries, window_s, clock
        self._spent: dict[str, tuple[deque[tuple[float, int]], list[int]]] = {}  # identity -> (spends, [total])

    def spend(self, identity: str, cost: int = 1) -> None:
        """Charge `cost` alleles, all or nothing.

        :raise TooManyRequests: the identity's budget for the current window cannot cover `cost`.
        """
        if cost <= 0:
            return
        now = self._clock()
        spends, total = self._spent.setdefault(identity, (deque(), [0]))
        while spends and spends[0][0] <= now - self._window_s:
            total[0] -= spends.popleft()[1]
        if total[0] + cost > self._queries:
            left = self._queries - total[0]
            msg = (
                f"query budget exhausted: at most {self._queries} alleles tested on registered or controlled "
                f"data per {self._window_s:g} s; this request tests {cost} and {left} remain"
            )
            raise TooManyRequests(msg)
        spends.append((now, cost))
        total[0] += cost
