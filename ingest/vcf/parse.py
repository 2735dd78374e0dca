"""The VCF record loop: contigs, REF checks, splitting, trimming, left-alignment, liftover and duplicate drops.

`VcfParser.sites` yields every allele that is to be stored; what becomes of it (a document, or the
embedded store's rows straight away) is the caller's choice. Rejected records are reported here,
with file, line and field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from beacon.genome.assemblies import canonical_chromosome
from beacon.genome.liftover import Lifter, NotLiftable
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.store.base import Document
from ingest.errors import InputError, Problem, RejectedRecords
from ingest.vcf.fasta import Reference, left_align
from ingest.vcf.genotypes import GenotypeTable, PopulationIndex
from ingest.vcf.info_fields import InfoLayout, PopulationMap, detect, read_population_map
from ingest.vcf.normalize import Allele, split
from ingest.vcf.populations import (
    DEFAULT_OVERALL,
    FrequencyWriter,
    SampleGroups,
    SourceNames,
    haploid_outside_pars,
    sample_groups,
)
from ingest.vcf.reader import HeaderInfo, check_header, header_info, open_vcf, records, sample_names
from ingest.vcf.regions import Region
from ingest.vcf.samples import UNKNOWN, SampleInfo

_DUPLICATE_WINDOW = 1000
_Key = tuple[str, int, str, str]  # an allele's duplicate key: chromosome, position, REF, ALT
# Bases before a region read for its duplicate check: alleles normalised more than this far from
# their POS could escape it (no such alleles are known; trimming moves an allele within its REF).
LEAD_IN = 2 * _DUPLICATE_WINDOW
# Records between progress reports (every parser layout reports at the same counts).
PROGRESS_EVERY = 10_000
_NUCLEOTIDES = frozenset("ACGT")
Progress = Callable[[int], None]


@dataclass
class VcfReport:
    dataset_id: str
    records_read: int = 0
    variants_written: int = 0
    samples: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unchanged: bool = False

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass(frozen=True)
class VcfOptions:
    dataset_id: str
    assembly: str
    samples_table: Path | None = None
    sites_only: bool = False
    # Genotypes decoded for counts and frequencies only: no carriers, biosamples or individuals stored.
    counts_only: bool = False
    on_error: str = "skip"
    part: str = "vcf"
    chain: Path | None = None
    target_assembly: str | None = None
    fasta: Path | None = None
    name: str | None = None  # of the dataset record (default: the dataset id, or the record's earlier name)
    description: str | None = None
    # The frequency source (docs/populations.md): names, and which INFO fields hold which population.
    populations_map: Path | None = None
    frequency_source: str | None = None
    frequency_reference: str | None = None
    frequency_version: str | None = None
    overall_population: str | None = None
    # Parser processes over regions of bgzipped, indexed files (None: ingest/vcf/parallel.py's default).
    # Not part of the load's digest: the rows are the same whatever the number.
    jobs: int | None = None

    def source_names(self, mapped: PopulationMap | None = None) -> SourceNames:
        """Options first, then the population map, then the defaults (the dataset's name and id)."""
        mapped = mapped or PopulationMap()
        return SourceNames(
            self.frequency_source or mapped.source or self.name or self.dataset_id,
            self.frequency_reference or mapped.source_reference or f"dataset:{self.dataset_id}",
            self.frequency_version or mapped.version,
            self.overall_population or mapped.overall or DEFAULT_OVERALL,
        )

    @property
    def stored_assembly(self) -> str:
        """The assembly the variants are stored in: the liftover target when a chain is given."""
        return self.target_assembly or self.assembly


@dataclass(frozen=True)
class VcfFile:
    """The file being read: its name, samples, their populations and what its header declares."""

    name: str
    samples: list[str]
    populations: PopulationIndex | None
    header: HeaderInfo
    frequencies: FrequencyWriter = field(default_factory=lambda: FrequencyWriter("", SourceNames("", "")))


class Site(NamedTuple):
    """One allele to store: its record, line, (lifted) chromosome, normalised allele and the record's calls.

    `plain`: a sequence allele of A, C, G and T only, what the direct row builder handles.
    """

    line: int
    record: Any
    chrom: str
    allele: Allele
    genotypes: GenotypeTable | None
    plain: bool


@dataclass
class VcfParser:
    paths: list[Path]
    options: VcfOptions
    report: VcfReport
    samples_info: dict[str, SampleInfo]
    existing_biosamples: dict[str, str]
    progress: Progress | None = None
    lifter: Lifter | None = None
    reference: Reference | None = None
    file: VcfFile = field(default_factory=lambda: VcfFile("", [], None, HeaderInfo((), False)))
    population_map: PopulationMap | None = None
    groups: SampleGroups = field(default_factory=lambda: SampleGroups(None))

    def reject(self, problem: Problem) -> None:
        """Report a record; with `--on-error fail` the first one ends the load (:raise RejectedRecords:)."""
        self.report.problems.append(problem)
        if self.options.on_error == "fail":
            raise RejectedRecords([problem])

    def sample_documents(self, table: EntryTypeTable) -> Iterator[tuple[EntryType, Document]]:
        """Biosample and individual records for samples the dataset does not hold yet (docs/decisions.md)."""
        individuals = table.by_id("individual")
        biosamples = table.by_id("biosample")
        names = [] if self.options.sites_only else sample_names(self.paths)
        self.report.samples = len(names)
        if self.options.counts_only:
            return
        new = [n for n in names if n not in self.existing_biosamples]
        people: dict[str, SampleInfo] = {}
        for name in new:
            info = self.samples_info.get(name, SampleInfo(name))
            people.setdefault(info.individual or name, info)
        for person, info in people.items():
            doc: Document = {"id": person, "sex": info.sex_term()}
            if info.population:
                doc["info"] = {"population": info.population}
            yield individuals, doc
        for name in new:
            info = self.samples_info.get(name, SampleInfo(name))
            yield (
                biosamples,
                {
                    "id": name,
                    "individualId": info.individual or name,
                    "biosampleStatus": dict(UNKNOWN),
                    "sampleOriginType": dict(UNKNOWN),
                },
            )

    def open(self, path: Path) -> tuple[Any, int]:
        """Open `path` and make it the current `file`; (reader, number of header lines)."""
        header_lines = check_header(path)
        vcf = open_vcf(path, self.options.sites_only)
        samples = list(vcf.samples)
        self.groups = sample_groups(samples, self.samples_info)
        if self.options.populations_map is not None and self.population_map is None:
            self.population_map = read_population_map(self.options.populations_map)
        mapped = self.population_map
        layout = mapped.layout if mapped is not None else None
        if samples:
            layout = InfoLayout(())  # genotypes give the counts
        elif layout is None:
            layout = detect(h.info().get("ID") for h in vcf.header_iter() if h.type == "INFO")
        names = self.options.source_names(mapped)
        writer = FrequencyWriter(self.options.dataset_id, names, self.groups, layout)
        self.file = VcfFile(path.name, samples, self.groups.index, header_info(vcf), writer)
        return vcf, header_lines

    def sites(self, path: Path, vcf: Any, header_lines: int, region: Region | None = None) -> Iterator[Site]:
        """The alleles to store of `path`, opened by `open`, in file order; rejected and skipped ones are reported.

        With `region`, only its records; line numbers then count from the region's first record (the
        caller knows how many came before). The LEAD_IN bases before it are read to find duplicates of
        what the region before kept, as reading the whole file would.
        """
        contigs: dict[str, str | None] = {}
        recent: dict[tuple[str, int, str, str], int] = {}
        name = path.name
        report, progress, lifter = self.report, self.progress, self.lifter
        decode = not self.options.sites_only and bool(self.file.samples)
        line = header_lines
        first = 0 if region is None else region.start
        source = vcf if region is None else vcf(region.query(LEAD_IN))
        for record in records(path, source, header_lines, first):
            if first > record.POS:
                self._remember(record, contigs, recent)
                continue
            line += 1
            report.records_read += 1
            if progress is not None and report.records_read % PROGRESS_EVERY == 0:
                progress(report.records_read)
            contig = record.CHROM
            if contig not in contigs:
                contigs[contig] = canonical_chromosome(contig)
            chrom = contigs[contig]
            if chrom is None:
                self.reject(Problem(name, line, "CHROM", f"unknown contig {record.CHROM!r}", is_line=True))
                continue
            if self.reference is not None and not self._reference_agrees(name, line, chrom, record):
                continue
            pos, ref, alts = record.POS, record.REF, record.ALT
            if len(alts) == 1 and ref in _NUCLEOTIDES and alts[0] in _NUCLEOTIDES and alts[0] != ref:
                # A single-base substitution (most records): nothing to split, trim or shift.
                genotypes = self._genotypes(path, line, record, chrom) if decode else None
                snv = Allele(pos, ref, alts[0], 1)
                if lifter is None:
                    key = (chrom, pos, ref, snv.alt)
                    if key in recent:
                        report.skip("exact duplicate")
                    else:
                        recent[key] = pos
                        yield Site(line, record, chrom, snv, genotypes, True)
                else:
                    yield from self._distinct(name, line, record, chrom, [snv], genotypes, recent)
            else:
                alleles, skipped = split(pos, ref, list(alts), self.file.header.reference_copies)
                if self.reference is not None:
                    alleles = [self._left_aligned(chrom, a) for a in alleles]
                for _, reason in skipped:
                    report.skip(reason)
                if not alleles:
                    continue
                genotypes = self._genotypes(path, line, record, chrom) if decode else None
                yield from self._distinct(name, line, record, chrom, alleles, genotypes, recent)
            if len(recent) > 4 * _DUPLICATE_WINDOW:
                horizon = pos - _DUPLICATE_WINDOW
                recent = {k: p for k, p in recent.items() if p >= horizon and k[0] == chrom}

    def _distinct(
        self,
        name: str,
        line: int,
        record: Any,
        chrom: str,
        alleles: list[Allele],
        genotypes: GenotypeTable | None,
        recent: dict[tuple[str, int, str, str], int],
    ) -> Iterator[Site]:
        """The record's alleles lifted, without those seen in the last _DUPLICATE_WINDOW bases (reported)."""
        for original in alleles:
            lifted = self._lift(name, line, chrom, original)
            if lifted is None:
                continue
            chrom_out, allele = lifted
            symbolic = allele.is_symbolic
            # Breakends at one position differ only by their ID (and mate): keep the ID in the key.
            key = (chrom_out, allele.pos, allele.ref, allele.alt + (f"#{record.ID}" if symbolic else ""))
            if key in recent:
                self.report.skip("exact duplicate")
                continue
            recent[key] = allele.pos
            plain = not symbolic and _NUCLEOTIDES.issuperset(allele.ref) and _NUCLEOTIDES.issuperset(allele.alt)
            yield Site(line, record, chrom_out, allele, genotypes, plain)

    def _remember(self, record: Any, contigs: dict[str, str | None], recent: dict[_Key, int]) -> None:
        """A record before the region: its alleles' duplicate keys, as `sites` would keep them (nothing reported)."""
        contig = record.CHROM
        if contig not in contigs:
            contigs[contig] = canonical_chromosome(contig)
        chrom = contigs[contig]
        if chrom is None or (self.reference is not None and self._reference_problem(chrom, record) is not None):
            return
        alleles, _ = split(record.POS, record.REF, list(record.ALT), self.file.header.reference_copies)
        for allele in alleles:
            if self.reference is not None:
                allele = self._left_aligned(chrom, allele)  # noqa: PLW2901
            suffix = f"#{record.ID}" if allele.is_symbolic else ""
            recent.setdefault((chrom, allele.pos, allele.ref, allele.alt + suffix), allele.pos)

    def _reference_agrees(self, name: str, line: int, chrom: str, record: Any) -> bool:
        """REF checked against the reference sequence (`bcftools norm -c`): a mismatch is a reported problem."""
        problem = self._reference_problem(chrom, record)
        if problem is None:
            return True
        self.reject(Problem(name, line, *problem, is_line=True))
        return False

    def _reference_problem(self, chrom: str, record: Any) -> tuple[str, str] | None:
        """(field, message) when REF disagrees with the reference FASTA (or it lacks the contig), else None."""
        assert self.reference is not None
        if not self.reference.has(chrom):
            return "CHROM", f"contig {record.CHROM!r} is not in the reference FASTA"
        expected = self.reference.fetch(chrom, record.POS, len(record.REF))
        if set(record.REF.upper()) - {"N"} and record.REF.upper() != expected:
            return "REF", f"REF {record.REF} does not match the reference ({expected or 'past the contig end'})"
        return None

    def _left_aligned(self, chrom: str, allele: Allele) -> Allele:
        assert self.reference is not None
        if allele.is_symbolic:
            return allele
        pos, ref, alt = left_align(chrom, allele.pos, allele.ref, allele.alt, self.reference)
        return allele._replace(pos=pos, ref=ref, alt=alt)

    def _lift(self, name: str, line: int, chrom: str, allele: Allele) -> tuple[str, Allele] | None:
        """The allele on the stored assembly; None (and a reported problem) when it does not lift."""
        if self.lifter is None:
            return chrom, allele
        try:
            target, position, strand = self.lifter.position(chrom, allele.pos - 1)
            if strand != "+":
                msg = f"{chrom}:{allele.pos} lifts to the minus strand of {self.lifter.target}"
                raise NotLiftable(msg)
        except NotLiftable as exc:
            self.reject(Problem(name, line, "POS", f"not liftable: {exc}", is_line=True))
            return None
        return target, allele._replace(pos=position + 1)

    def lifted_end(self, chrom: str, end: int | None) -> int | None:
        """INFO/END on the stored assembly. :raise NotLiftable: it lifts elsewhere or not at all."""
        if self.lifter is None or end is None:
            return end
        target, position, strand = self.lifter.position(chrom, end - 1)
        if target != chrom or strand != "+":
            msg = f"END {end} does not lift onto {chrom} of {self.lifter.target}"
            raise NotLiftable(msg)
        return position + 1

    def _genotypes(self, path: Path, line: int, record: Any, chrom: str) -> GenotypeTable | None:
        if "GT" not in record.FORMAT:
            return None
        try:
            calls = record.genotype.array()
            if chrom in ("X", "Y"):
                calls = haploid_outside_pars(calls, chrom, record.POS, self.options.assembly, self.groups)
            return GenotypeTable(calls)
        except Exception as exc:  # noqa: BLE001  cyvcf2 raises bare Exception for undecodable calls
            msg = f"{path.name}:{line}: FORMAT/GT: genotypes cannot be decoded ({exc})"
            raise InputError(msg) from exc
