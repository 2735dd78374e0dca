"""The production store: MongoDB through PyMongo's async client (`AsyncMongoClient`).

A load writes a new *generation* of a dataset part that no reader can see, then switches the
`datasets_loaded` catalog to it in one single-document update: readers resolve the live generations
once per query, so they see the old dataset or the new one, never a mix. The retired generation is
deleted after a grace period that lets queries already running on it finish. Unlike collection
renames, this works on sharded collections. pymongo exceptions stop here and become
StoreError/StoreUnavailable.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from beacon.errors import StoreUnavailable
from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.plan import Query
from beacon.store import mongo_carriers, mongo_withdraw
from beacon.store.base import (
    DatasetInfo,
    DatasetLoad,
    Document,
    LoadedPart,
    LoadSummary,
    StoreOptions,
    Term,
    Tombstone,
    merge_parts,
)
from beacon.store.mongo_errors import translated
from beacon.store.mongo_generations import Collected, Generations
from beacon.store.mongo_load import Loader, to_document
from beacon.store.mongo_schema import (
    DATASETS_LOADED,
    META,
    SAMPLES,
    SCHEMA_VERSION,
    TERM_CATALOG,
)
from beacon.store.mongo_translate import (
    LOAD_ORDER,
    SAMPLE_FIELDS,
    Scope,
    bounded,
    find_spec,
    key_prefix_range,
    key_value,
    keys_pipeline,
    match_filter,
    related_conditions,
    related_found,
    related_pipeline,
    related_targets,
    sets_filter,
)
from beacon.store.snapshot import current_snapshot

__all__ = ["DEFAULT_DATABASE", "ENTRY_COLLECTIONS", "MongoStore", "to_document"]

log = logging.getLogger(__name__)
Session = dict[str, Any]  # {} or {"session": a causally consistent session}: keyword arguments of one read

ENTRY_COLLECTIONS = DEFAULT_TABLE.collections()
DEFAULT_DATABASE = "beacon"
LOAD_TIMEOUT_S = 300.0  # per load operation (a batch, a delete chunk): outlasts an election, unlike serving's
LEASE_S = 600.0  # a dead loader's claim on a part lapses after this long without renewal


async def _to_list(cursor: Any) -> list[Document]:
    # PyMongo's aggregate() is a coroutine; the test stand-in (mongomock-motor) returns the cursor directly.
    if inspect.isawaitable(cursor):
        cursor = await cursor
    result: list[Document] = await cursor.to_list(None)
    return result


class MongoStore:
    """Store backend on one MongoDB database."""

    name = "mongodb"

    def __init__(
        self,
        client: Any,
        database: str,
        options: StoreOptions | None = None,
        *,
        load_timeout_s: float = LOAD_TIMEOUT_S,
        lease_s: float = LEASE_S,
    ) -> None:
        self._client = client
        self._db = client[database]
        self.options = options or StoreOptions()
        self.load_timeout_s = load_timeout_s
        # Reads that may go to secondaries share a causally consistent session (the stand-in has none).
        self._causal = isinstance(client, AsyncMongoClient) and self.options.read_preference != "primary"
        self.generations = Generations(
            self._db,
            (*ENTRY_COLLECTIONS, TERM_CATALOG, SAMPLES),
            lease_s=lease_s,
            protect_s=self.options.retire_after_s,
            load_timeout_s=load_timeout_s,
        )
        # The driver sends pre-encoded documents as they are; the test stand-in only takes dicts.
        self._loader = Loader(
            self._db, self.generations, load_timeout_s, raw_inserts=isinstance(client, AsyncMongoClient)
        )

    @classmethod
    def from_uri(cls, uri: str, options: StoreOptions | None = None) -> MongoStore:
        """A store on the database named in `uri` (default `beacon`); connects lazily.

        `timeout_ms` bounds serving calls; loads and clean-up set their own, longer bound per operation.
        Reading from secondaries, every read is majority-committed, so a catalog switch seen on one member
        names data that is durable (docs/scaling.md).
        """
        opts = options or StoreOptions()
        extra: dict[str, Any] = {}
        if opts.read_preference != "primary":
            extra["readConcernLevel"] = "majority"
        try:
            client: AsyncMongoClient[Document] = AsyncMongoClient(
                uri,
                serverSelectionTimeoutMS=opts.timeout_ms,
                timeoutMS=opts.timeout_ms,
                readPreference=opts.read_preference,
                connect=False,
                **extra,
            )
            database = client.get_default_database(default=DEFAULT_DATABASE).name
        except (PyMongoError, ValueError) as exc:
            msg = f"invalid MongoDB store URI: {exc}"
            raise StoreUnavailable(msg) from exc
        return cls(client, database, opts)

    # -- lifetime -----------------------------------------------------------------------------

    async def open(self) -> None:
        """Check the database's store schema version; reads only, so a read-only user can serve."""
        async with translated():
            meta = await self._db[META].find_one({"_id": "schema"})
        if meta is not None and meta.get("version") != SCHEMA_VERSION:
            msg = (
                f"MongoDB database {self._db.name} has store schema version {meta.get('version')}; this version "
                f"needs {SCHEMA_VERSION}: carriers are now stored as sample sets: load the datasets again with "
                "beacon-ingest into a new database"
            )
            raise StoreUnavailable(msg)

    async def close(self) -> None:
        await self._loader.close()
        closed = self._client.close()
        if inspect.isawaitable(closed):
            await closed

    # -- catalog ------------------------------------------------------------------------------

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Session]:
        """One query's reads, translated; in a causally consistent session when they may go to secondaries.

        The session makes the data reads see at least what the catalog read saw, whichever members
        answer them; `Session` is the keyword arguments each read takes ({} without a session).
        """
        async with translated():
            if not self._causal:
                yield {}
                return
            async with self._client.start_session(causal_consistency=True) as session:
                yield {"session": session}

    async def _parts(self, datasets: Iterable[str], kw: Session) -> list[Document]:
        """The catalog entries of `datasets`; inside `one_snapshot()`, as the block first read each dataset's."""
        wanted = sorted(set(datasets))
        memo = current_snapshot()
        known: dict[str, list[Document]] = {} if memo is None else memo.setdefault((id(self), DATASETS_LOADED), {})
        missing = [d for d in wanted if d not in known]
        if missing:
            cursor = self._db[DATASETS_LOADED].find({"dataset": {"$in": missing}}, **kw)
            found = await _to_list(cursor)
            for d in missing:
                known[d] = [p for p in found if p["dataset"] == d]
        return [p for d in wanted for p in known[d]]

    async def _scope(self, datasets: Iterable[str], kw: Session) -> Scope:
        live = [p for p in await self._parts(datasets, kw) if "gen" in p]  # a first load still running has no gen
        by_dataset: dict[str, list[int]] = {}
        spans: dict[str, int] = {}
        for p in live:
            by_dataset.setdefault(str(p["dataset"]), []).append(int(p["gen"]))
            for chrom, span in p.get("spans", {}).items():
                spans[chrom] = max(spans.get(chrom, 0), int(span))
        return Scope(
            carrier_collections=tuple(sorted({str(c) for p in live for c in p.get("carriers", ())})),
            generations=tuple(sorted(int(p["gen"]) for p in live)),
            max_span=max((int(p.get("max_span", 0)) for p in live), default=0),
            by_dataset=tuple((d, tuple(sorted(g))) for d, g in sorted(by_dataset.items())),
            spans=tuple(sorted(spans.items())) if all("spans" in p for p in live) else None,
        )

    async def _query_scope(self, query: Query, kw: Session) -> Scope:
        """The catalog's scope of `query`, with the first step of each of its Related conditions run.

        One aggregation per Related condition (inner ones first), grouped by dataset, so the second
        step pairs each dataset's records with its own source records only (mongo_translate).
        """
        scope = await self._scope(query.datasets, kw)
        if not scope.generations:
            return scope
        targets = related_targets(query.where, query.collection)
        for cond in related_conditions(query.where):
            rows = await _to_list(self._db[cond.source].aggregate(related_pipeline(cond, scope), **kw))
            bounded(len(rows), cond.source, cond.via)
            found = related_found(cond, rows)
            if cond.via in SAMPLE_FIELDS:
                # Carriers kept as sets: their ids join the keys, their variants the targets (mongo_carriers).
                found, scope = await mongo_carriers.with_sets(self._db, cond, targets[cond], found, scope, kw)
                bounded(sum(len(k) for k in found.values()), cond.source, cond.via)
            scope = scope.with_related(cond, found)
        return scope

    # -- queries ------------------------------------------------------------------------------

    async def count_by_dataset(self, query: Query) -> dict[str, int]:
        if not query.datasets:
            return {}
        async with self._reading() as kw:
            scope = await self._query_scope(query, kw)
            if not scope.generations:
                return {}
            # One count per dataset, concurrently: each is a count over one generation's index range,
            # which MongoDB answers from the index alone where the condition allows.
            collection = self._db[query.collection]
            datasets = [d for d, _ in scope.by_dataset]
            counting = [collection.count_documents(match_filter(query, scope.of(d)), **kw) for d in datasets]
            # A session serves one operation at a time: with one, the counts run in turn.
            counts = [await c for c in counting] if kw else await asyncio.gather(*counting)
        return {d: int(n) for d, n in zip(datasets, counts, strict=True) if n}

    async def find(self, query: Query) -> list[Document]:
        if not query.datasets or query.limit == 0:
            return []
        async with self._reading() as kw:
            scope = await self._query_scope(query, kw)
            if not scope.generations:
                return []
            spec = find_spec(query, scope)
            cursor = self._db[query.collection].find(spec.filter, spec.projection, **kw).sort(spec.sort)
            if spec.hint is not None:
                cursor = cursor.hint(spec.hint)
            cursor = cursor.skip(spec.skip).limit(spec.limit)
            rows = await _to_list(cursor)
            return await mongo_carriers.completed(self._db, rows, kw)

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        if not query.datasets:
            return []
        async with self._reading() as kw:
            scope = await self._query_scope(query, kw)
            if not scope.generations:
                return []
            rows = await _to_list(self._db[query.collection].aggregate(keys_pipeline(query, scope, kind), **kw))
            bounded(len(rows), query.collection, kind)
            cut = len(kind) + 1
            found = {str(r["_id"])[cut:] for r in rows}
            if kind in SAMPLE_FIELDS:
                found |= await mongo_carriers.set_values(
                    self._db, query.collection, sets_filter(query, scope), kind, kw
                )
        return sorted(found)

    async def _records(self, collection: str, record_id: str, datasets: tuple[str, ...], kw: Session) -> list[Document]:
        scope = await self._scope(datasets, kw)
        cursor = self._db[collection].find(
            {"rid": record_id, "gen": {"$in": list(scope.generations)}},
            {"_id": 0, "ds": 1, "keys": 1, "terms": 1, "gen": 1, "cs": 1},
            **kw,
        )
        return await _to_list(cursor)

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        async with self._reading() as kw:
            records = await self._records(collection, record_id, datasets, kw)
            prefix = key_value(kind, "")
            found = {k[len(prefix) :] for r in records for k in r.get("keys", ()) if k.startswith(prefix)}
            if kind in SAMPLE_FIELDS:
                gens = [int(r["gen"]) for r in records if r.get("cs") is not None]
                if gens:
                    where = {"rid": record_id, "gen": {"$in": gens}, "cs": {"$exists": True}}
                    found |= await mongo_carriers.set_values(self._db, collection, where, kind, kw)
        return sorted(found)

    async def record_datasets(self, collection: str, record_id: str, datasets: tuple[str, ...]) -> list[str]:
        async with self._reading() as kw:
            records = await self._records(collection, record_id, datasets, kw)
        return sorted({str(r["ds"]) for r in records})

    async def terms(
        self, collections: tuple[str, ...], datasets: tuple[str, ...], record: tuple[str, str] | None = None
    ) -> list[Term]:
        async with self._reading() as kw:
            scope = await self._scope(datasets, kw)
            cursor = self._db[TERM_CATALOG].find(
                {"gen": {"$in": list(scope.generations)}, "coll": {"$in": list(collections)}}, {"_id": 0}, **kw
            )
            rows = await _to_list(cursor)
            if record is not None:
                records = await self._records(*record, datasets, kw)
                allowed = {(r["ds"], t) for r in records for t in r.get("terms", ())}
                rows = [r for r in rows if (r["ds"], r["term"]) in allowed]
        labels: dict[tuple[str, str, str], str | None] = {}
        for r in rows:
            key = (r["term"], r["type"], r["scope"])
            label = r.get("label")
            before = labels.get(key)
            labels[key] = label if before is None or (label is not None and label > before) else before
        return [Term(id=t, type=ty, scope=s, label=lab) for (t, ty, s), lab in sorted(labels.items(), key=_term_order)]

    async def datasets(self) -> list[DatasetInfo]:
        async with translated():
            # Parts without a live generation (a first load running, a deleted dataset being collected) are not loaded.
            cursor = self._db[DATASETS_LOADED].find({"gen": {"$exists": True}}, {"_id": 0})
            rows = await _to_list(cursor.sort([("dataset", 1), ("part", 1)]))
            hidden = await mongo_withdraw.withdrawn_ids(self._db)
        return merge_parts(
            LoadedPart(r["dataset"], r["part"], r.get("assembly"), r["digest"], r["loaded_at"], r["counts"])
            for r in rows
            if r["dataset"] not in hidden
        )

    async def withdraw_dataset(self, tombstone: Tombstone) -> bool:
        async with self._reading() as kw:
            loaded = bool(await self._parts((tombstone.dataset_id,), kw))
            earlier = await mongo_withdraw.leave_tombstone(self._db, tombstone, loaded)
        if tombstone.hard:
            await self.delete_dataset(tombstone.dataset_id)
        return loaded or earlier

    async def tombstones(self) -> list[Tombstone]:
        async with translated():
            return await mongo_withdraw.tombstones(self._db)

    async def republish(self, dataset_id: str) -> bool:
        async with translated():
            return await mongo_withdraw.republish(self._db, dataset_id)

    async def record_keys(self, collection: str, dataset_id: str, kind: str) -> dict[str, list[str]]:
        async with self._reading() as kw:
            scope = await self._scope((dataset_id,), kw)
            cursor = self._db[collection].find(
                {"gen": {"$in": list(scope.generations)}, "keys": {"$elemMatch": key_prefix_range(kind)}},
                {"_id": 0, "rid": 1, "keys": 1},
                **kw,
            )
            rows = await _to_list(cursor.sort(LOAD_ORDER))
        prefix = key_value(kind, "")
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(str(r["rid"]), []).extend(k[len(prefix) :] for k in r["keys"] if k.startswith(prefix))
        return out

    # -- loading (mongo_load) -----------------------------------------------------------------

    async def ensure_indexes(self) -> None:
        """Create the indexes and the schema marker: loaders and `beacon-ingest init`, never the API."""
        await self._loader.ensure_indexes()

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        return await self._loader.replace_dataset(load)

    async def delete_dataset(self, dataset_id: str) -> bool:
        return await self._loader.delete_dataset(dataset_id)

    async def collect_generations(self) -> Collected:
        """Delete every generation no reader can see any more, orphans included (`beacon-ingest gc`)."""
        return await self._loader.collect()


def _term_order(item: tuple[tuple[str, str, str], str | None]) -> tuple[str, str]:
    (term, _, scope), _ = item
    return term, scope
