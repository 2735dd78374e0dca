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
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from beacon.errors import StoreError, StoreUnavailable
from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.plan import Query
from beacon.store.base import (
    DatasetInfo,
    DatasetLoad,
    Document,
    LoadedPart,
    LoadSummary,
    LoadTally,
    StoreOptions,
    Term,
    merge_parts,
)
from beacon.store.bulk import BatchRecord, LoadBatch
from beacon.store.loading import DATASET_RECORDS
from beacon.store.mongo_schema import (
    DATASETS_LOADED,
    META,
    SCHEMA_VERSION,
    TERM_CATALOG,
    VARIANT_FIELDS,
    indexes_for,
)
from beacon.store.mongo_translate import (
    Scope,
    find_spec,
    key_prefix_range,
    key_value,
    keys_pipeline,
    match_filter,
    related_conditions,
    related_found,
    related_pipeline,
)

log = logging.getLogger(__name__)

ENTRY_COLLECTIONS = DEFAULT_TABLE.collections()
DEFAULT_DATABASE = "beacon"
_BATCH = 1000
_SEQ_SHIFT = 32  # seq = generation << 32 | position: load order across generations


def to_document(rec: BatchRecord, generation: int, position: int) -> Document:
    """The stored form of one record of a bulk batch (layout in mongo_schema)."""
    document: Document = {
        "ds": rec.dataset,
        "part": rec.part,
        "gen": generation,
        "seq": (generation << _SEQ_SHIFT) | position,
        "rid": rec.id,
        "doc": rec.doc,
    }
    if rec.variant is not None:
        document["v"] = {k: v for k, v in zip(VARIANT_FIELDS, rec.variant, strict=True) if v is not None}
    if rec.keys:
        document["keys"] = [key_value(kind, value) for kind, value in rec.keys]
    if rec.terms:
        document["terms"] = rec.terms
    if rec.values:
        document["vals"] = [_value(p, s, n) for p, s, n in rec.values]
    return document


def _value(path: str, text: str | None, number: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"p": path}
    if text is not None:
        out["s"] = text
    if number is not None:
        out["n"] = number
    return out


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except (ServerSelectionTimeoutError, ConnectionFailure, AutoReconnect, NetworkTimeout) as exc:
        msg = f"MongoDB unavailable: {type(exc).__name__}"
        raise StoreUnavailable(msg) from exc
    except (ExecutionTimeout, WTimeoutError) as exc:
        msg = f"MongoDB timed out: {type(exc).__name__}"
        raise StoreUnavailable(msg) from exc
    except PyMongoError as exc:
        msg = f"MongoDB error: {type(exc).__name__}"
        raise StoreError(msg) from exc


async def _to_list(cursor: Any) -> list[Document]:
    # PyMongo's aggregate() is a coroutine; the test stand-in (mongomock-motor) returns the cursor directly.
    if inspect.isawaitable(cursor):
        cursor = await cursor
    result: list[Document] = await cursor.to_list(None)
    return result


