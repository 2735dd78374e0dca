"""g_variant request parameters into plan conditions: sequence, range, bracket, gene, amino-acid and HGVS queries.

Coordinates are 0-based half-open as in the Beacon request parameters; stored variants use the same.
"""

from __future__ import annotations

from dataclasses import replace

from beacon.errors import InvalidRequest
from beacon.genome import hgvs
from beacon.genome.alleles import is_trimmable, trim
from beacon.genome.assemblies import (
    canonical_assembly,
    canonical_chromosome,
    refseq_chromosome,
)
from beacon.genome.genes import GeneRegion
from beacon.genome.protein import canonical_protein_change
from beacon.genome.variant_types import stored_types
from beacon.model.plan import And, Compare, Condition, Field, HasKey, In, Or, all_of
from beacon.model.request import VariantParams
from beacon.query.assemblies import unknown_assembly_message

_ANY_BASE = ("A", "C", "G", "T")


def _reference(params: VariantParams) -> list[Condition]:
    name = params.referenceName
    assert name is not None
    conditions: list[Condition] = []
    found = refseq_chromosome(name)
    chrom = found[0] if found else canonical_chromosome(name)
    if chrom is None:
        msg = f"referenceName: {name!r} is not a chromosome (1-22, X, Y, MT, with or without chr, or NC_ accession)"
        raise InvalidRequest(msg)
    conditions.append(Compare(Field.CHROM, "=", chrom))
    if found and found[1] and params.assemblyId is None:
        # A versioned RefSeq accession names its assembly.
        conditions.append(Compare(Field.ASSEMBLY, "=", found[1]))
    return conditions


def _assembly(params: VariantParams) -> list[Condition]:
    if params.assemblyId is None:
        return []
    canonical = canonical_assembly(params.assemblyId)
    if canonical is None:
        raise InvalidRequest(unknown_assembly_message(params.assemblyId))
    return [Compare(Field.ASSEMBLY, "=", canonical)]


def _alleles(params: VariantParams) -> list[Condition]:
    out: list[Condition] = []
    if params.referenceBases is not None and params.referenceBases != "N":
        out.append(Compare(Field.REF, "=", params.referenceBases))
    alt = params.alternateBases
    if alt is not None:
        # "N" is a wildcard for any single base (docs/variant-queries.md).
        out.append(In(Field.ALT, _ANY_BASE) if alt == "N" else Compare(Field.ALT, "=", alt))
    return out


def _lengths(params: VariantParams) -> list[Condition]:
    out: list[Condition] = []
    if params.variantType is not None:
        types = stored_types(params.variantType)
        out.append(Compare(Field.TYPE, "=", types[0]) if len(types) == 1 else In(Field.TYPE, types))
    if params.variantMinLength is not None:
        out.append(Compare(Field.LENGTH, ">=", params.variantMinLength))
    if params.variantMaxLength is not None:
        out.append(Compare(Field.LENGTH, "<=", params.variantMaxLength))
    return out


def _gene(params: VariantParams, regions: tuple[GeneRegion, ...]) -> Condition:
    """Annotated with the gene, or (with a gene table) overlapping one of its regions."""
    assert params.geneId is not None
    annotated = HasKey("gene", (params.geneId,))
    if not regions:
        return annotated
    overlaps = [
        And((Compare(Field.CHROM, "=", r.chrom), Compare(Field.START, "<", r.end), Compare(Field.END, ">", r.start)))
        for r in regions
    ]
    return Or((annotated, *overlaps))


