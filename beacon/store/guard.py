"""Keep serving while the store is away: open lazily, retry at most once per interval, report health.

The server starts even when its store cannot be opened (a database not yet up, a volume not yet
mounted); until it can, store-backed requests get StoreUnavailable (503 with Retry-After) while
/api/info and the other framework endpoints keep answering. No restart is needed when the store
returns: the next request after the retry interval opens it.

Every query call is timed and handed to an optional observer (operation, seconds, ok): the app's
metrics, without the store layer knowing about Prometheus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from beacon.errors import StoreUnavailable
from beacon.model.plan import Query
from beacon.store.base import DatasetInfo, DatasetLoad, Document, LoadSummary, Store, Term, Tombstone

log = logging.getLogger(__name__)

T = TypeVar("T")
# (operation, seconds, ok): called after every store call, whether it succeeded or not.
Observer = Callable[[str, float, bool], None]


@dataclass(frozen=True)
class Health:
    ok: bool
    backend: str
    message: str


class GuardedStore:
    """A Store that (re)opens its inner store on demand and reports whether it answers."""

    def __init__(self, inner: Store, retry_interval_s: float = 1.0, observer: Observer | None = None) -> None:
        self.inner = inner
        self._observer = observer
        self.name = inner.name
        self._retry_interval_s = retry_interval_s
        self._open = False
        self._last_attempt = float("-inf")
        self._last_error = "not opened yet"
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Try once; a failure is logged, not raised (requests will retry)."""
        try:
            await self._ready()
        except StoreUnavailable as exc:
            log.warning("store %s unavailable at startup: %s (will retry on demand)", self.name, exc.message)

    async def _ready(self) -> Store:
        if self._open:
            return self.inner
        async with self._lock:
            if self._open:
                return self.inner
            if time.monotonic() - self._last_attempt < self._retry_interval_s:
                raise StoreUnavailable(f"store unavailable: {self._last_error}")
            self._last_attempt = time.monotonic()
            try:
                await self.inner.open()
            except StoreUnavailable as exc:
                self._last_error = exc.message
                raise
            self._open = True
            log.info("store %s open", self.name)
            return self.inner

    async def health(self) -> Health:
        """Whether the store answers a catalog read now."""
        try:
            await (await self._ready()).datasets()
        except StoreUnavailable as exc:
            return Health(False, self.name, exc.message)
        return Health(True, self.name, "ok")

    async def close(self) -> None:
        # Also when it never opened: a client (e.g. MongoDB's) may hold connections from failed attempts.
        was_open, self._open = self._open, False
        await self.inner.close()
        if was_open:
            log.info("store %s closed", self.name)

    async def _timed(self, operation: str, call: Callable[[Store], Awaitable[T]]) -> T:
        started = time.perf_counter()
        ok = False
        try:
            result = await call(await self._ready())
            ok = True
            return result
        finally:
            # Also on failure and cancellation (request deadline): slow failures are what latency is for.
            if self._observer is not None:
                self._observer(operation, time.perf_counter() - started, ok)

    async def count_by_dataset(self, query: Query) -> dict[str, int]:
        return await self._timed("count_by_dataset", lambda s: s.count_by_dataset(query))

    async def find(self, query: Query) -> list[Document]:
        return await self._timed("find", lambda s: s.find(query))

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        return await self._timed("distinct_keys", lambda s: s.distinct_keys(query, kind))

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        return await self._timed("keys_of", lambda s: s.keys_of(collection, record_id, kind, datasets))

    async def record_datasets(self, collection: str, record_id: str, datasets: tuple[str, ...]) -> list[str]:
        return await self._timed("record_datasets", lambda s: s.record_datasets(collection, record_id, datasets))

    async def terms(
        self, collections: tuple[str, ...], datasets: tuple[str, ...], record: tuple[str, str] | None = None
    ) -> list[Term]:
        return await self._timed("terms", lambda s: s.terms(collections, datasets, record))

    async def datasets(self) -> list[DatasetInfo]:
        return await self._timed("datasets", lambda s: s.datasets())

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        return await self._timed("replace_dataset", lambda s: s.replace_dataset(load))

    async def delete_dataset(self, dataset_id: str) -> bool:
        return await self._timed("delete_dataset", lambda s: s.delete_dataset(dataset_id))

    async def record_keys(self, collection: str, dataset_id: str, kind: str) -> dict[str, list[str]]:
        return await self._timed("record_keys", lambda s: s.record_keys(collection, dataset_id, kind))

    async def withdraw_dataset(self, tombstone: Tombstone) -> bool:
        return await self._timed("withdraw_dataset", lambda s: s.withdraw_dataset(tombstone))

    async def tombstones(self) -> list[Tombstone]:
        return await self._timed("tombstones", lambda s: s.tombstones())

    async def republish(self, dataset_id: str) -> bool:
        return await self._timed("republish", lambda s: s.republish(dataset_id))
