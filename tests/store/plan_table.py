"""The plans and variant queries both store translators are golden-tested on (one table, two golden files)."""

from __future__ import annotations

from beacon.model import plan as nodes
from beacon.model.request import VariantParams

ALLELE = nodes.And(
    (
        nodes.Compare(nodes.Field.CHROM, "=", "13"),
        nodes.Compare(nodes.Field.START, "=", 5),
        nodes.Compare(nodes.Field.ALT, "=", "G"),
    )
)
OVERLAPS_10_TO_20 = nodes.And((nodes.Compare(nodes.Field.START, "<", 20), nodes.Compare(nodes.Field.END, ">", 10)))

PLANS = {
    "range query page": nodes.Query("g_variants", ("d1", "d2"), OVERLAPS_10_TO_20, 20, 10),
    "wildcard allele": nodes.Query("g_variants", ("d1",), nodes.In(nodes.Field.ALT, ("A", "C", "G", "T"))),
    "carriers of a lookup": nodes.Query("individuals", ("d1",), nodes.HasKey("individual", ("HG1", "HG2"))),
    "ontology or alphanumeric": nodes.Query(
        "individuals", ("d1",), nodes.Or((nodes.HasTerm(("HP:0001250",)), nodes.HasValue("measures.value", ">", 30.0)))
    ),
    "not equal text": nodes.Query("runs", ("d1",), nodes.HasValue("libraryStrategy", "!=", "WGS")),
    "negated pattern": nodes.Query("runs", ("d1",), nodes.Not(nodes.HasValue("platform", "=", "Ill%", pattern=True))),
    # SQLite holds population terms as one row of names per record, and a record's own id in its id column.
    "a population in a range": nodes.Query(
        "g_variants", ("d1",), nodes.And((*OVERLAPS_10_TO_20.parts, nodes.HasTerm(("population:EUR",))))
    ),
    "ontology terms and populations": nodes.Query(
        "g_variants",
        ("d1",),
        nodes.And(
            (
                nodes.HasTerm(("GENO:0000458",)),
                nodes.HasTerm(("SO:0001583",)),
                nodes.HasTerm(("population:EUR", "population:AFR", "SO:0001819")),
            )
        ),
    ),
    "a variant id pattern": nodes.Query(
        "g_variants", ("d1",), nodes.HasValue("variantInternalId", "=", "22:1605%", pattern=True)
    ),
    "an individual's id not equal": nodes.Query("individuals", ("d1",), nodes.HasValue("id", "!=", "HG00096")),
    "nothing": nodes.Query("biosamples", ("d1",), nodes.Nothing()),
    "unfiltered": nodes.Query("cohorts", ("d1",)),
}
RELATED_PLANS = {
    "carriers of an allele": nodes.Query(
        "individuals", ("d1", "d2"), nodes.Related("g_variants", "individual", ALLELE)
    ),
    "a variant's individuals lookup": nodes.Query(
        "individuals", ("d1", "d2"), nodes.Related("g_variants", "individual", nodes.Compare(nodes.Field.ID, "=", "v1"))
    ),
}


def variant_queries(gene: str, variant_type: str) -> dict[str, VariantParams]:
    """One request of each variant query type, asking for `gene` and, in a range, for `variant_type`."""
    return {
        "sequence": VariantParams(referenceName="22", start=(16050074,), alternateBases="A"),
        "range": VariantParams(referenceName="22", start=(16060000,), end=(16070000,)),
        "bracket": VariantParams(referenceName="22", start=(16060000, 16061000), end=(16060001, 16062000)),
        "gene": VariantParams(geneId=gene),
        "amino acid change": VariantParams(aminoacidChange="V600E"),
        "genomic HGVS": VariantParams(genomicAlleleShortForm="NC_000022.10:g.16050075A>G"),
        "variant type in a range": VariantParams(
            referenceName="22", start=(16060000,), end=(16070000,), variantType=variant_type
        ),
    }
