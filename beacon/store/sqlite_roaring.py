"""SQL functions over carrier sets (Roaring bitmaps in blobs), registered on every connection of the store.

Set operations run inside SQLite, one call per stored set, so a count never brings a list of ids to
Python: `roaring_union` ORs the picked sets of many variants into one set per group, `roaring_members`
spells a set as a JSON array that `json_each` expands to rows (to meet the samples table),
`roaring_count` counts a set, `roaring_of` builds a set from sample indexes, and `roaring_meets` tells
whether a variant's picked sets share a member with a given set. `roaring_mapped` and `roaring_unmapped`
split a set's members by a part's sample map (beacon/store/sqlite_sample_map.py): the records it gives
them (JSON rids), and the members it does not map (JSON indexes), which meet the samples table.

Each function takes the variant's three sets (het, hom, hemi) and a `mask` of the ones a zygosity
filter picks (bit 0 heterozygous, 1 homozygous, 2 hemizygous; 7 for all).
"""

from __future__ import annotations

import json
import sqlite3

from pyroaring import BitMap

from beacon.store import sqlite_sample_map
from beacon.store.carriers import fold, meets, members, picked_union

Blob = bytes | None


class _Union:
    """Aggregate: the union of the picked sets of every row, serialised (NULL when empty)."""

    def __init__(self) -> None:
        self.found = BitMap()

    def step(self, mask: int, het: Blob, hom: Blob, hemi: Blob) -> None:
        fold(self.found, (het, hom, hemi), mask)

    def finalize(self) -> bytes | None:
        return bytes(self.found.serialize()) if self.found else None


class _Build:
    """Aggregate: the set of the (integer) sample indexes of every row, serialised (NULL when none)."""

    def __init__(self) -> None:
        self.found = BitMap()

    def step(self, index: int | None) -> None:
        if index is not None:
            self.found.add(index)

    def finalize(self) -> bytes | None:
        return bytes(self.found.serialize()) if self.found else None


def _members(blob: Blob) -> str:
    return json.dumps(members(blob).tolist())


def _count(mask: int, het: Blob, hom: Blob, hemi: Blob) -> int:
    return len(picked_union([(het, hom, hemi)], mask))


def _meets(mask: int, het: Blob, hom: Blob, hemi: Blob, other: Blob) -> int:
    return int(other is not None and meets((het, hom, hemi), BitMap.deserialize(other), mask))


def _mapped(blob: Blob, rids: Blob) -> str:
    return sqlite_sample_map.mapped(members(blob), rids)


def _unmapped(blob: Blob, rids: Blob) -> str:
    return sqlite_sample_map.unmapped(members(blob), rids)


def register(conn: sqlite3.Connection) -> None:
    """Make the carrier-set functions available to `conn`'s statements."""
    conn.create_aggregate("roaring_union", 4, _Union)  # type: ignore[arg-type]
    conn.create_aggregate("roaring_of", 1, _Build)  # type: ignore[arg-type]
    conn.create_function("roaring_members", 1, _members, deterministic=True)
    conn.create_function("roaring_mapped", 2, _mapped, deterministic=True)
    conn.create_function("roaring_unmapped", 2, _unmapped, deterministic=True)
    conn.create_function("roaring_count", 4, _count, deterministic=True)
    conn.create_function("roaring_meets", 5, _meets, deterministic=True)
