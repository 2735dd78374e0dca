"""Withdrawn datasets in MongoDB: one tombstone document per dataset in the `withdrawn_datasets` collection.

The tombstone is written before a hard withdrawal deletes anything: the catalog (`datasets`) leaves
the dataset out from that moment, so a delete that fails half-way leaves it hidden, never half-visible;
withdrawing again completes it.
"""

from __future__ import annotations

from typing import Any

from beacon.store.base import Tombstone

WITHDRAWN = "withdrawn_datasets"


async def withdrawn_ids(db: Any) -> set[str]:
    return {d["_id"] async for d in db[WITHDRAWN].find({}, {"_id": 1})}


async def leave_tombstone(db: Any, tombstone: Tombstone, loaded: bool) -> bool:
    """Write (or rewrite) the tombstone when the dataset is loaded or was withdrawn; True if it was withdrawn."""
    earlier = await db[WITHDRAWN].find_one({"_id": tombstone.dataset_id}) is not None
    if loaded or earlier:
        await db[WITHDRAWN].replace_one({"_id": tombstone.dataset_id}, tombstone.as_record(), upsert=True)
    return earlier


async def tombstones(db: Any) -> list[Tombstone]:
    return [Tombstone.from_record(d) async for d in db[WITHDRAWN].find({}).sort([("_id", 1)])]


async def republish(db: Any, dataset_id: str) -> bool:
    result = await db[WITHDRAWN].delete_one({"_id": dataset_id})
    return bool(result.deleted_count)
