"""The store backends the shared suite runs on.

Always the embedded SQLite store. For MongoDB: a real server when BEACON_TEST_MONGO_URI points at
one (`make compose-test` starts one), otherwise mongomock-motor, an in-process stand-in named as
such in test ids and in the report header. The stand-in runs the same production code; it cannot
show index use or server-side behaviour, which the golden tests of filter documents and index
definitions pin instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import mongomock.collection
from mongomock import aggregate as mongomock_aggregate
from mongomock_motor import AsyncMongoMockClient

from beacon.store.base import Store, StoreOptions
from beacon.store.mongo import MongoStore
from beacon.store.sqlite import SqliteStore

T = TypeVar("T")
MONGO_URI = os.environ.get("BEACON_TEST_MONGO_URI")
MONGO = "mongodb" if MONGO_URI else "mongomock-stand-in"
BACKENDS = ("sqlite", MONGO)
# Tests must not wait for retired generations to be deleted.
TEST_OPTIONS = StoreOptions(retire_after_s=0, timeout_ms=5_000)


def report_header() -> str:
    if MONGO_URI:
        return "store backends: sqlite, mongodb (a real server from BEACON_TEST_MONGO_URI)"
    return (
        "store backends: sqlite, mongomock-stand-in (mongomock-motor stands in for MongoDB because "
        "BEACON_TEST_MONGO_URI is not set)"
    )


def _match_first_aggregate(self: Any, pipeline: list[dict[str, Any]], session: Any = None, **_: Any) -> Any:
    """mongomock copies the whole collection before a leading $match; filter first, as a server would.

    Same result, much less work: CINECA's variant documents carry thousands of carriers each.
    """
    if pipeline and "$match" in pipeline[0]:
        documents = list(self.find(pipeline[0]["$match"]))
        return mongomock_aggregate.process_pipeline(documents, self.database, pipeline[1:], session)
    return mongomock_aggregate.process_pipeline(list(self.find()), self.database, pipeline, session)


mongomock.collection.Collection.aggregate = _match_first_aggregate  # type: ignore[method-assign]


@dataclass
class MongoSource:
    """A MongoDB database the tests load once and open many stores on (one per event loop)."""

    database: str
    standin: AsyncMongoMockClient | None = None

    def store(self) -> MongoStore:
        if self.standin is not None:
            return MongoStore(self.standin, self.database, TEST_OPTIONS)
        assert MONGO_URI is not None
        return MongoStore(_real_client(), self.database, TEST_OPTIONS)

    async def drop(self) -> None:
        if self.standin is None:
            client = _real_client()
            await client.drop_database(self.database)
            await client.close()


def _real_client() -> Any:
    from pymongo import AsyncMongoClient

    return AsyncMongoClient(MONGO_URI, serverSelectionTimeoutMS=5_000)


def new_mongo_source(label: str) -> MongoSource:
    database = f"beacon_test_{label}_{uuid.uuid4().hex[:8]}"
    return MongoSource(database, None if MONGO_URI else AsyncMongoMockClient())


StoreFactory = Callable[[], Store]
Loading = Callable[[Store], Awaitable[object]]


async def load_into(store: Store, load: Callable[[Store], Awaitable[T]]) -> T:
    """Open `store`, run `load` on it and close it again; what `load` returned."""
    await store.open()
    try:
        return await load(store)
    finally:
        await store.close()


def stored_dataset_ids(path: Path) -> list[str]:
    """The ids of the datasets the SQLite store file at `path` lists, read outside any event loop."""

    async def read(store: Store) -> list[str]:
        return [d.id for d in await store.datasets()]

    return asyncio.run(load_into(SqliteStore(path), read))


def sqlite_loaded(path: Path, load: Loading) -> Path:
    """A SQLite store file at `path` holding what `load` writes (for module- or session-scoped fixtures)."""
    asyncio.run(load_into(SqliteStore(path), load))
    return path


def mongo_loaded(label: str, load: Loading) -> Iterator[MongoSource]:
    """A MongoDB database (or the stand-in) holding what `load` writes, dropped when the fixture ends."""
    source = new_mongo_source(label)
    asyncio.run(load_into(source.store(), load))
    yield source
    asyncio.run(source.drop())


@dataclass(frozen=True)
class LoadedStores:
    """The same load in a SQLite store file and in a MongoDB database (or the stand-in): a server per backend."""

    sqlite_uri: str
    mongo: MongoSource

    def store_for(self, backend: str) -> Store | None:
        """The store a server on `backend` is given: None on SQLite, where the config's store URI serves."""
        return self.mongo.store() if backend != "sqlite" else None


def loaded_stores(label: str, directory: Path, load: Loading) -> Iterator[LoadedStores]:
    """What `load` writes, in a SQLite file under `directory` and in a MongoDB database, for one module's tests."""
    path = sqlite_loaded(directory / "beacon.db", load)
    for source in mongo_loaded(label, load):
        yield LoadedStores(f"sqlite:///{path}", source)
