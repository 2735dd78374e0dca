"""Genomic HGVS (g.) expressions into the stored, VCF-style representation of the same allele.

Stored sequence variants are VCF-normalised: deletions and insertions keep the base before the
event as anchor, so a deletion of bases s..e (1-based) is stored at 0-based start s-2 with end e.
The anchor base itself is not in the expression, so deletions, insertions and duplications match
on position, end and length rather than on sequence. HGVS shifts events 3' through repeats while
VCF shifts them 5': in a repeat the two positions differ (docs/decisions.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from beacon.genome.assemblies import canonical_chromosome, refseq_chromosome
from beacon.model.request import MAX_INTEGER

_EXPRESSION = re.compile(r"^(?P<seq>[^:\s]+):g\.(?P<body>.+)$")
_SUBSTITUTION = re.compile(r"^(?P<pos>\d+)(?P<ref>[ACGT])>(?P<alt>[ACGT])$")
_DELETION = re.compile(r"^(?P<s>\d+)(?:_(?P<e>\d+))?del(?P<bases>[ACGT]*)$")
_DUPLICATION = re.compile(r"^(?P<s>\d+)(?:_(?P<e>\d+))?dup(?P<bases>[ACGT]*)$")
_INSERTION = re.compile(r"^(?P<s>\d+)_(?P<e>\d+)ins(?P<bases>[ACGT]+)$")
_DELINS = re.compile(r"^(?P<s>\d+)(?:_(?P<e>\d+))?delins(?P<bases>[ACGT]+)$")
FORMS = "g.123A>G, g.123del, g.123_125del, g.123_124insAT, g.123dup, g.123_125dup, g.123_125delinsGT"


_OPTIONAL_SEQUENCE = re.compile(r"(del|dup)[ACGTacgt]+$")


def canonical_hgvs(expression: str) -> str:
    """The key form of an HGVS id: `c.5946delT` and `c.5946del` name the same change (the bases are optional)."""
    return _OPTIONAL_SEQUENCE.sub(r"\1", expression.strip())


def is_transcript_hgvs(expression: str) -> bool:
    """True for c., n. and p. expressions, which name alleles through a transcript or protein."""
    return any(f":{kind}." in expression for kind in ("c", "n", "p"))


def genomic_expression(accession: str, pos: int, ref: str, alt: str, kind: str) -> str:
    """Genomic HGVS of a trimmed sequence allele at 1-based VCF `pos` (not shifted 3' through repeats).

    `kind` is the allele's sequence type (SNP, MNP, DEL, INS or INDEL); DEL and INS keep their anchor base.
    """
    if kind == "SNP":
        return f"{accession}:g.{pos}{ref}>{alt}"
    if kind == "DEL":
        first, last = pos + 1, pos + len(ref) - 1
        return f"{accession}:g.{first}del" if first == last else f"{accession}:g.{first}_{last}del"
    if kind == "INS":
        return f"{accession}:g.{pos}_{pos + 1}ins{alt[1:]}"
    last = pos + len(ref) - 1
    span = f"{pos}" if last == pos else f"{pos}_{last}"
    return f"{accession}:g.{span}delins{alt}"


class HgvsError(ValueError):
    """Not a genomic HGVS expression this parser understands; the message says why."""


@dataclass(frozen=True)
class GenomicAllele:
    """An allele as stored: 0-based half-open [start, end), with what is known of its sequence."""

    chrom: str
    assembly: str | None
    kind: str  # substitution, deletion, insertion, duplication, delins
    start: int
    end: int
    length: int
    ref: str | None = None
    alt: str | None = None


def parse(expression: str) -> GenomicAllele:
    """The stored-form allele of a genomic HGVS expression.

    :raise HgvsError: not a g. expression, an unknown sequence, or an unsupported edit.
    """
    m = _EXPRESSION.match(expression.strip())
    if not m:
        msg = f"{expression!r} is not a genomic HGVS expression (expected e.g. NC_000017.11:g.43045703C>T)"
        raise HgvsError(msg)
    found = refseq_chromosome(m.group("seq"))
    chrom, assembly = found if found else (canonical_chromosome(m.group("seq")), None)
    if chrom is None:
        msg = f"{m.group('seq')!r} is not a chromosome or RefSeq chromosome accession"
        raise HgvsError(msg)
    body = m.group("body")
    if sub := _SUBSTITUTION.match(body):
        pos = _position(sub.group("pos"))
        return GenomicAllele(chrom, assembly, "substitution", pos - 1, pos, 1, sub.group("ref"), sub.group("alt"))
    if d := _DELINS.match(body):
        s, e = _span(d.group("s"), d.group("e"))
        return GenomicAllele(
            chrom, assembly, "delins", s - 1, e, max(e - s + 1, len(d.group("bases"))), alt=d.group("bases")
        )
    if d := _DELETION.match(body):
        s, e = _span(d.group("s"), d.group("e"))
        return GenomicAllele(chrom, assembly, "deletion", s - 2, e, e - s + 1)
    if d := _DUPLICATION.match(body):
        s, e = _span(d.group("s"), d.group("e"))
        # Left-aligned VCF writes a duplication as an insertion after the base before it.
        return GenomicAllele(chrom, assembly, "duplication", s - 2, s - 1, e - s + 1)
    if d := _INSERTION.match(body):
        s, e = _span(d.group("s"), d.group("e"))
        if e != s + 1:
            msg = f"{expression!r}: an insertion lies between two adjacent positions (e.g. g.123_124insAT)"
            raise HgvsError(msg)
        return GenomicAllele(chrom, assembly, "insertion", s - 1, s, len(d.group("bases")), alt=d.group("bases"))
    msg = f"{expression!r}: unsupported genomic edit; supported forms: {FORMS}"
    raise HgvsError(msg)


def _position(text: str) -> int:
    """A 1-based position inside any genome.

    :raise HgvsError: 0, or a number beyond MAX_INTEGER (which no chromosome reaches).
    """
    pos = int(text) if len(text) <= 30 else MAX_INTEGER + 1
    if not 1 <= pos <= MAX_INTEGER:
        msg = f"position {text[:40]} is outside any genome (1 to {MAX_INTEGER})"
        raise HgvsError(msg)
    return pos


def _span(start: str, end: str | None) -> tuple[int, int]:
    s = _position(start)
    e = _position(end) if end else s
    if e < s:
        msg = f"range {s}_{e} ends before it starts"
        raise HgvsError(msg)
    return s, e
