"""A normalised allele and its counts into a genomicVariation document: the general path, open to every allele."""

from __future__ import annotations

from typing import Any

from beacon.genome.assemblies import canonical_chromosome, refseq_accession
from beacon.genome.hgvs import genomic_expression
from beacon.genome.liftover import NotLiftable
from beacon.genome.vrs import sequence_variation
from beacon.store.base import Document
from beacon.store.carriers import ZYGOSITIES
from ingest.errors import Problem
from ingest.vcf.annotations import molecular_attributes, transcript_hgvs
from ingest.vcf.identifiers import alternative_ids
from ingest.vcf.normalize import sequence_type
from ingest.vcf.parse import Site, VcfParser
from ingest.vcf.structural import Unrepresentable, structural


def genomic_hgvs(accession: str, pos: int, ref: str, alt: str) -> str:
    """Genomic HGVS of a trimmed sequence allele at 1-based `pos` (not shifted 3' through repeats)."""
    return genomic_expression(accession, pos, ref, alt, sequence_type(ref, alt))


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


def site_document(parser: VcfParser, site: Site) -> Document | None:
    """The genomicVariation of one allele with its carriers and frequencies; None (a problem reported) if invalid."""
    name, line, record, chrom, allele = parser.file.name, site.line, site.record, site.chrom, site.allele
    options = parser.options
    assembly = options.stored_assembly
    if allele.is_symbolic:
        try:
            end = parser.lifted_end(chrom, record.INFO.get("END"))
        except NotLiftable as exc:
            parser.reject(Problem(name, line, "INFO/END", f"not liftable: {exc}", is_line=True))
            return None
        svlen = record.INFO.get("SVLEN")
        svlen = svlen[allele.index - 1] if isinstance(svlen, tuple) else svlen
        try:
            sv = structural(
                allele.pos,
                allele.alt,
                end,
                svlen,
                record.INFO.get("SVTYPE"),
                record.INFO.get("CHR2"),
                parser.file.header.reference_copies,
            )
        except Unrepresentable as exc:
            parser.reject(Problem(name, line, "ALT", str(exc), is_line=True))
            return None
        internal = f"{chrom}:{allele.pos}:{allele.alt.strip('<>')}:{sv.end}"
        if record.ID:
            internal += f":{record.ID}"
        anchor = allele.ref[:1] if allele.ref[:1] in {"A", "C", "G", "T"} else "N"
        doc = variant_document(
            chrom=chrom, assembly=assembly, start=sv.start, end=sv.end, ref=anchor,
            alt="N", variant_type=sv.variant_type, pos=allele.pos, internal_id=internal,
        )  # fmt: skip
        if sv.mate:
            mate = canonical_chromosome(sv.mate[0]) or sv.mate[0]
            doc["variantLevelData"] = {"mateName": mate, "matePosition": sv.mate[1]}
    else:
        if not set(allele.ref) <= set("ACGTN"):
            parser.reject(Problem(name, line, "REF", f"not a nucleotide sequence: {allele.ref!r}", is_line=True))
            return None
        start = allele.pos - 1
        doc = variant_document(
            chrom=chrom, assembly=assembly, start=start, end=start + len(allele.ref), ref=allele.ref,
            alt=allele.alt, variant_type=sequence_type(allele.ref, allele.alt), pos=allele.pos,
            internal_id=f"{chrom}:{allele.pos}:{allele.ref}>{allele.alt}",
        )  # fmt: skip
    ids = alternative_ids(record.ID)
    if ids:
        doc.setdefault("identifiers", {})["variantAlternativeIds"] = [{"id": i} for i in ids]
    header = parser.file.header
    ann, csq = (record.INFO.get("ANN"), record.INFO.get("CSQ")) if header.annotated else (None, None)
    vcf_alt = record.ALT[allele.index - 1]
    attributes = molecular_attributes(vcf_alt, ann, csq, header.csq_order) if ann or csq else None
    if attributes:
        doc["molecularAttributes"] = attributes
    transcripts = transcript_hgvs(vcf_alt, ann, csq, header.csq_order) if ann or csq else []
    if transcripts:
        doc.setdefault("identifiers", {})["transcriptHGVSIds"] = transcripts
    genotypes, writer = site.genotypes, parser.file.frequencies
    if genotypes is not None:
        samples, populations = parser.file.samples, parser.file.populations
        # One pass for counts and carriers (tested equal to `carriers`, `counts` and `counts_by_group`).
        tallies = genotypes.tallies(allele.index, populations, carriers=not options.counts_only)
        if not options.counts_only:
            doc["caseLevelData"] = [
                {"biosampleId": samples[i], "zygosity": ZYGOSITIES[code]}
                for i, code in zip(tallies.carriers.tolist(), tallies.codes.tolist(), strict=True)
            ]
        doc["frequencyInPopulations"] = writer.from_counts(tallies.total, tallies.by_group)
    else:
        sources = writer.from_info(record, allele.index)
        if sources is not None:
            doc["frequencyInPopulations"] = sources
    return doc
