"""Carriers as compressed sample sets: dense per-load sample indexes and one Roaring bitmap per zygosity.

A variant's carriers are not link keys (a row per carrier) but three sets of sample indexes, one per
zygosity (heterozygous, homozygous alternate, hemizygous), each a serialised Roaring bitmap
(`pyroaring`, portable format). The indexes are dense per dataset part: `SampleIndex` hands them out
in the order a load meets its samples (biosample records, then carriers not met before) and keeps
each sample's biosample and individual, which a store writes as its samples table. Both stores keep
the same bytes; queries union, intersect and count sets, and map members to ids only through that
table (docs/scaling.md).

A variant's `caseLevelData` becomes sets only when it is exactly what a VCF load writes: entries
`{"biosampleId", "zygosity"}` with one of the three GENO terms below, biosamples in ascending index
order, each once (the rebuilt list is in index order, so the document reads back as loaded). Any
other carrier list (extra fields, other zygosity terms, an order the indexes do not follow) stays in
the document and its carriers stay link keys; both kinds are answered together.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from beacon.model.plan import And, Condition, HasTerm

HETEROZYGOUS = {"id": "GENO:0000458", "label": "heterozygous"}
HOMOZYGOUS = {"id": "GENO:0000136", "label": "homozygous"}
HEMIZYGOUS = {"id": "GENO:0000134", "label": "hemizygous"}
# The sets' order: a variant's sets are (heterozygous, homozygous, hemizygous), None when empty.
ZYGOSITIES = (HETEROZYGOUS, HOMOZYGOUS, HEMIZYGOUS)
ZYGOSITY_IDS = tuple(z["id"] for z in ZYGOSITIES)
_CODE = {(z["id"], z["label"]): code for code, z in enumerate(ZYGOSITIES)}
_ENTRY_KEYS = ["biosampleId", "zygosity"]
_TERM_KEYS = ["id", "label"]

# Below this many members a set is an array of 2-byte indexes however they lie: no runs to look for.
_RUNS_FROM = 1024
CarrierSets = tuple[bytes | None, bytes | None, bytes | None]
SampleRow = tuple[int, str, str | None]  # (sample index, biosample id, individual id or None)
NO_CARRIERS: CarrierSets = (None, None, None)
# The array typecode of 4-byte unsigned ints (bitmap_bytes): "I" on every platform numpy builds for.
_UINT32 = "I" if array("I").itemsize == 4 else "L"


@dataclass
class SampleIndex:
    """One load's samples: biosample id -> dense index, in the order they became known.

    `fresh` holds the rows not yet handed to a batch (`take`).
    """

    positions: dict[str, int] = field(default_factory=dict)
    fresh: list[SampleRow] = field(default_factory=list)

    def add(self, biosample: str, individual: str | None) -> int:
        """The index of `biosample`, given the next one (with `individual`) when it is new."""
        found = self.positions.get(biosample)
        if found is not None:
            return found
        index = len(self.positions)
        self.positions[biosample] = index
        self.fresh.append((index, biosample, individual))
        return index

    def take(self) -> tuple[SampleRow, ...]:
        rows, self.fresh = tuple(self.fresh), []
        return rows


def bitmap_bytes(indexes: npt.NDArray[Any] | Sequence[int]) -> bytes | None:
    """The serialised set of `indexes` (ascending or not), None when there are none."""
    if len(indexes) == 0:
        return None
    if isinstance(indexes, np.ndarray):
        # pyroaring reads an array.array of C unsigned ints as one buffer: twice as fast as a list of ints.
        found = BitMap(array(_UINT32, indexes.astype(np.uint32).tobytes()))
    else:
        found = BitMap(indexes)
    if len(found) > _RUNS_FROM:
        found.run_optimize()  # very common variants: runs of consecutive samples take 4 bytes
    return bytes(found.serialize())


def sets_from_codes(
    indexes: npt.NDArray[Any], codes: npt.NDArray[Any], present: npt.NDArray[Any] | None = None
) -> CarrierSets:
    """Carriers given as sample indexes and their zygosity codes (positions in ZYGOSITIES), as sets.

    `present`: the carriers per code when the caller has counted them already.
    """
    if present is None:
        present = np.bincount(codes, minlength=3)
    if present[0] == len(codes):  # the common case: heterozygous carriers only
        return bitmap_bytes(indexes), None, None
    het, hom, hemi = (bitmap_bytes(indexes[codes == code]) if present[code] else None for code in range(3))
    return het, hom, hemi


def carrier_sets(entries: object, samples: SampleIndex, owners: dict[str, str]) -> CarrierSets | None:
    """The sets of a `caseLevelData` list, registering its biosamples; None when it must stay as it is.

    See the module docstring for the lists that become sets. Biosamples are registered before the
    order is judged, whatever the verdict, so every loader that reads the same lists assigns the
    same indexes.
    """
    if type(entries) is not list or not entries:
        return None
    names: list[str] = []
    codes: list[int] = []
    # A VCF load's entries share three zygosity dicts: each object is judged once (they all live in
    # `entries` while this runs, so no id is reused).
    judged: dict[int, int | None] = {}
    for entry in entries:
        if type(entry) is not dict or list(entry) != _ENTRY_KEYS:
            return None
        name, term = entry["biosampleId"], entry["zygosity"]
        if type(name) is not str or not name:
            return None
        code = judged.get(id(term), -1)
        if code == -1:
            code = judged[id(term)] = _code_of(term)
        if code is None:
            return None
        names.append(name)
        codes.append(code)
    positions, add = samples.positions, samples.add
    indexes = np.array(
        [found if (found := positions.get(name)) is not None else add(name, owners.get(name)) for name in names],
        dtype=np.int64,
    )
    if len(indexes) > 1 and not bool(np.all(indexes[1:] > indexes[:-1])):
        return None
    return sets_from_codes(indexes, np.array(codes, dtype=np.int64))


def _code_of(term: object) -> int | None:
    """The ZYGOSITIES code of a zygosity term exactly as a VCF load writes it, else None."""
    if type(term) is not dict or list(term) != _TERM_KEYS:
        return None
    return _CODE.get((term["id"], term["label"]))


def zygosity_terms(sets: CarrierSets) -> dict[str, str]:
    """The GENO terms (id -> label) of the zygosities that have carriers in `sets`."""
    return {z["id"]: z["label"] for z, blob in zip(ZYGOSITIES, sets, strict=True) if blob is not None}


def members(blob: bytes | None) -> npt.NDArray[np.uint32]:
    """The sample indexes of one serialised set, ascending."""
    if blob is None:
        return np.zeros(0, dtype=np.uint32)
    return np.frombuffer(BitMap.deserialize(blob).to_array(), dtype=np.uint32)


def carriers_in_order(sets: CarrierSets) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.intp]]:
    """Every carrier's sample index, ascending, and its zygosity code (a sample has one per variant)."""
    parts = [members(blob) for blob in sets]
    indexes = np.concatenate(parts)
    codes = np.repeat(np.arange(3), [len(p) for p in parts])
    order = np.argsort(indexes, kind="stable")
    return indexes[order], codes[order]


