"""MongoDB reads of carrier sets: set members to ids through the samples collection, ids to the variants
whose sets hold them, and the caseLevelData a page's variants are completed with.

MongoDB cannot look inside a Roaring bitmap, so each step is an indexed read of the sets or the samples
it needs (filter documents from mongo_translate, golden-tested) and the set operations run here: the
union of the matching variants' sets per generation (a generation is one dataset part, its sample
indexes its own), then one read of the samples of the union's members.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from typing import Any

from pyroaring import BitMap

from beacon.model.plan import Related
from beacon.store import mongo_translate
from beacon.store.base import Document
from beacon.store.carriers import CarrierSets, carrier_mask, carriers_in_order, case_level_data, fold, meets
from beacon.store.mongo_schema import SAMPLES
from beacon.store.mongo_translate import (
    CARRIER_PROJECTION,
    SAMPLE_FIELDS,
    TARGET_PROJECTION,
    Filter,
    Scope,
    carrier_sources_filter,
    carrier_targets_filter,
    key_value,
    samples_by_id,
    samples_by_index,
)

Session = dict[str, Any]


async def _rows(cursor: Any) -> list[Document]:
    if inspect.isawaitable(cursor):
        cursor = await cursor
    found: list[Document] = await cursor.to_list(None)
    return found


async def _each(cursor: Any) -> AsyncIterator[Document]:
    """The rows of `cursor` one batch at a time: a read of sets never holds them all (a part's variants
    can be millions), only what is folded from them."""
    if inspect.isawaitable(cursor):
        cursor = await cursor
    async for row in cursor:
        yield row


def _sets(row: Document) -> CarrierSets:
    het, hom, hemi = row["cs"]
    return (
        bytes(het) if het is not None else None,
        bytes(hom) if hom is not None else None,
        bytes(hemi) if hemi is not None else None,
    )


async def sample_ids(db: Any, generation: int, indexes: list[int], field: str, kw: Session) -> dict[int, str]:
    """Sample index -> biosample (`b`) or individual (`i`) id, for the given indexes of one generation."""
    cursor = db[SAMPLES].find(samples_by_index(generation, indexes), {"_id": 0, "idx": 1, field: 1}, **kw)
    return {int(r["idx"]): str(r[field]) for r in await _rows(cursor) if r.get(field) is not None}


async def _ids_of_sets(
    db: Any, rows: AsyncIterator[Document], kind: str, mask: int, kw: Session
) -> dict[str, set[str]]:
    """Per dataset, the `kind` ids of the members of the picked sets of `rows` (records with `cs`).

    Each row's picked set is folded into its generation's union as it arrives.
    """
    unions: dict[int, tuple[str, BitMap]] = {}
    async for row in rows:
        fold(unions.setdefault(int(row["gen"]), (str(row["ds"]), BitMap()))[1], _sets(row), mask)
    out: dict[str, set[str]] = {}
    for generation, (dataset, members) in sorted(unions.items()):
        if members:
            ids = await sample_ids(db, generation, members.to_array().tolist(), SAMPLE_FIELDS[kind], kw)
            out.setdefault(dataset, set()).update(ids.values())
    return out


async def related_keys(db: Any, cond: Related, scope: Scope, kw: Session) -> dict[str, set[str]]:
    """Per dataset, the `via` keys (stored form) of the carriers in the sets of `cond`'s matching sources."""
    cursor = db[cond.source].find(carrier_sources_filter(cond, scope), CARRIER_PROJECTION, **kw)
    found = await _ids_of_sets(db, _each(cursor), cond.via, carrier_mask(cond.where), kw)
    return {d: {key_value(cond.via, v) for v in ids} for d, ids in found.items()}


async def set_values(db: Any, collection: str, where: Filter, kind: str, kw: Session) -> set[str]:
    """The `kind` ids of the carriers in the sets of the records of `collection` meeting `where`."""
    cursor = db[collection].find(where, CARRIER_PROJECTION, **kw)
    found = await _ids_of_sets(db, _each(cursor), kind, 7, kw)
    return {v for ids in found.values() for v in ids}


async def carried_seqs(
    db: Any, target: str, via: str, found: dict[str, tuple[str, ...]], scope: Scope, kw: Session
) -> dict[str, tuple[int, ...]]:
    """Per dataset, the `seq`s of the `target` records whose sets hold a sample of a found `via` key.

    The found ids become each generation's sample indexes (one indexed read), then the generation's
    records holding sets are read and met with them here: a scan of that dataset's variants.
    """
    cut = len(key_value(via, ""))
    out: dict[str, tuple[int, ...]] = {}
    for dataset, generations in scope.by_dataset:
        values = [k[cut:] for k in found.get(dataset, ())]
        if not values:
            continue
        cursor = db[SAMPLES].find(samples_by_id(generations, via, values), {"_id": 0, "gen": 1, "idx": 1}, **kw)
        wanted: dict[int, BitMap] = {}
        for row in await _rows(cursor):
            wanted.setdefault(int(row["gen"]), BitMap()).add(int(row["idx"]))
        seqs: list[int] = []
        for generation, samples in sorted(wanted.items()):
            targets = db[target].find(carrier_targets_filter(generation), TARGET_PROJECTION, **kw)
            async for row in _each(targets):
                if meets(_sets(row), samples):
                    seqs.append(int(row["seq"]))
                    # As the key path's pipeline: a pivot past the limit is refused, not gathered.
                    mongo_translate.bounded(len(seqs), target, via)
        if seqs:
            out[dataset] = tuple(sorted(seqs))
    return out


async def with_sets(
    db: Any, cond: Related, target: str, found: dict[str, tuple[str, ...]], scope: Scope, kw: Session
) -> tuple[dict[str, tuple[str, ...]], Scope]:
    """The first step of `cond` completed by the carrier sets: the keys its sources' sets add per dataset,
    and the scope knowing the `target` records whose sets hold a found sample (when any hold sets)."""
    merged = dict(found)
    for dataset, keys in (await related_keys(db, cond, scope, kw)).items():
        merged[dataset] = tuple(sorted({*merged.get(dataset, ()), *keys}))
    if target in scope.carrier_collections:
        scope = scope.with_carried(cond, await carried_seqs(db, target, cond.via, merged, scope, kw))
    return merged, scope


async def completed(db: Any, rows: list[Document], kw: Session) -> list[Document]:
    """The documents of `rows` (find results with `doc`, `gen`, `cs`), caseLevelData rebuilt from the sets."""
    wanted: dict[int, set[int]] = {}
    for row in rows:
        if row.get("cs") is not None:
            wanted.setdefault(int(row["gen"]), set()).update(carriers_in_order(_sets(row))[0].tolist())
    names = {g: await sample_ids(db, g, sorted(indexes), "b", kw) for g, indexes in wanted.items()}
    docs: list[Document] = []
    for row in rows:
        doc: Document = row["doc"]
        if row.get("cs") is not None:
            doc["caseLevelData"] = case_level_data(_sets(row), names[int(row["gen"])])
        docs.append(doc)
    return docs
