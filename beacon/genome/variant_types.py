"""variantType synonyms: VCF-style names, Sequence Ontology and EFO copy-number terms mapped onto stored types.

Stored variants carry one of the VCF-style types below (ingest writes them; BFF data usually does).
A query names a type in any vocabulary and matches every stored type it covers. The table is
documented in docs/variant-types.md.
"""

from __future__ import annotations

# Query term (upper-cased) -> stored types it matches.
_SNP = ("SNP",)
_MNP = ("MNP",)
_DEL = ("DEL",)
_INS = ("INS",)
_DUP = ("DUP",)
_INV = ("INV",)
_BND = ("BND",)
_INDEL = ("INDEL", "DEL", "INS")
_CNV = ("CNV", "DEL", "DUP")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "SNP": _SNP, "SNV": _SNP, "SO:0001483": _SNP,
    "MNP": _MNP, "MNV": _MNP, "SO:0002007": _MNP,
    "INDEL": _INDEL, "DELINS": ("INDEL",), "SO:1000032": ("INDEL",),
    "DEL": _DEL, "DELETION": _DEL, "SO:0000159": _DEL,
    "EFO:0030067": _DEL, "EFO:0030068": _DEL, "EFO:0030069": _DEL, "EFO:0020073": _DEL,
    "INS": _INS, "INSERTION": _INS, "SO:0000667": _INS,
    "DUP": _DUP, "DUP:TANDEM": _DUP, "DUPLICATION": _DUP, "SO:1000035": _DUP,
    "EFO:0030070": _DUP, "EFO:0030071": _DUP, "EFO:0030072": _DUP,
    "INV": _INV, "INVERSION": _INV, "SO:1000036": _INV,
    "BND": _BND, "TRA": _BND, "TRANSLOCATION": _BND, "SO:0000199": _BND, "SO:0001059": _BND,
    "CNV": _CNV, "SO:0001019": _CNV, "EFO:0030064": _CNV,
}  # fmt: skip


def stored_types(query: str) -> tuple[str, ...]:
    """Stored variant types a `variantType` query value matches; an unknown value matches itself."""
    key = query.strip().upper()
    return SYNONYMS.get(key, (query.strip(),))
