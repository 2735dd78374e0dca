"""How a load's records reach MongoDB: stored form, one BSON encoding each, batches bounded in bytes, safe re-sends.

Each document is encoded once, here: the encoded size decides the batch (a thousand variants with
50,000 carriers each are hundreds of megabytes, a thousand individuals a few), names a document
the server would refuse before anything is sent, and the driver sends the same bytes
(`RawBSONDocument`). `_id` is the document's `seq`, so a batch re-sent after an election or a lost
acknowledgement inserts only what is missing: the rest fails as duplicate keys, which means done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import bson
import pymongo
from bson.errors import InvalidDocument
from bson.raw_bson import RawBSONDocument
from pymongo import IndexModel
from pymongo.errors import BulkWriteError, PyMongoError

from beacon.errors import StoreError, StoreUnavailable
from beacon.store.base import DatasetLoad, Document, LoadSummary, LoadTally
from beacon.store.bulk import BatchRecord
from beacon.store.loading import DATASET_RECORDS
from beacon.store.mongo_errors import is_unavailable, only_duplicates, translate, translated
from beacon.store.mongo_generations import Collected, Generations, Lease
from beacon.store.mongo_schema import (
    DATASETS_LOADED,
    META,
    SAMPLES,
    SCHEMA_VERSION,
    TERM_CATALOG,
    VARIANT_FIELDS,
    indexes_for,
)
from beacon.store.mongo_translate import key_value

log = logging.getLogger(__name__)

SEQ_SHIFT = 32  # seq = generation << 32 | position: load order across generations
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024  # the server's maxBsonObjectSize
MAX_BATCH_BYTES = 8 * 1024 * 1024  # per insert: bounds the loader's memory whatever the documents' size
MAX_BATCH_DOCUMENTS = 1000
INSERT_ATTEMPTS = 5  # an election takes 10-12 s: re-sent after 1, 2, 4 and 8 s, a batch outlasts one
BACKOFF_S = 1.0


class RecordTooLarge(StoreError):
    """A record whose stored form exceeds MongoDB's document size limit."""


def to_document(rec: BatchRecord, generation: int, position: int) -> Document:
    """The stored form of one record of a bulk batch (layout in mongo_schema)."""
    seq = (generation << SEQ_SHIFT) | position
    document: Document = {
        "_id": seq,  # derived, not an ObjectId: a re-sent batch collides with what it already stored
        "ds": rec.dataset,
        "part": rec.part,
        "gen": generation,
        "seq": seq,
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
    if rec.carriers is not None:
        document["cs"] = list(rec.carriers)
    return document


def _value(path: str, text: str | None, number: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"p": path}
    if text is not None:
        out["s"] = text
    if number is not None:
        out["n"] = number
    return out


@dataclass
class Batch:
    collection: str
    documents: list[RawBSONDocument] = field(default_factory=list)
    size: int = 0


@dataclass
class Spans:
    """The longest variant span per chromosome (a range query on chr1 is not widened by a CNV on chr2)."""

    by_chrom: dict[str, int] = field(default_factory=dict)
    carriers: set[str] = field(default_factory=set)  # collections of the records holding carrier sets

    def add(self, rec: BatchRecord) -> None:
        if rec.variant is not None:
            chrom, start, end = rec.variant[1:4]  # VariantPosition.columns(): assembly, chrom, start, end, ...
            self.by_chrom[chrom] = max(self.by_chrom.get(chrom, 0), end - start)


def record_documents(
    load: DatasetLoad, generation: int, tally: LoadTally, spans: Spans
) -> Iterator[tuple[str, Document]]:
    """(collection, stored form) of the load's records, in load order, tallied as they pass, then its samples.

    The one place a load's records become documents: `batches` takes it from here.
    """
    position = 0
    samples: list[Document] = []
    for batch in load.batches:
        tally.merge(batch.tally)
        for rec in batch.per_record():
            spans.add(rec)
            if rec.carriers is not None:
                spans.carriers.add(rec.collection)
            yield rec.collection, to_document(rec, generation, position)
            position += 1
        samples.extend(_sample(load, generation, row) for row in batch.samples)
    for sample in samples:
        yield SAMPLES, sample


def _sample(load: DatasetLoad, generation: int, row: tuple[int, str, str | None]) -> Document:
    index, biosample, individual = row
    # _id derived like the records': a re-sent batch collides with what it stored.
    out: Document = {"_id": (generation << SEQ_SHIFT) | index, "gen": generation, "ds": load.dataset_id, "idx": index}
    out["b"] = biosample
    if individual is not None:
        out["i"] = individual
    return out


def batches(documents: Iterator[tuple[str, Document]]) -> Iterator[Batch]:
    """Documents encoded once and grouped per collection, each batch under MAX_BATCH_BYTES/_DOCUMENTS.

    :raise RecordTooLarge: a document over MAX_DOCUMENT_BYTES, named by dataset, collection and record id.
    """
    open_batches: dict[str, Batch] = {}
    for collection, document in documents:
        raw = bson.encode(document)
        if len(raw) > MAX_DOCUMENT_BYTES:
            msg = (
                f"dataset {document['ds']}: {collection} record {document['rid']} is {len(raw) / 2**20:.1f} MiB as a "
                f"MongoDB document, over the {MAX_DOCUMENT_BYTES // 2**20} MiB limit; nothing of this load is visible"
            )
            raise RecordTooLarge(msg)
        batch = open_batches.setdefault(collection, Batch(collection))
        if batch.documents and (batch.size + len(raw) > MAX_BATCH_BYTES or len(batch.documents) >= MAX_BATCH_DOCUMENTS):
            yield batch
            batch = open_batches[collection] = Batch(collection)
        batch.documents.append(RawBSONDocument(raw))
        batch.size += len(raw)
    for batch in open_batches.values():
        if batch.documents:
            yield batch


async def insert_batch(collection: Any, documents: list[Any], timeout_s: float) -> None:
    """Insert one batch, re-sending it while the cluster is unavailable (an election, a lost acknowledgement).

    :raise StoreUnavailable: still unavailable after INSERT_ATTEMPTS. :raise StoreError: any other failure.
    """
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            with pymongo.timeout(timeout_s):
                # Unordered: the server may apply a batch in parallel; order comes from `seq`.
                await collection.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            if only_duplicates(exc):
                return  # a re-send: every document not stored before is stored now
            if not is_unavailable(exc) or attempt == INSERT_ATTEMPTS:
                raise translate(exc) from exc
        except PyMongoError as exc:
            if not is_unavailable(exc) or attempt == INSERT_ATTEMPTS:
                raise translate(exc) from exc
        except InvalidDocument as exc:  # DocumentTooLarge among them: not a PyMongoError
            raise translate(exc) from exc
        else:
            return
        await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))


