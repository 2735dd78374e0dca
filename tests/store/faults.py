"""A fault-injecting wrapper around a MongoStore's collection objects: timeouts, elections, partial deletes.

`faulty(store)` puts a `FaultyDatabase` between the store (its queries, its loader and its
generation bookkeeping) and the database it was given; `db.on(collection, method, *hooks)` queues
hooks for the next calls of `collection.method` ("*" for every collection). A hook gets the real
call and decides: fail before it, run it and then fail (a lost acknowledgement), or run something
else first (a second loader). Every hooked call is recorded with pymongo's deadline in force.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pymongo import _csot

from beacon.store.mongo import MongoStore

Call = Callable[[], Awaitable[Any]]
Hook = Callable[[Call], Awaitable[Any]]


def fail(exc: Exception) -> Hook:
    """The call never reaches the server: it fails with `exc`."""

    async def hook(_: Call) -> Any:
        raise exc

    return hook


def lost_reply(exc: Exception) -> Hook:
    """The server applies the call, but its reply is lost (`exc`, e.g. an election)."""

    async def hook(call: Call) -> Any:
        await call()
        raise exc

    return hook


def before(action: Callable[[], Awaitable[object]]) -> Hook:
    """`action` runs first (another client at work), then the call."""

    async def hook(call: Call) -> Any:
        await action()
        return await call()

    return hook


async def passes(call: Call) -> Any:
    """The call as it is (to let the first calls through before a fault)."""
    return await call()


@dataclass(frozen=True)
class Seen:
    collection: str
    method: str
    args: tuple[Any, ...]
    timeout: float | None  # pymongo's operation timeout in force (None: the client's default)


class FaultyCollection:
    def __init__(self, db: FaultyDatabase, name: str, inner: Any) -> None:
        self._db = db
        self._name = name
        self._inner = inner

    def __getattr__(self, method: str) -> Any:
        attr = getattr(self._inner, method)
        if method not in self._db.watched:
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._db.seen.append(Seen(self._name, method, args, _csot.get_timeout()))
            hooks = self._db.hooks.get((self._name, method)) or self._db.hooks.get(("*", method))
            if not hooks:
                return await attr(*args, **kwargs)
            return await hooks.pop(0)(lambda: attr(*args, **kwargs))

        return call


class FaultyDatabase:
    watched = frozenset(
        {"insert_many", "delete_many", "count_documents", "create_indexes", "update_one", "find_one_and_update"}
    )

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.hooks: dict[tuple[str, str], list[Hook]] = {}
        self.seen: list[Seen] = []

    def on(self, collection: str, method: str, *hooks: Hook) -> None:
        self.hooks.setdefault((collection, method), []).extend(hooks)

    def __getitem__(self, name: str) -> FaultyCollection:
        return FaultyCollection(self, name, self._inner[name])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def calls(self, collection: str, method: str) -> list[Seen]:
        return [s for s in self.seen if (s.collection, s.method) == (collection, method)]


def faulty(store: MongoStore) -> FaultyDatabase:
    """Put a FaultyDatabase between `store` and its database; the wrapper."""
    db = FaultyDatabase(store._db)
    store._db = db
    store.generations._db = db
    store._loader._db = db
    return db