def variant_condition(params: VariantParams, gene_regions: tuple[GeneRegion, ...] = ()) -> Condition | None:
    """The condition on g_variant records for these parameters; None when none were given.

    :raise InvalidRequest: an incomplete or contradictory combination.
    :raise NotImplementedQuery: a query type this version cannot answer.
    """
    if params.is_empty():
        return None
    params = stored_form(params)
    parts: list[Condition] = [*_assembly(params)]
    if params.mateName is not None:
        mate = canonical_chromosome(params.mateName)
        if mate is None:
            msg = f"mateName: {params.mateName!r} is not a chromosome"
            raise InvalidRequest(msg)
        # Breakends whose mate lies on that chromosome (fusions, translocations).
        parts.append(HasKey("mate", (mate,)))
    if params.start or params.end:
        if params.referenceName is None:
            msg = "referenceName is required with start and end"
            raise InvalidRequest(msg)
        if not params.start:
            msg = "start is required with end"
            raise InvalidRequest(msg)
    if params.referenceName is not None:
        if not params.start and params.geneId is None and params.mateName is None:
            msg = "start is required with referenceName"
            raise InvalidRequest(msg)
        parts.extend(_reference(params))
    starts, ends = params.start, params.end
    if len(starts) == 2 or len(ends) == 2:
        if len(starts) != 2 or len(ends) != 2:
            msg = "bracket queries need two start and two end values"
            raise InvalidRequest(msg)
        if starts[0] > starts[1] or ends[0] > ends[1]:
            msg = "bracket query: start and end ranges must be [min, max]"
            raise InvalidRequest(msg)
        parts += [
            Compare(Field.START, ">=", starts[0]),
            Compare(Field.START, "<=", starts[1]),
            Compare(Field.END, ">=", ends[0]),
            Compare(Field.END, "<=", ends[1]),
        ]
    elif starts and ends:
        if ends[0] <= starts[0]:
            msg = "end must be greater than start"
            raise InvalidRequest(msg)
        # Range query: any overlap with [start, end).
        parts += [Compare(Field.START, "<", ends[0]), Compare(Field.END, ">", starts[0])]
    elif starts:
        if params.alternateBases is None and params.variantType is None:
            msg = "a sequence query (start without end) needs alternateBases or variantType"
            raise InvalidRequest(msg)
        parts.append(Compare(Field.START, "=", starts[0]))
    parts += _alleles(params) + _lengths(params)
    if params.geneId is not None:
        parts.append(_gene(params, gene_regions))
    if params.aminoacidChange is not None:
        parts.append(HasKey("aminoacidChange", (canonical_protein_change(params.aminoacidChange),)))
    if params.genomicAlleleShortForm is not None:
        parts.append(hgvs_condition(params.genomicAlleleShortForm))
    return all_of(*parts)


def stored_form(params: VariantParams) -> VariantParams:
    """A sequence query (one start, no end) of concrete alleles trimmed as the loader stores them.

    `start=[45870000] CGAT>TGAT` asks for what is stored as `start=45870000 C>T`; `AT>ATT` for `A>AT`.
    Anything else is returned unchanged.
    """
    ref, alt = params.referenceBases, params.alternateBases
    if ref is None or alt is None or len(params.start) != 1 or params.end or not is_trimmable(ref, alt):
        return params
    start, ref, alt = trim(params.start[0], ref, alt)
    return replace(params, start=(start,), referenceBases=ref, alternateBases=alt)


def hgvs_condition(expression: str) -> Condition:
    """Variants carrying this HGVS id, or, for a genomic (g.) expression, the same allele however it is named.

    :raise InvalidRequest: a g. expression that cannot be parsed.
    """
    exact = HasKey("hgvs", (hgvs.canonical_hgvs(expression),))
    if ":g." not in expression:
        # c. and p. expressions need transcript knowledge: they match annotated ids only.
        return exact
    try:
        allele = hgvs.parse(expression)
    except hgvs.HgvsError as exc:
        msg = f"genomicAlleleShortForm: {exc}"
        raise InvalidRequest(msg) from None
    parts: list[Condition] = [Compare(Field.CHROM, "=", allele.chrom)]
    if allele.assembly:
        parts.append(Compare(Field.ASSEMBLY, "=", allele.assembly))
    parts += [Compare(Field.START, "=", allele.start), Compare(Field.END, "=", allele.end)]
    if allele.kind == "substitution":
        parts += [Compare(Field.REF, "=", str(allele.ref)), Compare(Field.ALT, "=", str(allele.alt))]
    elif allele.kind == "delins":
        parts += [Compare(Field.ALT, "=", str(allele.alt))]
    else:
        stored = ("DEL", "INDEL") if allele.kind == "deletion" else ("INS", "INDEL")
        parts += [In(Field.TYPE, stored), Compare(Field.LENGTH, "=", allele.length)]
    named = all_of(*parts)
    assert named is not None
    return Or((exact, named))
