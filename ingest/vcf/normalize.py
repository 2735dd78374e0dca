"""Split multi-allelic records and trim alleles to their minimal representation, as `bcftools norm -m -any` does.

Trimming removes the shared suffix first, then the shared prefix (keeping one base), so an indel
keeps its VCF anchor base and stays where the caller put it. Left-shifting through repeats needs
the reference sequence and is not done here.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from beacon.genome.alleles import trim

_SEQUENCE = re.compile(r"^[ACGTN]+$")


class Allele(NamedTuple):
    """One ALT allele of a VCF record, normalised; `index` is its 1-based allele number in the record.

    A NamedTuple rather than a frozen dataclass: one is made per allele of every record read, at a
    third of the cost.
    """

    pos: int  # 1-based, as in VCF
    ref: str
    alt: str
    index: int  # type: ignore[assignment]  # a field, shadowing tuple.index (never called on an Allele)

    @property
    def is_symbolic(self) -> bool:
        return (
            self.alt.startswith("<")
            or "[" in self.alt
            or "]" in self.alt
            or self.alt.startswith(".")
            or self.alt.endswith(".")
        )


def reference_copy_number(copies: int) -> str:
    """The skip reason of the reference-state copy-number allele."""
    if copies == 1:
        return "reference copy number <CN1> (one copy per haplotype)"
    return f"reference copy number <CN{copies}> (the header's ##ALT makes it the normal state)"


def split(pos: int, ref: str, alts: list[str], reference_copies: int = 1) -> tuple[list[Allele], list[tuple[int, str]]]:
    """The normalised alleles of a record and the skipped ones as (allele number, reason).

    Spanning deletions (`*`), missing alleles (`.`), ALT equal to REF and the reference copy number
    (`<CN1>` per haplotype, or `reference_copies`) describe no variant of their own.
    """
    alleles: list[Allele] = []
    skipped: list[tuple[int, str]] = []
    ref = ref.upper()
    for index, raw in enumerate(alts, start=1):
        alt = raw.upper() if not raw.startswith("<") else raw
        if alt == "*":
            skipped.append((index, "spanning deletion allele '*'"))
        elif alt in (".", ""):
            skipped.append((index, "no alternate allele"))
        elif alt == f"<CN{reference_copies}>":
            # Copy-number alleles count copies per haplotype (VCF 4.3 §5.5, 1000 Genomes phase 3): a
            # haplotype carries one copy of the reference, so <CN1> is the reference state, not a variant
            # (<CN2> when the header says two copies are normal).
            skipped.append((index, reference_copy_number(reference_copies)))
        elif alt == ref:
            skipped.append((index, "ALT equals REF"))
        elif _SEQUENCE.match(alt) and _SEQUENCE.match(ref):
            p, r, a = trim(pos, ref, alt)
            alleles.append(Allele(p, r, a, index))
        else:
            alleles.append(Allele(pos, ref, alt, index))
    return alleles, skipped


def sequence_type(ref: str, alt: str) -> str:
    """SNP, MNP, DEL, INS or INDEL (a deletion-insertion) for a trimmed sequence allele."""
    if len(ref) == len(alt):
        return "SNP" if len(ref) == 1 else "MNP"
    if len(alt) == 1 and ref[0] == alt[0]:
        return "DEL"
    if len(ref) == 1 and alt[0] == ref[0]:
        return "INS"
    return "INDEL"
