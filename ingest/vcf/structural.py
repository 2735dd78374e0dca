"""Symbolic and breakend alleles (<DEL>, <DUP>, <INV>, <INS>, <CNV>, <CNn>, BND) into Beacon variant types and spans.

VCF POS of a symbolic allele is the padding base before the event, so the event occupies the
0-based half-open interval [POS, END) with END from INFO/END, else POS + |SVLEN|.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN = re.compile(r"^<CN(\d+)>$")
_BND = re.compile(r"^(?:[ACGTN]*)[\[\]]([^:\[\]]+):(\d+)[\[\]](?:[ACGTN]*)$")
# Caller-specific symbols mapped onto Beacon types: TRA/CTX are translocations, i.e. breakends;
# INVDUP is an inverted duplication; DUP/INS (sniffles) is a duplication reported as an insertion.
_SYMBOLIC_TYPES = {
    "DEL": "DEL", "DUP": "DUP", "INV": "INV", "INS": "INS", "CNV": "CNV",
    "TRA": "BND", "CTX": "BND", "BND": "BND", "INVDUP": "DUP", "DUP/INS": "DUP",
}  # fmt: skip


class Unrepresentable(ValueError):
    """The allele cannot be stored as a Beacon variant; the message says why."""


@dataclass(frozen=True)
class StructuralAllele:
    variant_type: str
    start: int  # 0-based
    end: int  # 0-based, exclusive
    mate: tuple[str, int] | None = None  # BND: mate chromosome and 1-based position


def structural(
    pos: int,
    alt: str,
    end: int | None,
    svlen: int | None,
    svtype: str | None,
    chr2: str | None = None,
    reference_copies: int = 1,
) -> StructuralAllele:
    """Interpret one symbolic or breakend allele of a record at 1-based `pos`.

    :raise Unrepresentable: the reference copy number, an unknown symbol, or a span that cannot be determined.
    """
    bnd = _BND.match(alt)
    if bnd:
        return StructuralAllele("BND", pos - 1, pos, (bnd.group(1), int(bnd.group(2))))
    if alt.startswith(".") or alt.endswith("."):
        return StructuralAllele("BND", pos - 1, pos)
    cn = _CN.match(alt)
    if cn:
        # Copies per haplotype, whose reference carries one: 0 is a loss, 2 and more a gain (or as
        # many as the header makes normal, `reference_copies`).
        copies = int(cn.group(1))
        if copies == reference_copies:
            msg = f"{alt} is the reference copy number"
            raise Unrepresentable(msg)
        kind = "DEL" if copies < reference_copies else "DUP"
    else:
        base = alt.strip("<>").split(":")[0]
        found = _SYMBOLIC_TYPES.get(base) or _SYMBOLIC_TYPES.get(svtype or "")
        if found is None:
            msg = f"unknown symbolic allele {alt}"
            raise Unrepresentable(msg)
        kind = found
    if kind == "BND":
        # A translocation symbol names its mate through INFO/CHR2 and INFO/END.
        mate = (chr2, end) if chr2 and end is not None else None
        return StructuralAllele("BND", pos - 1, pos, mate)
    if kind == "INS" and end is None:
        return StructuralAllele(kind, pos, pos + 1)
    if end is None and svlen is not None:
        end = pos + abs(svlen)
    if end is None:
        msg = f"{alt} without INFO/END or INFO/SVLEN: its span is unknown"
        raise Unrepresentable(msg)
    if end < pos:
        msg = f"{alt} ends (END={end}) before it starts (POS={pos})"
        raise Unrepresentable(msg)
    return StructuralAllele(kind, pos, max(end, pos + 1))
