"""The life of a dataset part's generations in the MongoDB catalog: lease, switch, retirement, collection.

One catalog document per (dataset, part) in `datasets_loaded`, unique on that pair, holds
everything about the part's generations, so nothing depends on a loader's memory:

    gen      the live generation, the only one readers see (absent before the first switch and after a delete)
    pending  generations a load has claimed: being written, or left behind by a load that never switched
    lease    {gen, until}: the one load allowed to write and switch the part (renewed while it writes)
    retired  [{gen, at}]: generations replaced by a switch; deleted once `at` + the protection period passed

A load claims the lease in one conditional upsert (a live lease, or the unique index when two first
loads race, refuses the second loader in one line), writes its generation, and switches in one update
conditioned on still holding the lease, which also pushes the old generation onto `retired`. Every
load and `beacon-ingest gc` then collect: pending generations without a live lease, retired ones
past their protection, and orphans (stored generations no catalog document names), deleted in
bounded chunks, each under the loading timeout rather than one operation under the serving one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pymongo
from pymongo.errors import DuplicateKeyError

from beacon.errors import StoreError
from beacon.store.base import Document
from beacon.store.mongo_errors import translated
from beacon.store.mongo_schema import DATASETS_LOADED, META

CHUNK = 5_000  # documents per delete: small enough to finish well inside the loading timeout
Clock = Callable[[], float]
# What a switch sets besides `gen` (mongo_load), all removed when a dataset is deleted.
LIVE_FIELDS = ("gen", "digest", "counts", "assembly", "loaded_at", "max_span", "spans")


class LeaseLost(StoreError):
    """Another loader took over this dataset part (our lease lapsed): our generation will never switch."""


class LoadConflict(StoreError):
    """Another loader holds the lease of this dataset part."""


@dataclass
class Lease:
    """A load's claim on one dataset part."""

    dataset: str
    part: str
    generation: int
    renewed_at: float
    before: Document | None  # the catalog document as the claim found it

    @property
    def key(self) -> dict[str, str]:
        return {"dataset": self.dataset, "part": self.part}


@dataclass
class Collected:
    """What a collection pass deleted, what it left for later, and what it found unnamed."""

    generations: list[int] = field(default_factory=list)  # deleted (pending, retired and orphaned)
    documents: int = 0
    protected: list[int] = field(default_factory=list)  # retired, still inside their protection period
    orphans: list[int] = field(default_factory=list)  # stored, named by no catalog document (deleted too)


def _live_lease(doc: Document, now: float) -> int | None:
    lease = doc.get("lease")
    if isinstance(lease, dict) and float(lease.get("until", 0)) >= now:
        return int(lease["gen"])
    return None


def named_generations(doc: Document) -> set[int]:
    """Every generation a catalog document refers to."""
    named = {int(g) for g in doc.get("pending", ())} | {int(r["gen"]) for r in doc.get("retired", ())}
    if "gen" in doc:
        named.add(int(doc["gen"]))
    if isinstance(doc.get("lease"), dict):
        named.add(int(doc["lease"]["gen"]))
    return named


