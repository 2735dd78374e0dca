"""A variant's `frequencyInPopulations`: per population, from genotypes and a sample sheet or from INFO fields.

From genotypes, each sample belongs to several populations at once: its country (`NL`), sex (`M`),
country and sex (`NL_M`), ancestry (`EUR`), ancestry and sex (`EUR_M`), and its free `population`
label. Samples with the same memberships form one group (the genotype tallies' PopulationIndex);
a population's counts are the sum over its groups, so every record is tallied once whatever the
number of populations. Sex also decides ploidy on X and Y outside the pseudo-autosomal regions:
a male's call there is haploid (a hemizygous carrier), a female's call on Y is no call.

Without genotypes, INFO fields give the populations (ingest/vcf/info_fields.py). Either way one
`frequencyInPopulations` source per variant and dataset (docs/populations.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from beacon.model.populations import OVERALL as OVERALL_NAME
from ingest.vcf.genotypes import AlleleCounts, PopulationIndex, population_index
from ingest.vcf.info_fields import OVERALL, InfoLayout, info_counts
from ingest.vcf.samples import SampleInfo

_json = json.JSONEncoder(separators=(",", ":")).encode
DEFAULT_OVERALL: Final = OVERALL_NAME  # beacon/model/populations.py: no filter value selects it
# Pseudo-autosomal regions, 1-based inclusive (GRCh37 and GRCh38 as the Genome Reference Consortium
# gives them); outside them X is haploid in males and Y exists in males only.
PARS: Final[dict[str, dict[str, tuple[tuple[int, int], ...]]]] = {
    "GRCh37": {
        "X": ((60_001, 2_699_520), (154_931_044, 155_260_560)),
        "Y": ((10_001, 2_649_520), (59_034_050, 59_363_566)),
    },
    "GRCh38": {
        "X": ((10_001, 2_781_479), (155_701_383, 156_030_895)),
        "Y": ((10_001, 2_781_479), (56_887_903, 57_217_415)),
    },
}
_GROUP_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class SourceNames:
    """The names a load gives its frequency source (options or the population map)."""

    source: str
    source_reference: str
    version: str | None = None
    overall: str = DEFAULT_OVERALL


def memberships(info: SampleInfo) -> list[str]:
    """The populations a sample counts in, by its sheet row."""
    sex = info.sex_code
    out: list[str] = []
    for code in (info.country, info.ancestry):
        if code:
            out.append(code)
            if sex:
                out.append(f"{code}_{sex}")
    if sex:
        out.append(sex)
    if info.population:
        out.append(info.population)
    return out


def _order(name: str) -> tuple[int, str]:
    """Sexes, then countries and ancestries each followed by their sexes, then free labels."""
    if name in ("F", "M"):
        return 0, name
    return (1, name) if name.replace("_", "").isupper() else (2, name)


@dataclass(frozen=True)
class SampleGroups:
    """The VCF's samples grouped by memberships; which groups make each population; who is male or female."""

    index: PopulationIndex | None
    populations: tuple[str, ...] = ()
    members: tuple[tuple[int, ...], ...] = ()
    males: npt.NDArray[np.bool_] | None = None
    females: npt.NDArray[np.bool_] | None = None


def sample_groups(samples: Sequence[str], infos: dict[str, SampleInfo]) -> SampleGroups:
    """Groups of the file's `samples` (sheet rows by sample name); no index when no sample has a population."""
    if not samples:
        return SampleGroups(None)
    label_of = {}
    for s in samples:
        info = infos.get(s)
        if info is not None and (names := memberships(info)):
            label_of[s] = _GROUP_SEPARATOR.join(names)
    sexes = [infos[s].sex_code if s in infos else None for s in samples]
    males, females = np.array([x == "M" for x in sexes]), np.array([x == "F" for x in sexes])
    sexed = (males if males.any() else None, females if females.any() else None)
    if not label_of:
        return SampleGroups(None, males=sexed[0], females=sexed[1])
    index = population_index(samples, label_of)
    names = sorted({n for label in index.labels for n in label.split(_GROUP_SEPARATOR)}, key=_order)
    members = tuple(
        tuple(i for i, label in enumerate(index.labels) if name in label.split(_GROUP_SEPARATOR)) for name in names
    )
    return SampleGroups(index, tuple(names), members, *sexed)