def term_documents(load: DatasetLoad, generation: int, tally: LoadTally) -> list[Document]:
    """The generation's term catalog: one entry per (collection, term, scope), declared terms winning."""
    unique: dict[tuple[str, str, str], Document] = {}
    for coll, t in tally.terms(load):
        unique[(coll, t.id, t.scope)] = {
            "_id": f"{generation}:{coll}:{t.scope}:{t.id}",  # as for records: a re-sent batch adds nothing twice
            "gen": generation,
            "ds": load.dataset_id,
            "coll": coll,
            "term": t.id,
            "type": t.type,
            "scope": t.scope,
            "label": t.label,
        }
    return list(unique.values())


class Loader:
    """Loads and deletes on one database: indexes, the lease, byte-sized batches, the switch, collection."""

    def __init__(self, db: Any, generations: Generations, timeout_s: float, *, raw_inserts: bool) -> None:
        self._db = db
        self.generations = generations
        self.timeout_s = timeout_s
        self._raw_inserts = raw_inserts
        self._indexed = False
        self._collecting: dict[asyncio.Task[None], float] = {}  # collection task -> when due (monotonic)

    @contextmanager
    def _bounded(self) -> Iterator[None]:
        """One loading operation's time bound (the serving timeout would give up during an election)."""
        with pymongo.timeout(self.timeout_s):
            yield

    async def ensure_indexes(self) -> None:
        """Create the indexes (without a time bound: a new index on a large collection takes long)."""
        # pymongo.timeout(0): no deadline at all, where None would fall back to the client's timeoutMS.
        with pymongo.timeout(0):
            async with translated():
                for collection in (*self.generations.collections, DATASETS_LOADED):
                    models = [
                        IndexModel([tuple(k) for k in spec["keys"]], name=spec["name"], **spec.get("options", {}))
                        for spec in indexes_for(collection)
                    ]
                    await self._db[collection].create_indexes(models)
                await self._db[META].update_one(
                    {"_id": "schema"}, {"$setOnInsert": {"version": SCHEMA_VERSION}}, upsert=True
                )
        self._indexed = True

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        if not self._indexed:
            await self.ensure_indexes()
        with self._bounded():
            async with translated():
                current = await self._db[DATASETS_LOADED].find_one({"dataset": load.dataset_id, "part": load.part})
        if current is not None and current.get("digest") == load.digest:
            return LoadSummary(load.dataset_id, current["counts"], unchanged=True)
        with self._bounded():
            async with translated():
                generation = await self.generations.allocate()
                lease = await self.generations.claim(load.dataset_id, load.part, generation)
        before = lease.before if lease.before is not None and "gen" in lease.before else None
        try:
            await self._collect_now(load.dataset_id)
            tally, spans = await self._write(load, generation, lease)
            if load.check is not None:
                load.check(before.get("counts") if before is not None else None, tally.counts)
            counts = tally.catalog_counts()
            load.enter("switching")
            fields = {
                "assembly": load.assembly,
                "digest": load.digest,
                "loaded_at": datetime.now(UTC).isoformat(),
                "counts": counts,
                "max_span": tally.max_span,
                "spans": spans.by_chrom,
                "carriers": sorted(spans.carriers),
            }
            with self._bounded():
                async with translated():
                    await self.generations.switch(lease, fields)
        except BaseException:
            await asyncio.shield(self._abandon(lease))
            raise
        if counts.get(DATASET_RECORDS):
            # A dataset has one dataset record: the part loaded last that brings one wins.
            with self._bounded():
                async with translated():
                    await self._db[DATASET_RECORDS].delete_many({"ds": load.dataset_id, "part": {"$ne": load.part}})
        self._collect_later(load.dataset_id)
        return LoadSummary(load.dataset_id, counts)

    async def _write(self, load: DatasetLoad, generation: int, lease: Lease) -> tuple[LoadTally, Spans]:
        tally = LoadTally()
        spans = Spans()
        # Reading the next batch may parse input (a loader in this process) and encodes documents: off the loop.
        pending = batches(record_documents(load, generation, tally, spans))
        while (batch := await asyncio.to_thread(next, pending, None)) is not None:
            with self._bounded():
                async with translated():
                    await self.generations.renew(lease)
            documents = batch.documents if self._raw_inserts else [bson.decode(d.raw) for d in batch.documents]
            await insert_batch(self._db[batch.collection], documents, self.timeout_s)
        catalog = term_documents(load, generation, tally)
        if catalog:
            await insert_batch(self._db[TERM_CATALOG], catalog, self.timeout_s)
        with self._bounded():
            async with translated():
                await self.generations.renew(lease, force=True)
        return tally, spans

    async def _collect_now(self, dataset: str) -> None:
        """Delete what earlier loads of `dataset` left (interrupted, or replaced and past their protection).

        A failure only postpones that to the next load or gc: it does not stop this load.
        """
        try:
            await self.generations.collect(dataset)
        except (StoreError, StoreUnavailable) as exc:
            log.warning("could not delete the leftover generations of %s yet: %s", dataset, exc)

    def _collect_later(self, dataset: str) -> None:
        """Delete the replaced generation once its protection is over, if this process still runs then.

        Queries that resolved it before the switch may still be reading it; a process that ends
        sooner leaves it to the next load of the dataset or to `beacon-ingest gc` (it is in the catalog).
        """

        async def collect() -> None:
            await asyncio.sleep(self.generations.protect_s)
            await self._collect_now(dataset)

        task = asyncio.ensure_future(collect())
        self._collecting[task] = time.monotonic() + self.generations.protect_s
        task.add_done_callback(self._collecting.pop)

    async def _abandon(self, lease: Lease) -> None:
        """Give up the lease and delete the unfinished generation; on failure, the next load or gc will."""
        try:
            with self._bounded():
                async with translated():
                    await self.generations.release(lease)
            await self.generations.collect(lease.dataset)
        except (StoreError, StoreUnavailable) as exc:
            log.warning("could not remove the unfinished generation %s of %s: %s", lease.generation, lease.key, exc)

    async def delete_dataset(self, dataset_id: str) -> bool:
        """Hide the dataset at once; delete its generations once their protection is over."""
        with self._bounded():
            async with translated():
                found = await self.generations.withdraw(dataset_id)
        self._collect_later(dataset_id)
        return found

    async def collect(self) -> Collected:
        return await self.generations.collect()

    async def close(self) -> None:
        """Finish the collections already due; later ones are in the catalog for the next load or gc."""
        now = time.monotonic()
        for task, due in list(self._collecting.items()):
            if due > now:
                task.cancel()
        await asyncio.gather(*self._collecting, return_exceptions=True)
