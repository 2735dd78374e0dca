"""Split and trim reproduce `bcftools norm -m -any` record for record on the public 1000 Genomes slices."""

from __future__ import annotations

from pathlib import Path

import pytest
from cyvcf2 import VCF

from beacon.genome.alleles import trim
from ingest.vcf.normalize import Allele, sequence_type, split
from tests.conftest import DATA

SLICES = [
    DATA / "vcf/1000g_grch37/1000G_phase3_chr1_10000-200000_2504samples",
    DATA / "vcf/1000g_grch38/1000G_GRCh38_chr22_10516173-11016173_2548samples",
]


def sites(path: Path) -> list[tuple[str, int, str, str]]:
    return [(r.CHROM, r.POS, r.REF, r.ALT[0]) for r in VCF(str(path), samples=[])]


@pytest.mark.parametrize("base", SLICES, ids=lambda p: p.name)
def test_normalised_records_equal_bcftools_norm_output(base: Path) -> None:
    ours = []
    for r in VCF(str(base.with_name(base.name + ".vcf.gz")), samples=[]):
        alleles, skipped = split(r.POS, r.REF, list(r.ALT))
        assert skipped == []
        ours += [(r.CHROM, a.pos, a.ref, a.alt) for a in alleles]
    # No record here needs left-shifting through a repeat, so the reference FASTA is not needed.
    assert ours == sites(base.with_name(base.name + ".bcftools_norm_expected.vcf.gz"))


@pytest.mark.parametrize(
    ("pos", "ref", "alt", "expected"),
    [
        (66381, "TATATA", "AATATA", (66381, "T", "A")),
        (66381, "TATATA", "T", (66381, "TATATA", "T")),
        (100, "CTG", "CAG", (101, "T", "A")),
        (100, "GCAC", "GCAT", (103, "C", "T")),
        (100, "AT", "ATT", (100, "A", "AT")),
        (100, "ATTT", "AT", (100, "ATT", "A")),
    ],
    ids=[
        "suffix trimmed to a SNV",
        "deletion keeps its anchor",
        "MNV inner base",
        "last base",
        "insertion",
        "deletion",
    ],
)
def test_trim(pos: int, ref: str, alt: str, expected: tuple[int, str, str]) -> None:
    assert trim(pos, ref, alt) == expected


def test_split_keeps_allele_numbers_and_skips_spanning_deletions() -> None:
    alleles, skipped = split(70000, "GT", ["G", "*", "GT", "<DEL>"])
    assert alleles == [Allele(70000, "GT", "G", 1), Allele(70000, "GT", "<DEL>", 4)]
    assert skipped == [(2, "spanning deletion allele '*'"), (3, "ALT equals REF")]


@pytest.mark.parametrize(
    ("ref", "alt", "kind"),
    [
        ("A", "G", "SNP"),
        ("AC", "GT", "MNP"),
        ("AT", "A", "DEL"),
        ("A", "AT", "INS"),
        ("AT", "GC", "MNP"),
        ("ATG", "C", "INDEL"),
    ],
)
def test_sequence_types(ref: str, alt: str, kind: str) -> None:
    assert sequence_type(ref, alt) == kind


def test_the_reference_copy_number_of_a_haplotype_is_skipped_not_rejected() -> None:
    alleles, skipped = split(100, "A", ["<CN0>", "<CN1>", "<CN2>", "<CN3>"])
    assert [a.alt for a in alleles] == ["<CN0>", "<CN2>", "<CN3>"]
    assert skipped == [(2, "reference copy number <CN1> (one copy per haplotype)")]
