"""SnpEff ANN and VEP CSQ INFO fields into Beacon molecularAttributes (genes, effects, protein changes)."""

from __future__ import annotations

import re
from typing import Any

# Sequence Ontology ids of the consequence names SnpEff and VEP emit most.
SO_TERMS = {
    "transcript_ablation": "SO:0001893",
    "splice_acceptor_variant": "SO:0001574",
    "splice_donor_variant": "SO:0001575",
    "stop_gained": "SO:0001587",
    "frameshift_variant": "SO:0001589",
    "stop_lost": "SO:0001578",
    "start_lost": "SO:0002012",
    "inframe_insertion": "SO:0001821",
    "inframe_deletion": "SO:0001822",
    "missense_variant": "SO:0001583",
    "protein_altering_variant": "SO:0001818",
    "splice_region_variant": "SO:0001630",
    "synonymous_variant": "SO:0001819",
    "stop_retained_variant": "SO:0001567",
    "start_retained_variant": "SO:0002019",
    "coding_sequence_variant": "SO:0001580",
    "5_prime_UTR_variant": "SO:0001623",
    "3_prime_UTR_variant": "SO:0001624",
    "non_coding_transcript_exon_variant": "SO:0001792",
    "intron_variant": "SO:0001627",
    "non_coding_transcript_variant": "SO:0001619",
    "upstream_gene_variant": "SO:0001631",
    "downstream_gene_variant": "SO:0001632",
    "intergenic_region": "SO:0000605",
    "intergenic_variant": "SO:0001628",
    "regulatory_region_variant": "SO:0001566",
    "TF_binding_site_variant": "SO:0001782",
    "intragenic_variant": "SO:0002011",
    "exon_loss_variant": "SO:0001572",
    "structural_interaction_variant": "SO:0002093",
    "disruptive_inframe_deletion": "SO:0001826",
    "disruptive_inframe_insertion": "SO:0001824",
    "conservative_inframe_deletion": "SO:0001825",
    "conservative_inframe_insertion": "SO:0001823",
    "5_prime_UTR_premature_start_codon_gain_variant": "SO:0001988",
    "sequence_feature": "SO:0000110",
}
_ANN_FIELDS = ("Allele", "Annotation", "Impact", "Gene_Name", "Gene_ID", "Feature_Type", "Feature_ID",
               "Transcript_BioType", "Rank", "HGVS.c", "HGVS.p")  # fmt: skip
_FORMAT = re.compile(r"Format:\s*([^\"']+)")


def csq_fields(description: str) -> tuple[str, ...]:
    """The field order a VEP CSQ header declares (`... Format: Allele|Consequence|...`)."""
    m = _FORMAT.search(description)
    return tuple(f.strip() for f in m.group(1).split("|")) if m else ()


def _entries(value: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(fields, entry.split("|"), strict=False)) for entry in value.split(",") if entry]


def transcript_hgvs(alt: str, ann: str | None, csq: str | None, csq_order: tuple[str, ...]) -> list[str]:
    """Transcript-level HGVS ids (`NM_000059.4:c.5946del`) annotated for the ALT allele."""
    ids: dict[str, None] = {}
    if ann:
        for e in _entries(ann, _ANN_FIELDS):
            if e.get("Allele") == alt and e.get("Feature_ID") and e.get("HGVS.c", "").startswith(("c.", "n.")):
                ids[f"{e['Feature_ID']}:{e['HGVS.c']}"] = None
    if csq and csq_order:
        for e in _entries(csq, csq_order):
            if e.get("Allele") in (alt, alt[1:] or "-") and ":c." in e.get("HGVSc", ""):
                ids[e["HGVSc"]] = None
    return list(ids)


def molecular_attributes(
    alt: str, ann: str | None, csq: str | None, csq_order: tuple[str, ...]
) -> dict[str, Any] | None:
    """Genes, effects and protein changes annotated for the VCF ALT allele `alt`; None without annotations."""
    genes: dict[str, None] = {}
    effects: dict[str, None] = {}
    proteins: dict[str, None] = {}
    rows: list[tuple[str, str, str]] = []  # gene, effects (& separated), protein change
    if ann:
        for e in _entries(ann, _ANN_FIELDS):
            if e.get("Allele") == alt:
                rows.append((e.get("Gene_Name", ""), e.get("Annotation", ""), e.get("HGVS.p", "")))
    if csq and csq_order:
        for e in _entries(csq, csq_order):
            # VEP writes the allele without the shared first base for indels; match both forms.
            if e.get("Allele") in (alt, alt[1:] or "-"):
                rows.append((e.get("SYMBOL", ""), e.get("Consequence", ""), e.get("HGVSp", "").split(":")[-1]))
    for gene, effect_names, protein in rows:
        if gene:
            genes[gene] = None
        for name in effect_names.split("&"):
            if name:
                effects[name] = None
        if protein.startswith("p.") and protein != "p.?":
            proteins[protein[2:]] = None
    if not rows:
        return None
    out: dict[str, Any] = {}
    if genes:
        out["geneIds"] = list(genes)
    known = [{"id": SO_TERMS[n], "label": n} for n in effects if n in SO_TERMS]
    if known:
        out["molecularEffects"] = known
    if proteins:
        out["aminoacidChanges"] = list(proteins)
    return out or None
