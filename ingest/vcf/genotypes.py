"""Per-allele carriers and counts from a cyvcf2 genotype array, overall and per population.

Missing calls (-1) do not count towards the allele number; haploid calls (the second slot is the
vector-end marker -2) count one allele, and a carrier of a haploid call is hemizygous.

`counts`, `counts_by_group` and `carriers` say what is counted in the plainest way; `tallies`, the
loader's hot path, gives all of it in one pass, and `zygosity_groups` the same carriers split by
zygosity (what becomes the sets); both are tested equal to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from beacon.store.carriers import HEMIZYGOUS, HETEROZYGOUS, HOMOZYGOUS, ZYGOSITIES

# Zygosity codes of GenotypeTable.tallies, indexes into ZYGOSITIES: the order of a variant's carrier sets.
HET, HOM, HEMI = 0, 1, 2
_NONE = np.zeros(0, dtype=np.intp)
# GenotypeTable._pairs: each sample's pair cell, the pairs' histogram per group, the code width.
_Pairs = tuple[npt.NDArray[np.int16], npt.NDArray[np.int64], int]
# Carriers' file positions per ZYGOSITIES code (ascending), None for a code without carriers.
ZygosityGroups = tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None, npt.NDArray[np.intp] | None]
# Above this allele index the pair codes would not fit in int16 (GenotypeTable._pairs).
_MAX_PAIR_ALLELE = 150


@lru_cache(maxsize=64)
def _group_offsets(groups: PopulationIndex, cells: int) -> npt.NDArray[np.intp]:
    """Each sample's group's first histogram cell (PopulationIndex hashes by identity: one per file)."""
    offsets: npt.NDArray[np.intp] = groups.index * cells
    return offsets


@cache
def _pair_table(width: int, allele: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Per call pair code (see `GenotypeTable._pairs`): AC, AN, hom, het, hemi it adds for `allele`; and
    its category (0 no copy of the allele, else its ZYGOSITIES code + 1)."""
    table = np.zeros((width * width, 6), dtype=np.int64)
    for first in range(-2, width - 2):
        for second in range(-2, width - 2):
            hits = (first == allele) + (second == allele)
            haploid = second == -2
            zygosity = HEMI if haploid else HOM if hits >= 2 else HET
            category = zygosity + 1 if hits else 0
            table[(first + 2) * width + second + 2] = (
                hits, (first >= 0) + (second >= 0),
                category == HOM + 1, category == HET + 1, category == HEMI + 1, category,
            )  # fmt: skip
    # The categories in int8: np.take over a byte table reads half as much as over int64 (per sample).
    return np.ascontiguousarray(table[:, :5]), table[:, 5].astype(np.int8)


class AlleleCounts(NamedTuple):
    """Counts of one ALT allele among a group of samples (a tuple: made for every population of every allele)."""

    allele_count: int
    allele_number: int
    homozygous: int
    heterozygous: int
    hemizygous: int

    @property
    def frequency(self) -> float:
        return self.allele_count / self.allele_number if self.allele_number else 0.0


@dataclass(frozen=True)
class Tallies:
    """One allele's counts over all samples and per population (PopulationIndex order), and its carriers."""

    total: AlleleCounts
    by_group: list[AlleleCounts]
    carriers: npt.NDArray[np.intp]  # sample indexes, ascending
    codes: npt.NDArray[np.intp]  # their ZYGOSITIES codes


def _split(carriers: npt.NDArray[np.intp], codes: npt.NDArray[np.intp], present: Sequence[int]) -> ZygosityGroups:
    het, hom, hemi = (carriers[codes == code] if present[code] else None for code in (HET, HOM, HEMI))
    return het, hom, hemi


@dataclass(frozen=True)
class Carrier:
    sample_index: int
    zygosity: dict[str, str]