class Generations:
    """Generation bookkeeping on one database (`collections`: every collection holding generations)."""

    def __init__(
        self,
        db: Any,
        collections: tuple[str, ...],
        *,
        lease_s: float,
        protect_s: float,
        load_timeout_s: float,
        clock: Clock = time.time,
    ) -> None:
        # Wall-clock time: leases and retirements are compared across processes and machines.
        self._db = db
        self.collections = collections
        self.lease_s = lease_s
        self.protect_s = protect_s
        self._load_timeout_s = load_timeout_s
        self.clock = clock

    @property
    def _catalog(self) -> Any:
        return self._db[DATASETS_LOADED]

    async def allocate(self) -> int:
        """A generation number never used before (a counter in `meta`)."""
        counter = await self._db[META].find_one_and_update(
            {"_id": "generation"}, {"$inc": {"n": 1}}, upsert=True, return_document=pymongo.ReturnDocument.AFTER
        )
        return int(counter["n"])

    async def claim(self, dataset: str, part: str, generation: int) -> Lease:
        """Take the part's lease for `generation` and record it as pending.

        :raise LoadConflict: another loader holds a live lease on the part.
        """
        key = {"dataset": dataset, "part": part}
        now = self.clock()
        before = await self._catalog.find_one(key)
        try:
            await self._catalog.update_one(
                {**key, "$or": [{"lease": {"$exists": False}}, {"lease.until": {"$lt": now}}]},
                {"$set": {"lease": {"gen": generation, "until": now + self.lease_s}}, "$push": {"pending": generation}},
                upsert=True,
            )
        except DuplicateKeyError:
            # The filter missed because a live lease exists, and the unique index refused a second document.
            held = await self._catalog.find_one(key) or {}
            lease = held.get("lease") or {}
            msg = (
                f"dataset {dataset} part {part} is being loaded by another loader (generation {lease.get('gen')}, "
                f"lease renewed until {_when(lease.get('until'))}): wait for it, or for its lease to lapse if it died"
            )
            raise LoadConflict(msg) from None
        return Lease(dataset, part, generation, now, before)

    async def renew(self, lease: Lease, *, force: bool = False) -> None:
        """Extend the lease (at most every quarter lease period unless `force`).

        :raise LeaseLost: another loader took the part over.
        """
        now = self.clock()
        if not force and now - lease.renewed_at < self.lease_s / 4:
            return
        result = await self._catalog.update_one(
            {**lease.key, "lease.gen": lease.generation}, {"$set": {"lease.until": now + self.lease_s}}
        )
        if result.matched_count == 0:
            raise LeaseLost(_lost(lease))
        lease.renewed_at = now

    async def switch(self, lease: Lease, fields: Document) -> int | None:
        """Make the lease's generation live with the catalog `fields`; the generation it replaced, if any.

        One update conditioned on the lease: the old generation moves to `retired` in the same write.

        :raise LeaseLost: another loader took the part over; nothing changed.
        """
        now = self.clock()
        current = await self._catalog.find_one({**lease.key, "lease.gen": lease.generation})
        if current is None:
            raise LeaseLost(_lost(lease))
        previous = int(current["gen"]) if "gen" in current else None
        update: Document = {
            "$set": {**fields, "gen": lease.generation},
            "$pull": {"pending": lease.generation},
            "$unset": {"lease": ""},
        }
        if previous is not None:
            update["$push"] = {"retired": {"gen": previous, "at": now}}
        unchanged = previous if previous is not None else {"$exists": False}
        result = await self._catalog.update_one({**lease.key, "lease.gen": lease.generation, "gen": unchanged}, update)
        if result.matched_count == 0:
            raise LeaseLost(_lost(lease))
        return previous

    async def release(self, lease: Lease) -> None:
        """Give the lease up without switching; the generation stays pending until collected."""
        await self._catalog.update_one({**lease.key, "lease.gen": lease.generation}, {"$unset": {"lease": ""}})

    async def withdraw(self, dataset: str) -> bool:
        """Hide every part of `dataset` from readers; its generations retire. Whether it was loaded."""
        now = self.clock()
        found = False
        for doc in await self._catalog.find({"dataset": dataset, "gen": {"$exists": True}}).to_list(None):
            found = True
            await self._catalog.update_one(
                {"_id": doc["_id"], "gen": doc["gen"]},
                {
                    "$unset": {f: "" for f in LIVE_FIELDS},
                    "$push": {"retired": {"gen": doc["gen"], "at": now}},
                },
            )
        return found

    async def collect(self, dataset: str | None = None) -> Collected:
        """Delete what no reader can see any more (of `dataset`, or everywhere); what was done.

        Orphans are looked for only when collecting everywhere. The stored generations are listed
        before the catalog is read: a load writes only after its claim is in the catalog, so a
        generation stored then and named nowhere afterwards can belong to no running load.
        """
        stored: set[int] = set()
        if dataset is None:
            for collection in self.collections:
                async with translated():
                    stored.update(int(g) for g in await self._db[collection].distinct("gen"))
        now = self.clock()
        query = {} if dataset is None else {"dataset": dataset}
        async with translated():
            docs = await self._catalog.find(query).to_list(None)
        out = Collected()
        for doc in docs:
            holder = await self._holder(doc, now)
            due = [int(g) for g in doc.get("pending", ()) if int(g) != holder]
            for retired in doc.get("retired", ()):
                if float(retired["at"]) + self.protect_s <= now:
                    due.append(int(retired["gen"]))
                else:
                    out.protected.append(int(retired["gen"]))
            if due:
                out.documents += await self.drop(due)
                out.generations.extend(due)
                async with translated():
                    await self._catalog.update_one(
                        {"_id": doc["_id"]}, {"$pull": {"pending": {"$in": due}, "retired": {"gen": {"$in": due}}}}
                    )
            async with translated():
                await self._forget_if_empty(doc["_id"], now)
        if dataset is None:
            named = set().union(*(named_generations(d) for d in docs)) if docs else set()
            out.orphans = sorted(stored - named)
            if out.orphans:
                out.documents += await self.drop(out.orphans)
                out.generations.extend(out.orphans)
        out.generations.sort()
        out.protected.sort()
        return out

    async def _holder(self, doc: Document, now: float) -> int | None:
        """The generation whose load still holds the part's lease, revoking a lapsed lease first.

        Revoking is one conditional update, like a takeover by a claim: the slow or dead loader
        can no longer renew or switch, so its generation can be deleted without a later switch
        making a half-deleted generation live.
        """
        lease = doc.get("lease")
        if not isinstance(lease, dict):
            return None
        if _live_lease(doc, now) is not None:
            return int(lease["gen"])
        async with translated():
            revoked = await self._catalog.update_one(
                {"_id": doc["_id"], "lease.gen": lease["gen"], "lease.until": {"$lt": now}}, {"$unset": {"lease": ""}}
            )
        return None if revoked.matched_count else int(lease["gen"])

    async def _forget_if_empty(self, doc_id: Any, now: float) -> None:
        """Remove a catalog document that names no generation any more (a deleted dataset's part)."""
        await self._catalog.delete_one(
            {
                "_id": doc_id,
                "gen": {"$exists": False},
                "$and": [
                    {"$or": [{"pending": {"$exists": False}}, {"pending": {"$size": 0}}]},
                    {"$or": [{"retired": {"$exists": False}}, {"retired": {"$size": 0}}]},
                    {"$or": [{"lease": {"$exists": False}}, {"lease.until": {"$lt": now}}]},
                ],
            }
        )

    async def drop(self, generations: Iterable[int]) -> int:
        """Delete every document of `generations`, CHUNK at a time; how many were deleted.

        Each chunk is its own bounded operation: a generation of millions of documents is deleted
        in many short steps, and a step cut short by an election is simply done again.
        """
        wanted = sorted(set(generations))
        if not wanted:
            return 0
        deleted = 0
        for collection in self.collections:
            while True:
                with pymongo.timeout(self._load_timeout_s):
                    async with translated():
                        rows = (
                            await self._db[collection]
                            .find({"gen": {"$in": wanted}}, {"_id": 1})
                            .limit(CHUNK)
                            .to_list(None)
                        )
                        if not rows:
                            break
                        result = await self._db[collection].delete_many({"_id": {"$in": [r["_id"] for r in rows]}})
                deleted += int(result.deleted_count)
        return deleted


def _lost(lease: Lease) -> str:
    return (
        f"dataset {lease.dataset} part {lease.part}: this load's lease (generation {lease.generation}) lapsed and "
        "another loader took the part over; this load is abandoned"
    )


def _when(until: object) -> str:
    if not isinstance(until, int | float):
        return "an unknown time"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until))