class MongoStore:
    """Store backend on one MongoDB database."""

    name = "mongodb"

    def __init__(self, client: Any, database: str, options: StoreOptions | None = None) -> None:
        self._client = client
        self._db = client[database]
        self.options = options or StoreOptions()
        self._retiring: set[asyncio.Task[None]] = set()

    @classmethod
    def from_uri(cls, uri: str, options: StoreOptions | None = None) -> MongoStore:
        """A store on the database named in `uri` (default `beacon`); connects lazily."""
        opts = options or StoreOptions()
        try:
            client: AsyncMongoClient[Document] = AsyncMongoClient(
                uri,
                serverSelectionTimeoutMS=opts.timeout_ms,
                timeoutMS=opts.timeout_ms,
                readPreference=opts.read_preference,
                connect=False,
            )
            database = client.get_default_database(default=DEFAULT_DATABASE).name
        except (PyMongoError, ValueError) as exc:
            msg = f"invalid MongoDB store URI: {exc}"
            raise StoreUnavailable(msg) from exc
        return cls(client, database, opts)

    # -- lifetime -----------------------------------------------------------------------------

    async def open(self) -> None:
        async with _translated():
            meta = await self._db[META].find_one({"_id": "schema"})
            if meta is not None and meta.get("version") != SCHEMA_VERSION:
                msg = (
                    f"MongoDB database {self._db.name} has store schema version {meta.get('version')}; this version "
                    f"needs {SCHEMA_VERSION}: load the data into a new database"
                )
                raise StoreUnavailable(msg)
            for collection in (*ENTRY_COLLECTIONS, DATASETS_LOADED, TERM_CATALOG):
                models = [
                    IndexModel([tuple(k) for k in spec["keys"]], name=spec["name"]) for spec in indexes_for(collection)
                ]
                await self._db[collection].create_indexes(models)
            if meta is None:
                await self._db[META].update_one(
                    {"_id": "schema"}, {"$setOnInsert": {"version": SCHEMA_VERSION}}, upsert=True
                )

    async def close(self) -> None:
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
        closed = self._client.close()
        if inspect.isawaitable(closed):
            await closed

    # -- catalog ------------------------------------------------------------------------------

    async def _parts(self, datasets: Iterable[str]) -> list[Document]:
        cursor = self._db[DATASETS_LOADED].find({"dataset": {"$in": list(datasets)}})
        return await _to_list(cursor)

    async def _scope(self, datasets: Iterable[str]) -> Scope:
        live = [p for p in await self._parts(datasets) if "gen" in p]  # a first load still running has no gen
        by_dataset: dict[str, list[int]] = {}
        for p in live:
            by_dataset.setdefault(str(p["dataset"]), []).append(int(p["gen"]))
        return Scope(
            generations=tuple(sorted(int(p["gen"]) for p in live)),
            max_span=max((int(p.get("max_span", 0)) for p in live), default=0),
            by_dataset=tuple((d, tuple(sorted(g))) for d, g in sorted(by_dataset.items())),
        )

    async def _query_scope(self, query: Query) -> Scope:
        """The catalog's scope of `query`, with the first step of each of its Related conditions run.

        One aggregation per Related condition (inner ones first), grouped by dataset, so the second
        step pairs each dataset's records with its own source records only (mongo_translate).
        """
        scope = await self._scope(query.datasets)
        if not scope.generations:
            return scope
        for cond in related_conditions(query.where):
            rows = await _to_list(self._db[cond.source].aggregate(related_pipeline(cond, scope)))
            scope = scope.with_related(cond, related_found(cond, rows))
        return scope

    # -- queries ------------------------------------------------------------------------------

    async def count_by_dataset(self, query: Query) -> dict[str, int]:
        if not query.datasets:
            return {}
        async with _translated():
            scope = await self._query_scope(query)
            if not scope.generations:
                return {}
            # One count per dataset, concurrently: each is a count over one generation's index range,
            # which MongoDB answers from the index alone where the condition allows.
            collection = self._db[query.collection]
            datasets = [d for d, _ in scope.by_dataset]
            counts = await asyncio.gather(
                *(collection.count_documents(match_filter(query, scope.of(d))) for d in datasets)
            )
        return {d: int(n) for d, n in zip(datasets, counts, strict=True) if n}

    async def find(self, query: Query) -> list[Document]:
        if not query.datasets or query.limit == 0:
            return []
        async with _translated():
            scope = await self._query_scope(query)
            if not scope.generations:
                return []
            spec = find_spec(query, scope)
            cursor = self._db[query.collection].find(spec.filter, spec.projection).sort(spec.sort)
            cursor = cursor.skip(spec.skip).limit(spec.limit)
            rows = await _to_list(cursor)
        return [r["doc"] for r in rows]

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        if not query.datasets:
            return []
        async with _translated():
            scope = await self._query_scope(query)
            if not scope.generations:
                return []
            rows = await _to_list(self._db[query.collection].aggregate(keys_pipeline(query, scope, kind)))
        cut = len(kind) + 1
        return [str(r["_id"])[cut:] for r in rows]

    async def _records(self, collection: str, record_id: str, datasets: tuple[str, ...]) -> list[Document]:
        scope = await self._scope(datasets)
        cursor = self._db[collection].find(
            {"rid": record_id, "gen": {"$in": list(scope.generations)}}, {"_id": 0, "ds": 1, "keys": 1, "terms": 1}
        )
        return await _to_list(cursor)

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        async with _translated():
            records = await self._records(collection, record_id, datasets)
        prefix = key_value(kind, "")
        return sorted({k[len(prefix) :] for r in records for k in r.get("keys", ()) if k.startswith(prefix)})

    async def record_datasets(self, collection: str, record_id: str, datasets: tuple[str, ...]) -> list[str]:
        async with _translated():
            records = await self._records(collection, record_id, datasets)
        return sorted({str(r["ds"]) for r in records})

    async def terms(
        self, collections: tuple[str, ...], datasets: tuple[str, ...], record: tuple[str, str] | None = None
    ) -> list[Term]:
        async with _translated():
            scope = await self._scope(datasets)
            cursor = self._db[TERM_CATALOG].find(
                {"gen": {"$in": list(scope.generations)}, "coll": {"$in": list(collections)}}, {"_id": 0}
            )
            rows = await _to_list(cursor)
            if record is not None:
                records = await self._records(*record, datasets)
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
        async with _translated():
            rows = await _to_list(self._db[DATASETS_LOADED].find({}, {"_id": 0}).sort([("dataset", 1), ("part", 1)]))
        return merge_parts(
            LoadedPart(r["dataset"], r["part"], r.get("assembly"), r["digest"], r["loaded_at"], r["counts"])
            for r in rows
        )

    async def record_keys(self, collection: str, dataset_id: str, kind: str) -> dict[str, list[str]]:
        async with _translated():
            scope = await self._scope((dataset_id,))
            cursor = self._db[collection].find(
                {"gen": {"$in": list(scope.generations)}, "keys": key_prefix_range(kind)},
                {"_id": 0, "rid": 1, "keys": 1},
            )
            rows = await _to_list(cursor.sort([("seq", 1)]))
        prefix = key_value(kind, "")
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(str(r["rid"]), []).extend(k[len(prefix) :] for k in r["keys"] if k.startswith(prefix))
        return out

    # -- loading ------------------------------------------------------------------------------

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        catalog = self._db[DATASETS_LOADED]
        key = {"dataset": load.dataset_id, "part": load.part}
        async with _translated():
            current = await catalog.find_one(key)
            if current is not None and current.get("digest") == load.digest:
                return LoadSummary(load.dataset_id, current["counts"], unchanged=True)
            # Generations left behind by an interrupted load of this part are never visible: drop them.
            if current is not None:
                await self._drop_generations(current.get("pending", []))
            counter = await self._db[META].find_one_and_update(
                {"_id": "generation"}, {"$inc": {"n": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )
            generation = int(counter["n"])
            await catalog.update_one(key, {"$push": {"pending": generation}}, upsert=True)
            try:
                tally = await self._write(load, generation)
                if load.check is not None:
                    load.check(current.get("counts") if current is not None else None, tally.counts)
            except BaseException:
                await asyncio.shield(self._abandon(key, generation))
                raise
            counts = tally.catalog_counts()
            load.enter("switching")
            switched = await catalog.find_one_and_update(
                key,
                {
                    "$set": {
                        "gen": generation,
                        "assembly": load.assembly,
                        "digest": load.digest,
                        "loaded_at": datetime.now(UTC).isoformat(),
                        "counts": counts,
                        "max_span": tally.max_span,
                    },
                    "$pull": {"pending": generation},
                },
                return_document=ReturnDocument.BEFORE,
            )
            if counts.get(DATASET_RECORDS):
                # A dataset has one dataset record: the part loaded last that brings one wins.
                await self._db[DATASET_RECORDS].delete_many({"ds": load.dataset_id, "part": {"$ne": load.part}})
        previous = switched.get("gen") if switched else None
        if previous is not None:
            self._retire(previous)
        return LoadSummary(load.dataset_id, counts)

    async def _write(self, load: DatasetLoad, generation: int) -> LoadTally:
        tally = LoadTally()
        position = 0
        batches = iter(load.batches)

        def documents(start: int) -> tuple[LoadBatch, dict[str, list[Document]]] | None:
            """The next batch and its documents by collection: reading a batch may parse input (a loader
            in this process) and its documents are decoded, so this runs off the event loop."""
            batch = next(batches, None)
            if batch is None:
                return None
            by_collection: dict[str, list[Document]] = {}
            for offset, rec in enumerate(batch.per_record()):
                by_collection.setdefault(rec.collection, []).append(to_document(rec, generation, start + offset))
            return batch, by_collection

        while (built := await asyncio.to_thread(documents, position)) is not None:
            batch, by_collection = built
            position += len(batch.records)
            tally.merge(batch.tally)
            # Unordered: the server may apply a batch in parallel; order comes from `seq`.
            for collection, docs in by_collection.items():
                for start in range(0, len(docs), _BATCH):
                    await self._db[collection].insert_many(docs[start : start + _BATCH], ordered=False)
        catalog = [
            {
                "gen": generation,
                "ds": load.dataset_id,
                "coll": coll,
                "term": t.id,
                "type": t.type,
                "scope": t.scope,
                "label": t.label,
            }
            for coll, t in tally.terms(load)
        ]
        if catalog:
            await self._db[TERM_CATALOG].insert_many(_last_wins(catalog), ordered=False)
        return tally

    async def _abandon(self, key: dict[str, str], generation: int) -> None:
        try:
            async with _translated():
                await self._drop_generations([generation])
                await self._db[DATASETS_LOADED].update_one(key, {"$pull": {"pending": generation}})
                await self._db[DATASETS_LOADED].delete_one({**key, "gen": {"$exists": False}})
        except StoreError:
            log.warning("could not remove the unfinished generation %s of %s; the next load will", generation, key)

    def _retire(self, generation: int) -> None:
        """Delete a replaced generation once queries that resolved it have had time to finish."""

        async def retire() -> None:
            await asyncio.sleep(self.options.retire_after_s)
            try:
                async with _translated():
                    await self._drop_generations([generation])
            except StoreError as exc:
                log.warning("could not delete retired generation %s: %s", generation, exc)

        task = asyncio.ensure_future(retire())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _drop_generations(self, generations: list[int]) -> None:
        if not generations:
            return
        for collection in (*ENTRY_COLLECTIONS, TERM_CATALOG):
            await self._db[collection].delete_many({"gen": {"$in": generations}})

    async def delete_dataset(self, dataset_id: str) -> bool:
        async with _translated():
            parts = await self._parts((dataset_id,))
            if not parts:
                return False
            await self._db[DATASETS_LOADED].delete_many({"dataset": dataset_id})
            generations = [p["gen"] for p in parts if "gen" in p] + [g for p in parts for g in p.get("pending", [])]
            await self._drop_generations(generations)
        return True


def _last_wins(catalog: list[Document]) -> list[Document]:
    """One catalog entry per (collection, term, scope); later entries (declared terms) replace earlier ones."""
    unique: dict[tuple[str, str, str], Document] = {}
    for entry in catalog:
        unique[(entry["coll"], entry["term"], entry["scope"])] = entry
    return list(unique.values())


def _term_order(item: tuple[tuple[str, str, str], str | None]) -> tuple[str, str]:
    (term, _, scope), _ = item
    return term, scope