class GenotypeTable:
    """The genotype calls of one VCF record, reduced per allele."""

    def __init__(self, calls: npt.NDArray[np.int16]) -> None:
        self._calls = calls
        self._alleles = calls[:, :-1]  # the last column is the phasing flag
        self._histogram: tuple[PopulationIndex | None, _Pairs] | None = None

    # Computed when the plain methods ask: `tallies` needs neither.
    @cached_property
    def _called(self) -> npt.NDArray[np.bool_]:
        return self._alleles >= 0

    @cached_property
    def _ploidy(self) -> npt.NDArray[np.intp]:
        ploidy: npt.NDArray[np.intp] = (self._alleles != -2).sum(axis=1)
        return ploidy

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

    def tallies(self, allele: int, groups: PopulationIndex | None, *, carriers: bool = True) -> Tallies:
        """`counts`, `counts_by_group` (when `groups`) and, when asked, the carriers with their codes.

        Diploid (or haploid) calls are counted once per record, whatever the allele: a histogram of the
        call pairs per population (`_pairs`, one bincount). An allele's counts are that histogram times
        a small table of what each pair means for it (`_pair_table`). Calls of more than two alleles
        take the plain way.
        """
        pairs = self._pairs(groups)
        if pairs is None:
            return self._plain_tallies(allele, groups)
        cells, histogram, width = pairs
        measure_table, categories = _pair_table(width, allele)
        measures = (histogram @ measure_table).tolist()  # per group: AC, AN, hom, het, hemi
        if groups is None:  # one row: the total
            by_group, total = [], AlleleCounts._make(measures[0])
        else:
            by_group = list(map(AlleleCounts._make, measures[:-1]))
            total = AlleleCounts._make(map(sum, zip(*measures, strict=True)))
        if not carriers:
            return Tallies(total, by_group, _NONE, _NONE)
        category = np.take(categories, cells)
        found = np.flatnonzero(category)
        return Tallies(total, by_group, found, (category[found] - 1).astype(np.intp))

    def zygosity_groups(self, allele: int, groups: PopulationIndex | None, total: AlleleCounts) -> ZygosityGroups:
        """The carriers of `tallies(allele, groups, carriers=False)` as file positions per zygosity.

        `total` is that call's total: its zygosity counts say which groups are empty, so the common
        heterozygous-only allele costs one pass over the samples and no split.
        """
        present = (total.heterozygous, total.homozygous, total.hemizygous)
        pairs = self._pairs(groups)
        if pairs is None:
            found = self._plain_tallies(allele, None)
            return _split(found.carriers, found.codes, present)
        cells, _, width = pairs
        category = np.take(_pair_table(width, allele)[1], cells)
        if present[HET] == sum(present):
            return (np.flatnonzero(category) if present[HET] else None), None, None
        het, hom, hemi = (np.flatnonzero(category == code + 1) if present[code] else None for code in (HET, HOM, HEMI))
        return het, hom, hemi

    def _pairs(self, groups: PopulationIndex | None) -> _Pairs | None:
        """Each sample's call pair as one cell, (first + 2) * width + second + 2 (both slots shifted from -2
        to 0), and the cells counted per group (row: group, column: cell). None when calls are not (at most)
        diploid or their alleles too many for int16 cells.
        """
        if self._histogram is not None and self._histogram[0] is groups:
            return self._histogram[1]
        calls = self._calls
        if calls.shape[1] != 3 or len(calls) == 0:
            return None
        # The phasing flag (0 or 1) takes part in the maximum: harmless, the width only grows to 4.
        highest = int(calls.max())
        if highest > _MAX_PAIR_ALLELE:
            return None
        width = highest + 3
        # In int16 on the columns as they are: a cast or a 2-column copy first costs twice as much. The
        # shift is added in place: the cells are also what `_pair_table`'s categories are indexed by.
        cell = calls[:, 0] * width + calls[:, 1]
        cell += 2 * width + 2
        cells = width * width
        if groups is None:
            histogram = np.bincount(cell, minlength=cells).reshape(1, cells)
        else:
            size = len(groups.labels) + 1  # the last group: samples without a population
            histogram = np.bincount(_group_offsets(groups, cells) + cell, minlength=size * cells).reshape(size, cells)
        pairs = (cell, histogram, width)
        self._histogram = (groups, pairs)
        return pairs

    def _plain_tallies(self, allele: int, groups: PopulationIndex | None) -> Tallies:
        found = self.carriers(allele)
        carriers = np.array([c.sample_index for c in found], dtype=np.intp)
        codes = np.array([ZYGOSITIES.index(c.zygosity) for c in found], dtype=np.intp)
        by_group = self.counts_by_group(allele, groups) if groups is not None else []
        return Tallies(self.counts(allele), by_group, carriers, codes)

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


@dataclass(frozen=True, eq=False)
class PopulationIndex:
    """Population labels and, per VCF sample, the index of its label (len(labels) when it has none).

    Hashed by identity (eq=False): one per file, the key of its histogram cell offsets.
    """

    labels: tuple[str, ...]
    index: npt.NDArray[np.intp]


def population_index(samples: Sequence[str], population_of: dict[str, str]) -> PopulationIndex:
    labels = tuple(sorted({population_of[s] for s in samples if population_of.get(s)}))
    position = {label: i for i, label in enumerate(labels)}
    index = np.array([position.get(population_of.get(s, ""), len(labels)) for s in samples], dtype=np.intp)
    return PopulationIndex(labels, index)
