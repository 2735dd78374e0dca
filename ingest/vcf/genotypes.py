"""Per-allele carriers and counts from a cyvcf2 genotype array, overall and per population.

Missing calls (-1) do not count towards the allele number; haploid calls (the second slot is the
vector-end marker -2) count one allele, and a carrier of a haploid call is hemizygous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

HETEROZYGOUS = {"id": "GENO:0000458", "label": "heterozygous"}
HOMOZYGOUS = {"id": "GENO:0000136", "label": "homozygous"}
HEMIZYGOUS = {"id": "GENO:0000134", "label": "hemizygous"}
# Zygosity codes of GenotypeTable.reduced, indexes into ZYGOSITIES.
HET, HOM, HEMI = 0, 1, 2
ZYGOSITIES = (HETEROZYGOUS, HOMOZYGOUS, HEMIZYGOUS)


@dataclass(frozen=True)
class AlleleCounts:
    """Counts of one ALT allele among a group of samples."""

    allele_count: int
    allele_number: int
    homozygous: int
    heterozygous: int
    hemizygous: int

    @property
    def frequency(self) -> float:
        return self.allele_count / self.allele_number if self.allele_number else 0.0


@dataclass(frozen=True)
class Carrier:
    sample_index: int
    zygosity: dict[str, str]


class GenotypeTable:
    """The genotype calls of one VCF record, reduced per allele."""

    def __init__(self, calls: npt.NDArray[np.int16]) -> None:
        alleles = calls[:, :-1]  # the last column is the phasing flag
        self._alleles = alleles
        self._called = alleles >= 0
        self._ploidy = (alleles != -2).sum(axis=1)

    def counts(self, allele: int, rows: npt.NDArray[np.bool_] | None = None) -> AlleleCounts:
        hits = (self._alleles == allele).sum(axis=1)
        called = self._called.sum(axis=1)
        haploid = self._ploidy == 1
        if rows is not None:
            hits, called, haploid = hits[rows], called[rows], haploid[rows]
        diploid_hits = hits[~haploid]
        return AlleleCounts(
            allele_count=int(hits.sum()),
            allele_number=int(called.sum()),
            homozygous=int((diploid_hits >= 2).sum()),
            heterozygous=int((diploid_hits == 1).sum()),
            hemizygous=int(((hits >= 1) & haploid).sum()),
        )

    def counts_by_group(self, allele: int, groups: PopulationIndex) -> list[AlleleCounts]:
        """Counts per population in one pass (one bincount per measure instead of a mask per population)."""
        hits = (self._alleles == allele).sum(axis=1)
        called = self._called.sum(axis=1)
        haploid = self._ploidy == 1
        size = len(groups.labels) + 1  # the last bin collects samples without a population

        def per_group(weights: npt.NDArray[Any]) -> list[int]:
            sums = np.bincount(groups.index, weights=weights, minlength=size)
            return [int(v) for v in sums[:-1]]

        ac, an = per_group(hits), per_group(called)
        hom = per_group((~haploid) & (hits >= 2))
        het = per_group((~haploid) & (hits == 1))
        hemi = per_group(haploid & (hits >= 1))
        return [AlleleCounts(*values) for values in zip(ac, an, hom, het, hemi, strict=True)]

    def reduced(self, allele: int) -> tuple[AlleleCounts, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Counts over all samples, carrier sample indexes (ascending) and their ZYGOSITIES codes, without loops.

        The same values as `counts`, `carriers` (in one pass, for the loader's hot path).
        """
        hits = (self._alleles == allele).sum(axis=1)
        haploid = self._ploidy == 1
        carriers = np.flatnonzero(hits)
        carrier_hits, carrier_haploid = hits[carriers], haploid[carriers]
        codes = np.where(carrier_haploid, HEMI, np.where(carrier_hits >= 2, HOM, HET))
        hemizygous = int(carrier_haploid.sum())
        homozygous = int((codes == HOM).sum())
        counts = AlleleCounts(
            allele_count=int(hits.sum()),
            allele_number=int(self._called.sum()),
            homozygous=homozygous,
            heterozygous=len(carriers) - homozygous - hemizygous,
            hemizygous=hemizygous,
        )
        return counts, carriers, codes

    def carriers(self, allele: int) -> list[Carrier]:
        hits = (self._alleles == allele).sum(axis=1)
        out = []
        for index in np.flatnonzero(hits).tolist():
            if self._ploidy[index] == 1:
                zygosity = HEMIZYGOUS
            elif hits[index] >= 2:
                zygosity = HOMOZYGOUS
            else:
                zygosity = HETEROZYGOUS
            out.append(Carrier(index, zygosity))
        return out


@dataclass(frozen=True)
class PopulationIndex:
    """Population labels and, per VCF sample, the index of its label (len(labels) when it has none)."""

    labels: tuple[str, ...]
    index: npt.NDArray[np.intp]


def population_index(samples: Sequence[str], population_of: dict[str, str]) -> PopulationIndex:
    labels = tuple(sorted({population_of[s] for s in samples if population_of.get(s)}))
    position = {label: i for i, label in enumerate(labels)}
    index = np.array([position.get(population_of.get(s, ""), len(labels)) for s in samples], dtype=np.intp)
    return PopulationIndex(labels, index)
