"""Per-population counts in one pass equal counting each population's samples on its own."""

from __future__ import annotations

import numpy as np
from cyvcf2 import VCF

from beacon.store.carriers import ZYGOSITIES
from ingest.vcf.genotypes import GenotypeTable, PopulationIndex, population_index
from ingest.vcf.samples import read_samples
from tests.conftest import DATA

# Calls as cyvcf2's genotype.array(): two allele columns and a phasing flag; -1 missing, -2 haploid end.
CALLS = np.array(
    [[0, 1, 0], [1, 1, 1], [-1, -1, 0], [1, 2, 0], [1, -2, 0], [0, -2, 0], [2, 2, 0]],
    dtype=np.int16,
)
SAMPLES = ["a", "b", "c", "d", "e", "f", "g"]
POPULATION = {"a": "GBR", "b": "GBR", "c": "YRI", "d": "YRI", "e": "CHB", "g": "GBR"}


def test_counts_by_group_equal_masked_counts() -> None:
    table = GenotypeTable(CALLS)
    groups = population_index(SAMPLES, POPULATION)
    assert groups.labels == ("CHB", "GBR", "YRI")
    for allele in (1, 2):
        grouped = table.counts_by_group(allele, groups)
        for label, counts in zip(groups.labels, grouped, strict=True):
            rows = np.array([POPULATION.get(s) == label for s in SAMPLES])
            assert counts == table.counts(allele, rows), (allele, label)


def test_samples_without_a_population_count_only_in_the_total() -> None:
    table = GenotypeTable(CALLS)
    grouped = table.counts_by_group(1, population_index(SAMPLES, POPULATION))
    total = table.counts(1)
    # Sample f (haploid reference) has no population: it adds one allele to AN of the total only.
    assert sum(c.allele_number for c in grouped) == total.allele_number - 1
    assert sum(c.allele_count for c in grouped) == total.allele_count


def _assert_tallies_equal_plain(table: GenotypeTable, allele: int, groups: PopulationIndex | None) -> None:
    tallies = table.tallies(allele, groups)
    assert tallies.total == table.counts(allele)
    assert tallies.carriers.tolist() == [c.sample_index for c in table.carriers(allele)]
    assert [ZYGOSITIES[c] for c in tallies.codes.tolist()] == [c.zygosity for c in table.carriers(allele)]
    assert tallies.by_group == (table.counts_by_group(allele, groups) if groups is not None else [])
    # The carriers split by zygosity (the loader's sets) are the same carriers.
    by_code = table.zygosity_groups(allele, groups, table.tallies(allele, groups, carriers=False).total)
    for code, positions in enumerate(by_code):
        expected = [c.sample_index for c in table.carriers(allele) if c.zygosity == ZYGOSITIES[code]]
        assert (positions.tolist() if positions is not None else []) == expected, (allele, code)
        assert positions is None or len(positions) > 0


def test_one_pass_tallies_equal_the_plain_counts_on_edge_cases() -> None:
    table = GenotypeTable(CALLS)
    groups = population_index(SAMPLES, POPULATION)
    for allele in (0, 1, 2, 3):
        _assert_tallies_equal_plain(table, allele, groups)
        _assert_tallies_equal_plain(table, allele, None)


def test_one_pass_tallies_of_triploid_calls_take_the_plain_way() -> None:
    calls = np.array([[0, 1, 1, 0], [1, -2, -2, 0], [1, 1, 1, 1]], dtype=np.int16)
    table = GenotypeTable(calls)
    tallies = table.tallies(1, None)
    assert tallies.total.allele_count == 6
    assert tallies.total.hemizygous == 1
    _assert_tallies_equal_plain(table, 1, None)


def test_one_pass_tallies_equal_the_plain_counts_on_1000_genomes() -> None:
    """Every allele of the 2,504-sample slice (multi-allelic sites included) with the 1000 Genomes populations."""
    folder = DATA / "vcf/1000g_grch37"
    vcf = VCF(str(folder / "1000G_phase3_chr1_10000-200000_2504samples.vcf.gz"))
    population = {s: i.population for s, i in read_samples(folder / "1000G_sample_metadata_candig.json").items()}
    groups = population_index(list(vcf.samples), {s: p for s, p in population.items() if p})
    assert len(groups.labels) > 3
    alleles, multi_allelic = 0, 0
    for record in vcf:
        table = GenotypeTable(record.genotype.array())
        for allele in range(1, len(record.ALT) + 1):
            _assert_tallies_equal_plain(table, allele, groups)
            alleles += 1
        multi_allelic += len(record.ALT) > 1
    assert alleles > 1000
    assert multi_allelic >= 2
