"""The VCF ID column as the variant's `identifiers.variantAlternativeIds` (externalReference CURIEs).

`rs1807563` is dbSNP's, `esv3647175`/`nsv…` dbVar's, `COSV…`/`COSM…` COSMIC's; an id that already
has a prefix (`ClinVar:12345`) is kept as it is, and so is any other: a file's own name for its
variant is still what a steward will search for. Several ids (`;`-separated) give one entry each.
"""

from __future__ import annotations

import re

_PREFIXES = (
    (re.compile(r"^rs\d+$"), "dbSNP"),
    (re.compile(r"^[edn]sv\d+$"), "dbVar"),
    (re.compile(r"^COS[VM]\d+$"), "COSMIC"),
)


def curie(raw: str) -> str:
    """One VCF id as a CURIE: a known database's prefix added, anything else unchanged."""
    if raw[:2] == "rs" and raw[2:].isdigit():
        return f"dbSNP:{raw}"  # nearly every id of a short-variant file
    if ":" not in raw:
        for pattern, prefix in _PREFIXES:
            if pattern.match(raw):
                return f"{prefix}:{raw}"
    return raw


def alternative_ids(vcf_id: str | None) -> list[str]:
    """The CURIEs of a record's ID column, in order, without repeats; [] for a missing ID (`.`)."""
    if not vcf_id or vcf_id == ".":
        return []
    if vcf_id[:2] == "rs" and vcf_id[2:].isdigit():
        return [f"dbSNP:{vcf_id}"]  # one dbSNP id: most records of a short-variant file
    out: dict[str, None] = {}
    for raw in vcf_id.split(";"):
        raw = raw.strip()
        if raw and raw != ".":
            out[curie(raw)] = None
    return list(out)
