"""Protein changes in one canonical form, so V600E, Val600Glu, p.Val600Glu and p.(V600E) are the same key."""

from __future__ import annotations

import re

THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
    "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
    "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U", "Pyl": "O", "Ter": "*", "Xaa": "X",
}  # fmt: skip
_THREE = re.compile("|".join(THREE_TO_ONE))


def canonical_protein_change(text: str) -> str:
    """One-letter form without the `p.` prefix or parentheses (`p.(Val600Glu)` -> `V600E`); stop as `*`."""
    change = text.strip()
    if change.startswith("p."):
        change = change[2:]
    change = change.strip("()")
    change = _THREE.sub(lambda m: THREE_TO_ONE[m.group(0)], change)
    return change.replace("X", "*") if re.fullmatch(r"[A-Z*]\d+X", change) else change
