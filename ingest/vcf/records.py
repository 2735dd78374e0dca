"""A normalised allele and its counts into a Beacon genomicVariation document."""

from __future__ import annotations

from typing import Any

from beacon.genome.assemblies import refseq_accession
from ingest.vcf.genotypes import AlleleCounts
from ingest.vcf.normalize import sequence_type


def genomic_hgvs(accession: str, pos: int, ref: str, alt: str) -> str:
    """Genomic HGVS of a trimmed sequence allele at 1-based `pos` (not shifted 3' through repeats)."""
    kind = sequence_type(ref, alt)
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


def sequence_id(chrom: str, assembly: str) -> str:
    accession = refseq_accession(chrom, assembly)
    return f"refseq:{accession}" if accession else f"{assembly}:{chrom}"


def frequency(population: str, counts: AlleleCounts) -> dict[str, Any]:
    return {
        "population": population,
        "alleleFrequency": round(counts.frequency, 8),
        "alleleCount": counts.allele_count,
        "alleleNumber": counts.allele_number,
        "alleleCountHomozygous": counts.homozygous,
        "alleleCountHeterozygous": counts.heterozygous,
        "alleleCountHemizygous": counts.hemizygous,
    }


def variant_document(
    *,
    chrom: str,
    assembly: str,
    start: int,
    end: int,
    ref: str,
    alt: str,
    variant_type: str,
    pos: int,
    internal_id: str,
) -> dict[str, Any]:
    """The genomicVariation skeleton; callers add identifiers, carriers, frequencies and annotations."""
    doc: dict[str, Any] = {
        "variantInternalId": internal_id,
        "variation": {
            "variantType": variant_type,
            "referenceBases": ref,
            "alternateBases": alt,
            "location": {
                "type": "SequenceLocation",
                "sequence_id": sequence_id(chrom, assembly),
                "interval": {
                    "type": "SequenceInterval",
                    "start": {"type": "Number", "value": start},
                    "end": {"type": "Number", "value": end},
                },
            },
        },
    }
    accession = refseq_accession(chrom, assembly)
    if accession and variant_type in ("SNP", "MNP", "DEL", "INS", "INDEL"):
        doc["identifiers"] = {"genomicHGVSId": genomic_hgvs(accession, pos, ref, alt)}
    return doc
