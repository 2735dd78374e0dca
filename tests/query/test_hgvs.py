"""Genomic HGVS finds the same stored allele a sequence query finds; other expressions are exact ids or clear errors."""

from __future__ import annotations

import pytest

from beacon.errors import InvalidRequest
from beacon.genome.hgvs import GenomicAllele, HgvsError, parse
from beacon.model.plan import Compare, Field, HasKey, Or
from beacon.query.variants import hgvs_condition


@pytest.mark.parametrize(
    ("expression", "allele"),
    [
        ("NC_000017.11:g.43045703C>T", GenomicAllele("17", "GRCh38", "substitution", 43045702, 43045703, 1, "C", "T")),
        ("NC_000013.11:g.32340301del", GenomicAllele("13", "GRCh38", "deletion", 32340299, 32340301, 1)),
        ("NC_000001.10:g.66382_66386del", GenomicAllele("1", "GRCh37", "deletion", 66380, 66386, 5)),
        ("chr7:g.117559592_117559593insTT", GenomicAllele("7", None, "insertion", 117559591, 117559592, 2, alt="TT")),
        ("NC_000017.11:g.100_102dup", GenomicAllele("17", "GRCh38", "duplication", 98, 99, 3)),
        ("NC_000017.11:g.100_101delinsGTA", GenomicAllele("17", "GRCh38", "delins", 99, 101, 3, alt="GTA")),
    ],
    ids=["substitution", "single-base deletion", "deletion range", "insertion", "duplication", "delins"],
)
def test_genomic_expressions_become_stored_alleles(expression: str, allele: GenomicAllele) -> None:
    assert parse(expression) == allele


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("NC_000017.11:c.123A>G", "not a genomic HGVS expression"),
        ("NC_999999.1:g.1A>G", "not a chromosome"),
        ("NC_000017.11:g.100_99del", "ends before it starts"),
        ("NC_000017.11:g.100_105insA", "adjacent positions"),
        ("NC_000017.11:g.100inv", "unsupported genomic edit"),
    ],
)
def test_unsupported_expressions_say_why(expression: str, message: str) -> None:
    with pytest.raises(HgvsError, match=message):
        parse(expression)


def test_a_substitution_matches_by_id_or_by_allele() -> None:
    condition = hgvs_condition("NC_000017.11:g.43045703C>T")
    assert isinstance(condition, Or)
    assert condition.parts[0] == HasKey("hgvs", ("NC_000017.11:g.43045703C>T",))
    assert Compare(Field.START, "=", 43045702) in condition.parts[1].parts  # type: ignore[union-attr]


def test_transcript_expressions_match_annotated_ids_only() -> None:
    assert hgvs_condition("NM_000059.4:c.5946del") == HasKey("hgvs", ("NM_000059.4:c.5946del",))


def test_an_unparseable_genomic_expression_is_a_400() -> None:
    with pytest.raises(InvalidRequest, match="genomicAlleleShortForm: .*unsupported genomic edit"):
        hgvs_condition("NC_000017.11:g.100inv")