def haploid_outside_pars(
    calls: npt.NDArray[np.int16], chrom: str, pos: int, assembly: str, groups: SampleGroups
) -> npt.NDArray[np.int16]:
    """`calls` (cyvcf2's genotype array) with the sexes' ploidy applied on X and Y outside the PARs.

    A male's diploid call there becomes haploid: `1/1` is `1`, a half-missing `./1` is `1`, and a
    heterozygous `0/1` (impossible in one copy) is a missing call. A female's call on Y is missing.
    Other chromosomes, the PARs, samples of unknown sex and assemblies without PARs here are unchanged.
    """
    pars = PARS.get(assembly, {}).get(chrom)
    if pars is None or calls.shape[1] != 3 or any(lo <= pos <= hi for lo, hi in pars):
        return calls
    males, females = groups.males, groups.females
    if males is None and (females is None or chrom != "Y"):
        return calls
    calls = calls.copy()
    if males is not None:
        first, second = calls[:, 0], calls[:, 1]
        diploid = males & (second != -2)
        only_second = (first < 0) & (second >= 0)
        agree = (first == second) | ((first >= 0) & (second < 0))
        allele = np.where(agree, first, np.where(only_second, second, -1))
        calls[diploid, 0] = allele[diploid]
        calls[diploid, 1] = -2
    if females is not None and chrom == "Y":
        calls[females, 0] = -1
        calls[females, 1] = -2
    return calls


def counts_entry(name: str, counts: AlleleCounts) -> dict[str, Any]:
    """One population's frequency entry from genotype counts."""
    return {
        "population": name,
        "alleleFrequency": round(counts.frequency, 8),
        "alleleCount": counts.allele_count,
        "alleleNumber": counts.allele_number,
        "alleleCountHomozygous": counts.homozygous,
        "alleleCountHeterozygous": counts.heterozygous,
        "alleleCountHemizygous": counts.hemizygous,
    }


def _summed(parts: Sequence[AlleleCounts]) -> AlleleCounts:
    if len(parts) == 1:
        return parts[0]
    return AlleleCounts._make(map(sum, zip(*parts, strict=True)))


@dataclass(frozen=True)
class FrequencyWriter:
    """Per file: builds a variant's `frequencyInPopulations` from its tallies or its INFO fields."""

    dataset: str
    names: SourceNames
    groups: SampleGroups = field(default_factory=lambda: SampleGroups(None))
    layout: InfoLayout = field(default_factory=lambda: InfoLayout(()))

    def from_counts(self, total: AlleleCounts, by_group: Sequence[AlleleCounts]) -> list[dict[str, Any]]:
        """The source record from genotype counts overall and per group (the groups' PopulationIndex order)."""
        entries = [counts_entry(self.names.overall, total)]
        for name, members in zip(self.groups.populations, self.groups.members, strict=True):
            entries.append(counts_entry(name, _summed([by_group[i] for i in members])))
        return [self._source(entries)]

    def from_info(self, record: Any, index: int) -> list[dict[str, Any]] | None:
        """The source record from the INFO fields of ALT number `index`; None when the file gives no frequency."""
        entries = []
        for name, fields in self.layout.populations:
            entry = info_counts(record, index, fields)
            if entry is not None:
                entries.append({"population": self.names.overall if name == OVERALL else name, **entry})
        return [self._source(entries)] if entries else None

    def _source(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        names = self.names
        source: dict[str, Any] = {"source": names.source, "sourceReference": names.source_reference}
        if names.version is not None:
            source["version"] = names.version
        source["numberOfPopulations"] = len(entries)
        source["frequencies"] = entries
        return source

    def json_part(self, sources: list[dict[str, Any]]) -> tuple[str, bool]:
        """`"frequencyInPopulations":[…]` as the embedded store's encoder writes it, and whether the
        sourceReference was left out (it is `dataset:<dataset>`, which the store puts back)."""
        own = self.names.source_reference == f"dataset:{self.dataset}"
        if own:
            sources = [{k: v for k, v in s.items() if k != "sourceReference"} for s in sources]
        return f'"frequencyInPopulations":{_json(sources)}', own

    @property
    def population_names(self) -> tuple[str, ...]:
        """Every population name this file's variants may carry (the overall one first)."""
        if self.groups.index is not None or not self.layout:
            return (self.names.overall, *self.groups.populations)
        return tuple(self.names.overall if n == OVERALL else n for n, _ in self.layout.populations)
