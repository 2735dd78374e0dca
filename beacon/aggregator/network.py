"""The aggregator's app-lifetime state in one typed value: settings, members, client session, cache, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from beacon.aggregator.cache import AnswerCache
from beacon.aggregator.members import Breaker, Member
from beacon.aggregator.settings import AggregatorSettings
from beacon.metrics import MemberMetrics


@dataclass
class Network:
    """Everything the fan-out needs; `session` is set while the app runs (its `cleanup_ctx`)."""

    settings: AggregatorSettings
    metrics: MemberMetrics
    members: dict[str, Member] = field(default_factory=dict)
    cache: AnswerCache = field(default_factory=AnswerCache)
    _session: aiohttp.ClientSession | None = None

    @classmethod
    def of(cls, settings: AggregatorSettings, metrics: MemberMetrics) -> Network:
        """Members in config order, each with its own closed breaker."""
        members = {
            m.id: Member(m, Breaker(settings.breaker_failures, settings.breaker_open_s)) for m in settings.members
        }
        return cls(settings, metrics, members, AnswerCache(settings.cache_ttl_s))

    @property
    def session(self) -> aiohttp.ClientSession:
        """:raise RuntimeError: the app is not running (no session yet, or closed)."""
        if self._session is None:
            msg = "the aggregator's client session is open only while the app runs"
            raise RuntimeError(msg)
        return self._session

    def attach(self, session: aiohttp.ClientSession | None) -> None:
        self._session = session


NETWORK = web.AppKey("network", Network)
