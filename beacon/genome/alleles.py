"""The minimal form of a sequence allele: what the loader stores and what a query is compared in.

`bcftools norm` trims a VCF allele to its minimal representation; the loader stores that form
(`CGAT>TGAT` as `C>T`, `AT>ATT` as `A>AT`), and a sequence query given in the VCF's untrimmed form is
trimmed the same way before it is planned (docs/populations.md, "Queries in the VCF's form").
"""

from __future__ import annotations

import re

_CONCRETE = re.compile(r"^[ACGT]+$")


def trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Minimal (pos, ref, alt): shared suffix, then shared prefix removed, one base always kept.

    `pos` is the first base's position in any coordinate system (it moves right with the prefix).
    """
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def is_trimmable(ref: str, alt: str) -> bool:
    """True when `trim` would change these concrete (A, C, G, T) alleles."""
    # The cheap tests first: most questions are about SNVs and short indels, which they settle.
    if len(ref) < 2 or len(alt) < 2 or (ref[-1] != alt[-1] and ref[0] != alt[0]):
        return False
    return _CONCRETE.match(ref) is not None and _CONCRETE.match(alt) is not None
