"""g_variant parameters become the plan values the spec's query types call for."""

from __future__ import annotations

import pytest

from beacon.errors import InvalidRequest
from beacon.model.plan import And, Compare, Field, HasKey, In
from beacon.model.request import VariantParams
from beacon.query.variants import variant_condition

CHR13 = Compare(Field.CHROM, "=", "13")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            VariantParams(referenceName="chr13", start=(32340299,), referenceBases="GT", alternateBases="G"),
            And(
                (
                    CHR13,
                    Compare(Field.START, "=", 32340299),
                    Compare(Field.REF, "=", "GT"),
                    Compare(Field.ALT, "=", "G"),
                )
            ),
            id="a sequence query pins chromosome, start and both alleles",
        ),
        pytest.param(
            VariantParams(referenceName="13", start=(100,), end=(200,)),
            And((CHR13, Compare(Field.START, "<", 200), Compare(Field.END, ">", 100))),
            id="a range query matches any overlap with [start, end)",
        ),
        pytest.param(
            VariantParams(referenceName="13", start=(10, 20), end=(30, 40), variantType="DEL"),
            And(
                (
                    CHR13,
                    Compare(Field.START, ">=", 10),
                    Compare(Field.START, "<=", 20),
                    Compare(Field.END, ">=", 30),
                    Compare(Field.END, "<=", 40),
                    Compare(Field.TYPE, "=", "DEL"),
                )
            ),
            id="a bracket query bounds start and end separately",
        ),
        pytest.param(
            VariantParams(referenceName="NC_000013.11", start=(5,), alternateBases="N"),
            And(
                (
                    CHR13,
                    Compare(Field.ASSEMBLY, "=", "GRCh38"),
                    Compare(Field.START, "=", 5),
                    In(Field.ALT, ("A", "C", "G", "T")),
                )
            ),
            id="a RefSeq accession implies its assembly and N is any single base",
        ),
        pytest.param(
            VariantParams(assemblyId="hg19", referenceName="X", start=(5,), variantType="SNP"),
            And(
                (
                    Compare(Field.ASSEMBLY, "=", "GRCh37"),
                    Compare(Field.CHROM, "=", "X"),
                    Compare(Field.START, "=", 5),
                    Compare(Field.TYPE, "=", "SNP"),
                )
            ),
            id="assembly synonyms are made canonical",
        ),
        pytest.param(
            VariantParams(geneId="BRCA2", variantMinLength=10, variantMaxLength=100),
            And((Compare(Field.LENGTH, ">=", 10), Compare(Field.LENGTH, "<=", 100), HasKey("gene", ("BRCA2",)))),
            id="a gene query with length bounds",
        ),
        pytest.param(
            VariantParams(genomicAlleleShortForm="NM_000059.4:c.5946del"),
            HasKey("hgvs", ("NM_000059.4:c.5946del",)),
            id="a transcript HGVS id is an exact key",
        ),
    ],
)
def test_query_types_become_plan_values(params: VariantParams, expected: object) -> None:
    assert variant_condition(params) == expected


def test_no_parameters_mean_no_condition() -> None:
    assert variant_condition(VariantParams()) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (VariantParams(start=(5,), alternateBases="A"), "referenceName is required"),
        (VariantParams(referenceName="1", end=(5,)), "start is required with end"),
        (VariantParams(referenceName="1", start=(5,)), "needs alternateBases or variantType"),
        (VariantParams(referenceName="1", start=(9,), end=(5,)), "end must be greater than start"),
        (VariantParams(referenceName="1", start=(1, 2), end=(5,)), "two start and two end values"),
        (VariantParams(referenceName="1", start=(3, 2), end=(5, 6)), "[min, max]"),
        (VariantParams(referenceName="chr99", start=(5,), alternateBases="A"), "'chr99' is not a chromosome"),
        (VariantParams(assemblyId="hg99", referenceName="1", start=(5,), alternateBases="A"), "known: GRCh38"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_incomplete_queries_are_rejected_with_the_reason(params: VariantParams, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message.replace("[", r"\[").replace("]", r"\]")):
        variant_condition(params)


def test_mate_name_selects_breakends_by_mate_chromosome() -> None:
    condition = variant_condition(VariantParams(referenceName="chr1", mateName="chr2"))
    assert condition == And((HasKey("mate", ("2",)), Compare(Field.CHROM, "=", "1")))
    with pytest.raises(InvalidRequest, match="mateName: 'chrQ' is not a chromosome"):
        variant_condition(VariantParams(mateName="chrQ"))


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("EFO:0030067", ("DEL",)),
        ("efo:0030070", ("DUP",)),
        ("INDEL", ("INDEL", "DEL", "INS")),
        ("SO:0001019", ("CNV", "DEL", "DUP")),
        ("SNV", ("SNP",)),
        ("TRA", ("BND",)),
        ("MY-OWN-TYPE", ("MY-OWN-TYPE",)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_variant_type_synonyms(query: str, stored: tuple[str, ...]) -> None:
    condition = variant_condition(VariantParams(referenceName="1", start=(5,), variantType=query))
    assert isinstance(condition, And)
    expected = Compare(Field.TYPE, "=", stored[0]) if len(stored) == 1 else In(Field.TYPE, stored)
    assert condition.parts[-1] == expected
