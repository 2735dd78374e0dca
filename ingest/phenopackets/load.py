"""`beacon-ingest phenopackets`: phenopacket files into one part of a dataset, validated record by record.

Individuals stream to the store as their files are read; biosamples and variants follow once
every file is read, a variant carried by several subjects becoming one record with one carrier
each. The store consumes the stream inside one load, so a failed or interrupted run changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from beacon.genome.assemblies import canonical_assembly
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.spec import RecordChecker, record_checker
from beacon.store.base import Document, Store
from beacon.store.indexing import LoadContext
from beacon.store.loading import dataset_load
from ingest.dataset_record import DatasetRecord, planned_record
from ingest.errors import InputError, Problem, RejectedRecords
from ingest.phenopackets.elements import as_list, as_object
from ingest.phenopackets.mapping import Carrier, map_phenopacket
from ingest.phenopackets.sources import Source, find_sources, read_sources
from ingest.repair import repair
from ingest.safeguard import RejectLimit, Safeguard

FORMAT_VERSION = "phenopackets-1"
ID_SOURCES = ("phenopacket", "subject")
Progress = Callable[[int], None]


@dataclass
class PhenopacketReport:
    dataset_id: str
    files: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # records not stored
    warnings: list[Problem] = field(default_factory=list)  # parts of stored records not representable
    repairs: list[Problem] = field(default_factory=list)  # sub-values coerced or dropped, the record kept
    exact_duplicates: int = 0
    unchanged: bool = False


@dataclass(frozen=True)
class PhenopacketOptions:
    dataset_id: str
    assembly: str | None = None  # None: inferred from the first vcfRecord
    on_error: str = "repair"
    id_from: str = "phenopacket"  # the individual id: the phenopacket's id or its subject's id
    part: str = "phenopackets"
    name: str | None = None  # of the dataset record (default: the dataset id, or the record's earlier name)
    description: str | None = None


def _fingerprint(doc: Mapping[str, Any]) -> bytes:
    return hashlib.blake2b(json.dumps(doc, sort_keys=True).encode(), digest_size=16).digest()


@dataclass
class _Stream:
    sources: list[Source]
    options: PhenopacketOptions
    assembly: str | None
    report: PhenopacketReport
    table: EntryTypeTable
    context: LoadContext
    progress: Progress | None = None
    record: DatasetRecord | None = None

    def _reject(self, problem: Problem) -> None:
        self.report.problems.append(problem)
        if self.options.on_error == "fail":
            raise RejectedRecords([problem])

    def _count(self, collection: str) -> None:
        self.report.counts[collection] = self.report.counts.get(collection, 0) + 1

    def records(self) -> Iterator[tuple[EntryType, Document]]:
        by_path = {t.path: t for t in self.table.types}
        sizes: dict[str, int] = {}
        for source in self.sources:
            if source.cohort:
                sizes[source.cohort] = sizes.get(source.cohort, 0) + 1
        # Members are known by cohort name up front; the cohort records follow their members, with
        # sizes counting the individuals actually stored.
        self.context.explicit_cohorts.update(sizes)
        stored: dict[str, int] = {}
        biosamples: dict[str, tuple[Document, bytes]] = {}
        variants: dict[str, tuple[Document, list[Document]]] = {}
        individual = by_path["individuals"]
        check_individual = record_checker(individual.schema_file)
        seen: dict[str, bytes] = {}
        for n, (source, parsed) in enumerate(read_sources(self.sources), start=1):
            self.report.files = n
            if self.progress is not None:
                self.progress(n)
            mapped = self._map(source, parsed)
            if mapped is None:
                continue
            doc = self._repaired(mapped.individual, check_individual, source.name)
            problems = check_individual.problems(doc)
            if problems:
                where, message = problems[0]
                self._reject(Problem(source.name, None, where, f"{message} (individual {doc['id']})"))
                continue
            fingerprint = _fingerprint(doc)
            if doc["id"] in seen:
                if seen[doc["id"]] == fingerprint:
                    self.report.exact_duplicates += 1
                else:
                    message = f"individual id {doc['id']!r} already loaded from another file with different content"
                    self._reject(Problem(source.name, None, "$.id" if self._by_packet else "$.subject.id", message))
                continue
            seen[doc["id"]] = fingerprint
            for where, message in mapped.problems:
                self.report.warnings.append(Problem(source.name, None, where, message))
            if source.cohort:
                # Cohort membership is explicit here: each individual belongs to its file's cohort only.
                self.context.cohort_members[doc["id"]] = (source.cohort,)
                stored[source.cohort] = stored.get(source.cohort, 0) + 1
            self._count("individuals")
            yield individual, doc
            for sample in mapped.biosamples:
                previous = biosamples.get(sample["id"])
                if previous is not None and previous[1] != _fingerprint(sample):
                    message = f"biosample id {sample['id']!r} already loaded with different content"
                    self.report.warnings.append(Problem(source.name, None, "$.biosamples", message))
                    continue
                biosamples[sample["id"]] = (sample, _fingerprint(sample))
            self._collect(mapped.carriers, variants)
        for cohort, size in sorted(stored.items()):
            self._count("cohorts")
            doc = {"id": cohort, "name": cohort, "cohortType": "study-defined", "cohortSize": size}
            yield by_path["cohorts"], doc
        yield from self._checked(by_path["biosamples"], (doc for doc, _ in biosamples.values()), "biosample")
        merged = ({**doc, "caseLevelData": cases} for doc, cases in variants.values())
        yield from self._checked(by_path["g_variants"], merged, "variant")
        if self.record is not None:
            # Last: its counts are the load's.
            counts = dict(self.report.counts)
            self._count("datasets")
            yield by_path["datasets"], self.record.document(self.assembly, counts)

    def _repaired(self, doc: Document, checker: RecordChecker, where: str) -> Document:
        """Under `repair`, the record with its invalid sub-values coerced or dropped (reported); else as is."""
        if self.options.on_error != "repair":
            return doc
        repaired = repair(doc, checker)
        if repaired.doc is None:
            return doc  # rejected with its own problem by the caller
        rid = doc.get("id")
        self.report.repairs += [Problem(where, None, r.path, f"{r.action} (id {rid})") for r in repaired.repairs]
        return repaired.doc

    @property
    def _by_packet(self) -> bool:
        return self.options.id_from == "phenopacket"

    def _map(self, source: Source, parsed: Any) -> Any:
        if isinstance(parsed, Exception):
            self._reject(Problem(source.name, None, "", f"not readable as JSON or YAML ({parsed})"))
            return None
        if not isinstance(parsed, Mapping):
            self._reject(Problem(source.name, None, "$", f"expected a phenopacket object, got {type(parsed).__name__}"))
            return None
        version = (
            (parsed.get("metaData") or {}).get("phenopacketSchemaVersion")
            if isinstance(parsed.get("metaData"), Mapping)
            else None
        )
        if isinstance(version, str) and not version.startswith("2"):
            message = f"phenopacket schema version {version}: only version 2 is read"
            self._reject(Problem(source.name, None, "$.metaData.phenopacketSchemaVersion", message))
            return None
        subject = parsed.get("subject")
        ident = parsed.get("id") if self._by_packet else (subject.get("id") if isinstance(subject, Mapping) else None)
        if not isinstance(ident, str) or not ident:
            where = "$.id" if self._by_packet else "$.subject.id"
            self._reject(Problem(source.name, None, where, "missing or not a non-empty string"))
            return None
        return map_phenopacket(parsed, ident, self.assembly)

    @staticmethod
    def _collect(carriers: list[Carrier], variants: dict[str, tuple[Document, list[Document]]]) -> None:
        for carrier in carriers:
            key = carrier.variant["variantInternalId"]
            if key not in variants:
                variants[key] = (carrier.variant, [])
            cases = variants[key][1]
            if carrier.case not in cases:
                cases.append(carrier.case)

    def _checked(self, entry: EntryType, docs: Iterator[Document], what: str) -> Iterator[tuple[EntryType, Document]]:
        checker = record_checker(entry.schema_file)
        for doc in docs:
            doc = self._repaired(doc, checker, f"{what} {doc.get(entry.id_field)}")
            problems = checker.problems(doc)
            if problems:
                where, message = problems[0]
                rid = doc.get(entry.id_field)
                self._reject(Problem(f"{what} {rid}", None, where, message))
                continue
            self._count(entry.path)
            yield entry, doc


def infer_assembly(sources: list[Source], limit: int = 200) -> str | None:
    """The assembly of the first vcfRecord among the first `limit` files (all of a corpus agree, or the
    others are reported per record)."""
    for n, (_, parsed) in enumerate(read_sources(sources)):
        if n >= limit:
            break
        if not isinstance(parsed, Mapping):
            continue
        for interpretation in as_list(parsed.get("interpretations")):
            diagnosis = as_object(as_object(interpretation).get("diagnosis"))
            for gi in as_list(diagnosis.get("genomicInterpretations")):
                descriptor = as_object(as_object(as_object(gi).get("variantInterpretation")).get("variationDescriptor"))
                vcf = descriptor.get("vcfRecord")
                if isinstance(vcf, Mapping) and (found := canonical_assembly(str(vcf.get("genomeAssembly", "")))):
                    return found
    return None


def digest_of(sources: list[Source], options: PhenopacketOptions, assembly: str | None) -> str:
    """Digest of everything that determines the load, so an identical re-run is a no-op."""
    h = hashlib.sha256(
        f"{FORMAT_VERSION}\0{options.dataset_id}\0{assembly}\0{options.on_error}\0{options.id_from}"
        f"\0{options.name}\0{options.description}".encode()
    )
    hashed: set[Path] = set()
    for source in sources:
        h.update(f"\0{source.name}\0".encode())
        if source.path in hashed:
            continue
        hashed.add(source.path)
        with source.path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _prepare(inputs: list[Path], options: PhenopacketOptions) -> tuple[list[Source], str | None]:
    sources = find_sources(inputs)
    if options.assembly is not None:
        assembly = canonical_assembly(options.assembly)
        if assembly is None:
            msg = f"--assembly: unknown assembly {options.assembly!r} (use GRCh38, GRCh37 or NCBI36)"
            raise InputError(msg)
        return sources, assembly
    return sources, infer_assembly(sources)


async def load_phenopackets(
    inputs: list[Path],
    options: PhenopacketOptions,
    store: Store | None,
    *,
    table: EntryTypeTable | None = None,
    progress: Progress | None = None,
    allow_empty: bool = False,
    max_rejected: RejectLimit | None = None,
    phase: Callable[[str], None] | None = None,
) -> PhenopacketReport:
    """Replace part `options.part` of the dataset with these phenopackets (store None: validate only).

    The load is refused as ingest/safeguard.py says (`allow_empty`, `max_rejected`); `phase` is told the
    store's phases after the records.

    :raise InputError: unreadable input or an unknown assembly.
    :raise RejectedRecords: `on_error="fail"` and a record is invalid (nothing is written).
    :raise LoadRefused: the load would replace the part with less than it held (nothing changes).
    """
    if options.id_from not in ID_SOURCES:
        msg = f"--id-from: {options.id_from!r} is not one of {', '.join(ID_SOURCES)}"
        raise InputError(msg)
    table = table or EntryTypeTable()
    sources, assembly = await asyncio.to_thread(_prepare, inputs, options)
    report = PhenopacketReport(options.dataset_id, files=len(sources))
    context = LoadContext(options.dataset_id, assembly)
    record = await planned_record(
        store, options.dataset_id, options.part, "phenopackets", options.name, options.description
    )
    if record is not None and record.description is None:
        record = replace(record, described=f"{len(sources)} phenopacket(s) from {', '.join(p.name for p in inputs)}")
    stream = _Stream(sources, options, assembly, report, table, context, progress, record)
    if store is None:
        await asyncio.to_thread(lambda: sum(1 for _ in stream.records()))
        return report
    digest = await asyncio.to_thread(digest_of, sources, options, assembly)
    # Individuals are what a phenopacket is read for; the rest follows from them.
    accepted = lambda: report.counts.get("individuals", 0)  # noqa: E731
    guard = Safeguard(options.dataset_id, accepted, lambda: report.problems, allow_empty, max_rejected)
    load = dataset_load(
        options.dataset_id,
        assembly,
        digest,
        stream.records(),
        part=options.part,
        context=context,
        check=guard.check,
        phase=phase,
    )
    summary = await store.replace_dataset(load)
    report.unchanged = summary.unchanged
    if summary.unchanged:
        report.counts = dict(summary.counts)
    return report
