"""`beacon-ingest vcf`: stream VCF files into one part of a dataset, normalised, counted and annotated.

cyvcf2 errors stop in this package and become InputError; per-record problems are collected with
file, line and field. The stream is consumed by the store on its worker thread, inside the load's
single transaction, so nothing of a failed or interrupted load becomes visible.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cyvcf2 import VCF

from beacon.errors import ConfigError
from beacon.genome.assemblies import canonical_assembly, canonical_chromosome
from beacon.genome.liftover import Lifter, NotLiftable
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.model.plan import Query
from beacon.store.base import Document, Store
from beacon.store.indexing import LoadContext
from beacon.store.loading import dataset_load
from ingest.errors import InputError, Problem, RejectedRecords
from ingest.vcf.annotations import csq_fields, molecular_attributes, transcript_hgvs
from ingest.vcf.fasta import Reference, left_align
from ingest.vcf.genotypes import GenotypeTable, PopulationIndex, population_index
from ingest.vcf.normalize import Allele, sequence_type, split
from ingest.vcf.records import frequency, variant_document
from ingest.vcf.samples import UNKNOWN, SampleInfo, read_samples
from ingest.vcf.structural import Unrepresentable, structural

FORMAT_VERSION = "vcf-1"
_DUPLICATE_WINDOW = 1000
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
    on_error: str = "skip"
    part: str = "vcf"
    chain: Path | None = None
    target_assembly: str | None = None
    fasta: Path | None = None

    @property
    def stored_assembly(self) -> str:
        """The assembly the variants are stored in: the liftover target when a chain is given."""
        return self.target_assembly or self.assembly


def _open(path: Path, sites_only: bool) -> Any:
    _check_header(path)
    # cyvcf2 signals unreadable input with bare Exception/OSError; this is its boundary.
    try:
        # lazy=True segfaults in cyvcf2 0.35 when FORMAT of some records is read (COLO829 longranger file).
        return VCF(str(path), samples=[] if sites_only else None, threads=1)
    except Exception as exc:  # noqa: BLE001
        msg = f"{path}: not a readable VCF ({exc})"
        raise InputError(msg) from exc


def _check_header(path: Path) -> int:
    """Number of header lines, read from the file itself (htslib adds lines to the header it reports).

    :raise InputError: the first line is not ##fileformat=VCF….
    """
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    lines = 0
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for text in handle:
            if lines == 0 and not text.startswith("##fileformat=VCF"):
                msg = f"{path.name}:1: the file does not start with ##fileformat=VCF"
                raise InputError(msg)
            if not text.startswith("#"):
                break
            lines += 1
    if lines == 0:
        msg = f"{path.name}: empty file, not a VCF"
        raise InputError(msg)
    return lines


def _records(path: Path, vcf: Any, header_lines: int) -> Iterator[Any]:
    """The records of an open VCF; a parse failure becomes an InputError naming the line after the last good one."""
    line = header_lines
    iterator = iter(vcf)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001  cyvcf2 raises bare Exception on malformed records
            msg = f"{path.name}:{line + 1}: malformed record ({exc})"
            raise InputError(msg) from exc
        line += 1
        yield record


def digest_of(paths: list[Path], options: VcfOptions) -> str:
    settings = (
        FORMAT_VERSION,
        options.dataset_id,
        options.assembly,
        options.target_assembly,
        options.sites_only,
        options.fasta,
        options.on_error,
    )
    h = hashlib.sha256("\0".join(map(str, settings)).encode())
    extra = [p for p in (options.samples_table, options.chain) if p is not None]
    for path in [*paths, *extra]:
        h.update(f"\0{path.name}\0".encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


@dataclass
class _Stream:
    paths: list[Path]
    options: VcfOptions
    report: VcfReport
    table: EntryTypeTable
    existing_biosamples: dict[str, str]
    samples_info: dict[str, SampleInfo]
    progress: Progress | None = None
    csq_order: tuple[str, ...] = ()
    lifter: Lifter | None = None
    reference: Reference | None = None
    annotated: bool = False

    def _reject(self, problem: Problem) -> None:
        self.report.problems.append(problem)
        if self.options.on_error == "fail":
            raise RejectedRecords([problem])

    def records(self) -> Iterator[tuple[EntryType, Document]]:
        yield from self._sample_records()
        variants = self.table.by_id("genomicVariant")
        for path in self.paths:
            for doc in self._variants(path):
                self.report.variants_written += 1
                yield variants, doc

    def _sample_names(self) -> list[str]:
        names: dict[str, None] = {}
        if not self.options.sites_only:
            for path in self.paths:
                for name in _open(path, sites_only=False).samples:
                    names[name] = None
        return list(names)

    def _sample_records(self) -> Iterator[tuple[EntryType, Document]]:
        """Biosample and individual records for samples the dataset does not hold yet (docs/decisions.md)."""
        individuals = self.table.by_id("individual")
        biosamples = self.table.by_id("biosample")
        names = self._sample_names()
        self.report.samples = len(names)
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

    def _variants(self, path: Path) -> Iterator[Document]:
        header_lines = _check_header(path)
        vcf = _open(path, self.options.sites_only)
        samples = list(vcf.samples)
        population_of = {s: i.population for s, i in self.samples_info.items() if i.population}
        populations = population_index(samples, population_of) if samples else None
        self.csq_order = ()
        info_ids: set[str] = set()
        for h in vcf.header_iter():
            if h.type == "INFO":
                info_ids.add(h.info().get("ID"))
                if h.info().get("ID") == "CSQ":
                    self.csq_order = csq_fields(h.info().get("Description", ""))
        # Looking up an INFO field a file does not declare costs as much as reading one: skip them.
        self.annotated = bool(info_ids & {"ANN", "CSQ"})
        contigs: dict[str, str | None] = {}
        recent: dict[tuple[str, int, str, str], int] = {}
        name = path.name
        for index, record in enumerate(_records(path, vcf, header_lines)):
            line = header_lines + index + 1
            self.report.records_read += 1
            if self.progress is not None and self.report.records_read % 10_000 == 0:
                self.progress(self.report.records_read)
            contig = record.CHROM
            if contig not in contigs:
                contigs[contig] = canonical_chromosome(contig)
            chrom = contigs[contig]
            if chrom is None:
                self._reject(Problem(name, line, "CHROM", f"unknown contig {record.CHROM!r}", is_line=True))
                continue
            if self.reference is not None and not self._reference_agrees(name, line, chrom, record):
                continue
            alleles, skipped = split(record.POS, record.REF, list(record.ALT))
            if self.reference is not None:
                alleles = [self._left_aligned(chrom, a) for a in alleles]
            for _, reason in skipped:
                self.report.skip(reason)
            if not alleles:
                continue
            genotypes = self._genotypes(path, line, record, samples)
            for original in alleles:
                lifted = self._lift(name, line, chrom, original)
                if lifted is None:
                    continue
                chrom_out, allele = lifted
                # Breakends at one position differ only by their ID (and mate): keep the ID in the key.
                key = (chrom_out, allele.pos, allele.ref, allele.alt + (f"#{record.ID}" if allele.is_symbolic else ""))
                if key in recent:
                    self.report.skip("exact duplicate")
                    continue
                recent[key] = allele.pos
                doc = self._document(name, line, record, chrom_out, allele, genotypes, samples, populations)
                if doc is not None:
                    yield doc
            if len(recent) > 4 * _DUPLICATE_WINDOW:
                horizon = record.POS - _DUPLICATE_WINDOW
                recent = {k: p for k, p in recent.items() if p >= horizon and k[0] == chrom}

    def _reference_agrees(self, name: str, line: int, chrom: str, record: Any) -> bool:
        """REF checked against the reference sequence (`bcftools norm -c`): a mismatch is a reported problem."""
        assert self.reference is not None
        if not self.reference.has(chrom):
            self._reject(
                Problem(name, line, "CHROM", f"contig {record.CHROM!r} is not in the reference FASTA", is_line=True)
            )
            return False
        expected = self.reference.fetch(chrom, record.POS, len(record.REF))
        if set(record.REF.upper()) - {"N"} and record.REF.upper() != expected:
            message = f"REF {record.REF} does not match the reference ({expected or 'past the contig end'})"
            self._reject(Problem(name, line, "REF", message, is_line=True))
            return False
        return True

    def _left_aligned(self, chrom: str, allele: Allele) -> Allele:
        assert self.reference is not None
        if allele.is_symbolic:
            return allele
        pos, ref, alt = left_align(chrom, allele.pos, allele.ref, allele.alt, self.reference)
        return replace(allele, pos=pos, ref=ref, alt=alt)

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
            self._reject(Problem(name, line, "POS", f"not liftable: {exc}", is_line=True))
            return None
        return target, replace(allele, pos=position + 1)

    def _lifted_end(self, chrom: str, end: int | None) -> int | None:
        if self.lifter is None or end is None:
            return end
        target, position, strand = self.lifter.position(chrom, end - 1)
        if target != chrom or strand != "+":
            msg = f"END {end} does not lift onto {chrom} of {self.lifter.target}"
            raise NotLiftable(msg)
        return position + 1

    def _genotypes(self, path: Path, line: int, record: Any, samples: list[str]) -> GenotypeTable | None:
        if not samples or self.options.sites_only or "GT" not in record.FORMAT:
            return None
        try:
            return GenotypeTable(record.genotype.array())
        except Exception as exc:  # noqa: BLE001  cyvcf2 raises bare Exception for undecodable calls
            msg = f"{path.name}:{line}: FORMAT/GT: genotypes cannot be decoded ({exc})"
            raise InputError(msg) from exc

    def _document(
        self,
        name: str,
        line: int,
        record: Any,
        chrom: str,
        allele: Any,
        genotypes: GenotypeTable | None,
        samples: list[str],
        populations: PopulationIndex | None,
    ) -> Document | None:
        assembly = self.options.stored_assembly
        if allele.is_symbolic:
            try:
                end = self._lifted_end(chrom, record.INFO.get("END"))
            except NotLiftable as exc:
                self._reject(Problem(name, line, "INFO/END", f"not liftable: {exc}", is_line=True))
                return None
            svlen = record.INFO.get("SVLEN")
            svlen = svlen[allele.index - 1] if isinstance(svlen, tuple) else svlen
            try:
                sv = structural(allele.pos, allele.alt, end, svlen, record.INFO.get("SVTYPE"), record.INFO.get("CHR2"))
            except Unrepresentable as exc:
                self._reject(Problem(name, line, "ALT", str(exc), is_line=True))
                return None
            internal = f"{chrom}:{allele.pos}:{allele.alt.strip('<>')}:{sv.end}"
            if record.ID:
                internal += f":{record.ID}"
            anchor = allele.ref[:1] if allele.ref[:1] in {"A", "C", "G", "T"} else "N"
            doc = variant_document(
                chrom=chrom, assembly=assembly, start=sv.start, end=sv.end, ref=anchor,
                alt="N", variant_type=sv.variant_type, pos=allele.pos, internal_id=internal,
            )  # fmt: skip
            if sv.mate:
                mate = canonical_chromosome(sv.mate[0]) or sv.mate[0]
                doc["variantLevelData"] = {"mateName": mate, "matePosition": sv.mate[1]}
        else:
            if not set(allele.ref) <= set("ACGTN"):
                self._reject(Problem(name, line, "REF", f"not a nucleotide sequence: {allele.ref!r}", is_line=True))
                return None
            start = allele.pos - 1
            doc = variant_document(
                chrom=chrom, assembly=assembly, start=start, end=start + len(allele.ref), ref=allele.ref,
                alt=allele.alt, variant_type=sequence_type(allele.ref, allele.alt), pos=allele.pos,
                internal_id=f"{chrom}:{allele.pos}:{allele.ref}>{allele.alt}",
            )  # fmt: skip
        ann, csq = (record.INFO.get("ANN"), record.INFO.get("CSQ")) if self.annotated else (None, None)
        attributes = (
            molecular_attributes(record.ALT[allele.index - 1], ann, csq, self.csq_order) if ann or csq else None
        )
        if attributes:
            doc["molecularAttributes"] = attributes
        transcripts = transcript_hgvs(record.ALT[allele.index - 1], ann, csq, self.csq_order) if ann or csq else []
        if transcripts:
            doc.setdefault("identifiers", {})["transcriptHGVSIds"] = transcripts
        if genotypes is not None:
            carriers = genotypes.carriers(allele.index)
            doc["caseLevelData"] = [{"biosampleId": samples[c.sample_index], "zygosity": c.zygosity} for c in carriers]
            freqs = [frequency(self.options.dataset_id, genotypes.counts(allele.index))]
            if populations is not None and populations.labels:
                per_population = genotypes.counts_by_group(allele.index, populations)
                freqs += [frequency(p, c) for p, c in zip(populations.labels, per_population, strict=True)]
            doc["frequencyInPopulations"] = [
                {
                    "source": self.options.dataset_id,
                    "sourceReference": f"dataset:{self.options.dataset_id}",
                    "frequencies": freqs,
                }
            ]
        else:
            af = record.INFO.get("AF")
            value = af[allele.index - 1] if isinstance(af, tuple) else af
            if isinstance(value, float):
                doc["frequencyInPopulations"] = [
                    {"source": f"{name} INFO/AF", "sourceReference": f"dataset:{self.options.dataset_id}",
                     "frequencies": [{"population": self.options.dataset_id, "alleleFrequency": value}]}
                ]  # fmt: skip
        return doc


def _prepare(paths: list[Path], samples_table: Path | None) -> dict[str, SampleInfo]:
    """File checks and the sample table, off the event loop."""
    missing = [p for p in paths if not p.is_file()]
    if missing:
        msg = f"{missing[0]}: no such file"
        raise InputError(msg)
    for path in paths:
        _check_header(path)
    return read_samples(samples_table) if samples_table else {}


async def _existing(store: Store | None, dataset_id: str) -> tuple[dict[str, str], list[str]]:
    if store is None:
        return {}, []
    owners = await store.record_keys("biosamples", dataset_id, "individual")
    cohorts = [d["id"] for d in await store.find(Query("cohorts", (dataset_id,)))]
    return {b: people[0] for b, people in owners.items()}, cohorts


async def load_vcf(
    paths: list[Path],
    options: VcfOptions,
    store: Store | None,
    *,
    table: EntryTypeTable | None = None,
    progress: Progress | None = None,
) -> VcfReport:
    """Replace part `options.part` of the dataset with these VCFs (store None: validate only).

    :raise InputError: unreadable input, unknown assembly or sample table problems.
    :raise RejectedRecords: `on_error="fail"` and a record is invalid (nothing is written).
    """
    table = table or EntryTypeTable()
    assembly = canonical_assembly(options.assembly)
    if assembly is None:
        msg = f"--assembly: unknown assembly {options.assembly!r} (use GRCh38, GRCh37 or NCBI36)"
        raise InputError(msg)
    target = canonical_assembly(options.target_assembly) if options.target_assembly else None
    if options.target_assembly and target is None:
        msg = f"--target-assembly: unknown assembly {options.target_assembly!r}"
        raise InputError(msg)
    if (options.chain is None) != (target is None):
        msg = "--chain and --target-assembly go together"
        raise InputError(msg)
    options = replace(options, assembly=assembly, target_assembly=target)
    lifter = None
    if options.chain is not None and target is not None:
        try:
            lifter = await asyncio.to_thread(Lifter.load, assembly, target, options.chain)
        except ConfigError as exc:
            raise InputError(exc.message) from exc
    samples_info = await asyncio.to_thread(_prepare, paths, options.samples_table)
    owners, cohorts = await _existing(store, options.dataset_id)
    report = VcfReport(options.dataset_id)
    reference = await asyncio.to_thread(Reference.open, options.fasta) if options.fasta else None
    stream = _Stream(paths, options, report, table, owners, samples_info, progress, lifter=lifter, reference=reference)
    try:
        if store is None:
            await asyncio.to_thread(lambda: sum(1 for _ in stream.records()))
            return report
        digest = await asyncio.to_thread(digest_of, paths, options)
        stored = options.stored_assembly
        context = LoadContext(options.dataset_id, stored, dict(owners), list(cohorts))
        load = dataset_load(options.dataset_id, stored, digest, stream.records(), part=options.part, context=context)
        summary = await store.replace_dataset(load)
        report.unchanged = summary.unchanged
        return report
    finally:
        if reference is not None:
            reference.close()
