"""Each dataset part's samples mapped to the records their ids name in the same part (`sample_records`).

A carrier lookup towards biosamples or individuals turns set members into target records. Through link keys that
costs, per carrier, a key seek and a record seek (about 1 µs each: most of a 1,000-carrier count). The map is one
array per part, kind and collection, read once per query: member `i` is the record `rids[i]`, or 0 when the part
holds no record of that id. The load writes it after its records (their rids are known then) and a part is replaced
whole, so it never names a record of another part or a record that is gone. Samples without a record in their part,
and parts without a map (a part holding two records of one id), answer through the keys. The one difference: for a
mapped sample, a record of the same id in another part of the dataset is not found (record ids are meant to be
unique in a dataset; the lookup stays inside the part, never wider).
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import numpy.typing as npt

# The samples table's columns, one per key kind that a sample carries (sqlite_schema.py).
SAMPLE_KINDS = ("biosample", "individual")
_NONE = np.zeros(0, dtype="<i8")


def fill(conn: sqlite3.Connection, dataset: str, part: str, owners: dict[str, str]) -> None:
    """Write the maps of one part just loaded (records indexed); `owners`: key kind -> the collection whose
    records have it as their own id (bulk.LoadBatch.owners)."""
    for kind in SAMPLE_KINDS:
        collection = owners.get(kind)
        if collection is None:
            continue
        rows = conn.execute(
            f"SELECT s.idx, r.rid FROM samples s CROSS JOIN records r ON r.coll = ? AND r.id = s.{kind} "
            "AND r.dataset = s.dataset AND r.part = s.part WHERE s.dataset = ? AND s.part = ?",
            (collection, dataset, part),
        ).fetchall()
        if not rows:
            continue
        found = np.array(rows, dtype=np.int64)
        indexes = found[:, 0]
        if len(np.unique(indexes)) != len(indexes):
            # Two records of one id in the part: the keys name both, a map one; the keys answer.
            continue
        rids = np.zeros(int(indexes.max()) + 1, dtype="<i8")
        rids[indexes] = found[:, 1]
        conn.execute(
            "INSERT INTO sample_records VALUES (?, ?, ?, ?, ?)", (dataset, part, kind, collection, rids.tobytes())
        )


def forget(conn: sqlite3.Connection, dataset: str, part: str | None) -> None:
    """Remove the maps of one part, or of the whole dataset when `part` is None."""
    if part is None:
        conn.execute("DELETE FROM sample_records WHERE dataset = ?", (dataset,))
    else:
        conn.execute("DELETE FROM sample_records WHERE dataset = ? AND part = ?", (dataset, part))


Indexes = npt.NDArray[np.uint32]


def _rids(blob: bytes | None) -> npt.NDArray[np.int64]:
    return _NONE if blob is None else np.frombuffer(blob, dtype="<i8")


def mapped(members: Indexes, blob: bytes | None) -> str:
    """The records (a JSON array of rids) the map `blob` gives the sample indexes `members`."""
    rids = _rids(blob)
    found = rids[members[members < len(rids)]]
    return json.dumps(found[found > 0].tolist())


def unmapped(members: Indexes, blob: bytes | None) -> str:
    """The sample indexes of `members` the map `blob` gives no record (a JSON array): all without a map."""
    rids = _rids(blob)
    inside = members < len(rids)
    missing = np.ones(len(members), dtype=bool)
    missing[inside] = rids[members[inside]] == 0
    return json.dumps(members[missing].tolist())
