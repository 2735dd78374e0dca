"""One view of what is loaded per block of store calls (a request): `with one_snapshot(): ...`.

A request may call the store several times (counts, then a page of records, then their terms); a
dataset replaced between two of those calls would give it counts of one version and records of
another. Inside `one_snapshot()`, a store that replaces datasets by switching a catalog (MongoDB)
resolves each dataset's live version once, at its first call, and every later call of the block
reads that version; a replaced version outlives the switch for longer than a request may run
(`store.retire_after_s`), so it is still there. Outside a block, each call resolves anew.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Per block: store-chosen key -> what the store resolved. A ContextVar, so concurrent requests
# (each its own task) never share one, and tasks a request starts inherit it.
_SNAPSHOT: ContextVar[dict[Any, Any] | None] = ContextVar("beacon_store_snapshot", default=None)


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Within the block, each dataset's live version is resolved once (nested blocks share the outer one)."""
    if _SNAPSHOT.get() is not None:
        yield
        return
    token = _SNAPSHOT.set({})
    try:
        yield
    finally:
        _SNAPSHOT.reset(token)


def current_snapshot() -> dict[Any, Any] | None:
    """The block's memo for stores to fill, or None outside `one_snapshot()`."""
    return _SNAPSHOT.get()