def case_level_data(sets: CarrierSets, names: dict[int, str]) -> list[dict[str, Any]]:
    """The `caseLevelData` the sets were made from; `names` maps sample indexes to biosample ids."""
    indexes, codes = carriers_in_order(sets)
    return [
        {"biosampleId": names[i], "zygosity": dict(ZYGOSITIES[c])}
        for i, c in zip(indexes.tolist(), codes.tolist(), strict=True)
    ]


ALL_SETS = 7  # a mask picking every zygosity's set (bit 0 heterozygous, 1 homozygous, 2 hemizygous)


def fold(found: BitMap, sets: CarrierSets, mask: int = ALL_SETS) -> None:
    """Add to `found`, in place, the members of the sets of one variant that `mask` picks."""
    for bit, blob in enumerate(sets):
        if blob is not None and mask & (1 << bit):
            found |= BitMap.deserialize(blob)


def picked_union(sets: Iterable[CarrierSets], mask: int = ALL_SETS) -> BitMap:
    """The union of the sets `mask` picks over many variants' carrier sets."""
    found = BitMap()
    for triple in sets:
        fold(found, triple, mask)
    return found


def meets(sets: CarrierSets, wanted: BitMap, mask: int = ALL_SETS) -> bool:
    """Whether a picked set of `sets` shares a member with `wanted`."""
    return any(
        blob is not None and mask & (1 << bit) and BitMap.deserialize(blob).intersect(wanted)
        for bit, blob in enumerate(sets)
    )


def carrier_mask(where: Condition) -> int:
    """Which carrier sets a source condition picks: the zygosities named by its GENO-only term parts
    (a zygosity filter on the variants), every set when it names none.

    Only term parts whose terms are all zygosity ids count, so a term list that also names other terms
    picks nothing narrower; the part itself stays in the condition (the variant has such a carrier).
    """
    parts = where.parts if isinstance(where, And) else (where,)
    mask = 0
    for part in parts:
        if isinstance(part, HasTerm) and part.terms and all(t in ZYGOSITY_IDS for t in part.terms):
            mask |= sum(1 << ZYGOSITY_IDS.index(t) for t in set(part.terms))
    return mask or ALL_SETS
