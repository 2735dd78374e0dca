"""A normalised allele and its counts into a Beacon genomicVariation document."""

from __future__ import annotations

from typing import Any

from beacon.genome.assemblies import refseq_accession
from beacon.genome.hgvs import genomic_expression
from beacon.genome.vrs import sequence_variation
from ingest.vcf.genotypes import AlleleCounts
from ingest.vcf.normalize import sequence_type


def genomic_hgvs(accession: str, pos: int, ref: str, alt: str) -> str:
    """Genomic HGVS of a trimmed sequence allele at 1-based `pos` (not shifted 3' through repeats)."""
    return genomic_expression(accession, pos, ref, alt, sequence_type(ref, alt))


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
        "variation": sequence_variation(variant_type, ref, alt, chrom, assembly, start, end),
    }
    accession = refseq_accession(chrom, assembly)
    if accession and variant_type in ("SNP", "MNP", "DEL", "INS", "INDEL"):
        doc["identifiers"] = {"genomicHGVSId": genomic_hgvs(accession, pos, ref, alt)}
    return doc
