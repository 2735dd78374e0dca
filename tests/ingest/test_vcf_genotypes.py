"""Per-population counts in one pass equal counting each population's samples on its own."""

from __future__ import annotations

import numpy as np

from ingest.vcf.genotypes import GenotypeTable, population_index

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
