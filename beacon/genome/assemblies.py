"""Assembly ids with their synonyms, and chromosome names (1, chr1, NC_000001.11, X/23, MT/M) made canonical."""

from __future__ import annotations

import re

ASSEMBLY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "GRCh38": ("grch38", "hg38", "b38", "hs38", "hs38dh"),
    "GRCh37": ("grch37", "hg19", "b37", "hs37d5", "hs37"),
    "NCBI36": ("ncbi36", "hg18", "b36"),
}

# RefSeq chromosome accessions (version decides the assembly). Index 0..21 = chr1..22, 22 = X, 23 = Y.
_GRCH38_VERSIONS = (
    11,
    12,
    12,
    12,
    10,
    12,
    14,
    11,
    12,
    11,
    10,
    12,
    11,
    9,
    10,
    10,
    11,
    10,
    10,
    11,
    9,
    11,
    11,
    10,
)
_GRCH37_VERSIONS = (10, 11, 11, 11, 9, 11, 13, 10, 11, 10, 9, 11, 10, 8, 9, 9, 10, 9, 9, 10, 8, 10, 10, 9)
_CHROMS = tuple(str(i) for i in range(1, 23)) + ("X", "Y")
MITOCHONDRION_ACCESSION = "NC_012920.1"

REFSEQ: dict[str, tuple[str, str]] = {}
for _i, _chrom in enumerate(_CHROMS):
    REFSEQ[f"NC_{_i + 1:06d}.{_GRCH38_VERSIONS[_i]}"] = (_chrom, "GRCh38")
    REFSEQ[f"NC_{_i + 1:06d}.{_GRCH37_VERSIONS[_i]}"] = (_chrom, "GRCh37")

_CHROM_RE = re.compile(r"^(?:chr)?([0-9]{1,2}|X|Y|M|MT|x|y|m|mt)$", re.IGNORECASE)
_REFSEQ_RE = re.compile(r"^NC_0*(\d+)(?:\.(\d+))?$")


def canonical_assembly(name: str) -> str | None:
    """The canonical id (GRCh38, GRCh37, NCBI36) for a name or synonym, patch suffixes allowed; else None."""
    key = name.strip().lower().split(".p")[0]
    for canonical, synonyms in ASSEMBLY_SYNONYMS.items():
        if key == canonical.lower() or key in synonyms:
            return canonical
    return None


def refseq_chromosome(accession: str) -> tuple[str, str | None] | None:
    """(chromosome, assembly or None) for a RefSeq NC_ accession, e.g. NC_000013.11 -> ("13", "GRCh38")."""
    if accession == MITOCHONDRION_ACCESSION:
        return ("MT", None)
    if accession in REFSEQ:
        return REFSEQ[accession]
    m = _REFSEQ_RE.match(accession)
    if m and 1 <= int(m.group(1)) <= 24:
        return (_CHROMS[int(m.group(1)) - 1], None)
    return None


def canonical_chromosome(name: str) -> str | None:
    """'1'..'22', 'X', 'Y' or 'MT' for any common spelling (chr1, 23, chrM, NC_000001.11); else None."""
    name = name.strip()
    m = _CHROM_RE.match(name)
    if m:
        value = m.group(1).upper()
        if value in {"M", "MT"}:
            return "MT"
        if value == "23":
            return "X"
        if value == "24":
            return "Y"
        if value.isdigit():
            return str(int(value)) if 1 <= int(value) <= 22 else None
        return value
    found = refseq_chromosome(name)
    return found[0] if found else None


_ACCESSION_OF = {value: accession for accession, value in REFSEQ.items()}


def refseq_accession(chrom: str, assembly: str | None) -> str | None:
    """The versioned RefSeq accession of a canonical chromosome in GRCh37 or GRCh38, else None."""
    if chrom == "MT":
        return MITOCHONDRION_ACCESSION
    return _ACCESSION_OF.get((chrom, assembly or ""))


def sequence_id(chrom: str, assembly: str) -> str:
    """The VRS `sequence_id` of a chromosome: `refseq:<accession>` where known, else `<assembly>:<chrom>`."""
    accession = refseq_accession(chrom, assembly)
    return f"refseq:{accession}" if accession else f"{assembly}:{chrom}"
