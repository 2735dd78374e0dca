"""Beacon-Friendly-Format loader for both layouts found in the wild, streamed and validated record by record.

Classic layout: one JSON array per collection, carriers embedded in each variant's `caseLevelData`.
EGA ri-tools-v2/PI layout: variants without carriers plus `caseLevelData.json` (genotypes keyed by
column index) and `targets.json` (the biosample id of each column); the chromosome comes from the
RefSeq accession in `identifiers.genomicHGVSId`. Both become the same stored documents.
"""

from __future__ import annotations

import asyncio
import difflib
import gzip
import hashlib
import itertools
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import ijson

from beacon.genome.assemblies import canonical_assembly, refseq_chromosome
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.spec import record_checker
from beacon.store.base import Document, Store, Term
from beacon.store.loading import LOAD_ORDER, dataset_load
from ingest.errors import InputError, Problem, RejectedRecords
from ingest.frequencies import with_spec_frequencies
from ingest.repair import repair
from ingest.safeguard import RejectLimit, Safeguard

FILE_NAMES = {
    "datasets": "datasets",
    "cohorts": "cohorts",
    "individuals": "individuals",
    "biosamples": "biosamples",
    "runs": "runs",
    "analyses": "analyses",
    "g_variants": "genomicVariations",
}
FORMAT_VERSION = "bff-1"
# PI genotype codes: allele indices without separator ("01", "11", "1").
_ZYGOSITY = {
    "01": ("GENO:0000458", "heterozygous"),
    "10": ("GENO:0000458", "heterozygous"),
    "11": ("GENO:0000136", "homozygous"),
    "1": ("GENO:0000134", "hemizygous"),
}
# Reference-only calls do not make a carrier.
_NOT_CARRIED = frozenset({"00", "0"})

Progress = Callable[[str, int], None]


@dataclass
class BffReport:
    """What a load did: records per collection, rejected records, records of other datasets skipped."""

    dataset_id: str
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    repairs: list[Problem] = field(default_factory=list)  # sub-values coerced or dropped, the record kept
    other_datasets: int = 0
    exact_duplicates: int = 0
    notes: list[str] = field(default_factory=list)  # decisions the steward should know of, one line each
    unchanged: bool = False


def find_files(directory: Path) -> dict[str, Path]:
    """BFF files present in `directory`, by base name (`individuals`, `caseLevelData`…).

    :raise InputError: the directory does not exist, holds no BFF file, or a file named like one but not quite.
    """
    if not directory.is_dir():
        msg = f"{directory}: not a directory"
        raise InputError(msg)
    found: dict[str, Path] = {}
    for name in [*FILE_NAMES.values(), "caseLevelData", "targets", "filtering_terms"]:
        for suffix in (".json", ".json.gz"):
            path = directory / f"{name}{suffix}"
            if path.is_file():
                found[name] = path
    _check_names(directory)
    if not any(name in found for name in FILE_NAMES.values()):
        expected = ", ".join(f"{n}.json[.gz]" for n in FILE_NAMES.values())
        msg = f"{directory}: no BFF files found (expected any of {expected})"
        raise InputError(msg)
    return found


def _check_names(directory: Path) -> None:
    """:raise InputError: a JSON file whose name is a near miss of a BFF file's (`biosample.json`)."""
    known = [*FILE_NAMES.values(), "caseLevelData", "targets", "filtering_terms"]
    for path in sorted(directory.iterdir()):
        stem = path.name.removesuffix(".gz").removesuffix(".json")
        if path.is_dir() and stem in known:
            msg = f"{path}: a directory, not a BFF file"
            raise InputError(msg)
        if stem == path.name.removesuffix(".gz") or stem in known:
            continue  # not JSON, or a BFF file
        close = difflib.get_close_matches(stem, known, n=1, cutoff=0.8)
        if close:
            msg = f"{path}: not a BFF file name: did you mean {close[0]}.json? (rename it or move it out of the folder)"
            raise InputError(msg)


def _open(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def stream_array(path: Path) -> Iterator[tuple[int, Any]]:
    """(index, item) of a JSON array file, streamed.

    :raise InputError: the file is not a JSON array.
    """
    try:
        with _open(path) as handle:
            events = ijson.parse(handle, use_float=True)
            first = next(events, None)
            if first is None or first[1] != "start_array":
                found = "an empty file" if first is None else f"a JSON {first[1].removeprefix('start_')}"
                msg = f"{path}: expected a JSON array of records, found {found}"
                raise InputError(msg)
            yield from enumerate(ijson.items(itertools.chain([first], events), "item"))
    except (ijson.JSONError, OSError, EOFError, zlib.error) as exc:
        msg = f"{path}: not a readable JSON array ({_first_line(exc)})"
        raise InputError(msg) from exc


def _first_line(exc: BaseException) -> str:
    """A library's message in one line (yajl draws a caret under the input on the lines after)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def content_digest(files: dict[str, Path], dataset_id: str, assembly: str | None, on_error: str = "skip") -> str:
    """Digest of everything that determines a load, so an identical re-run is a no-op.

    The error mode is part of it: input first loaded with rejections skipped must still fail a
    later `--on-error fail` run.
    """
    h = hashlib.sha256(f"{FORMAT_VERSION}\0{dataset_id}\0{assembly}\0{on_error}".encode())
    for name in sorted(files):
        h.update(f"\0{name}\0".encode())
        try:
            with _open(files[name]) as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    h.update(chunk)
        except (OSError, EOFError, zlib.error) as exc:
            msg = f"{files[name]}: the compressed data is damaged or cut short ({_first_line(exc)})"
            raise InputError(msg) from exc
    return h.hexdigest()


def infer_assembly(files: dict[str, Path]) -> str | None:
    """The assembly named by versioned RefSeq accessions in the first variants, if they agree."""
    path = files.get("genomicVariations")
    if path is None:
        return None
    seen: set[str] = set()
    for index, doc in stream_array(path):
        if index >= 200:
            break
        hgvs = (doc.get("identifiers") or {}).get("genomicHGVSId") if isinstance(doc, dict) else None
        found = refseq_chromosome(hgvs.split(":", 1)[0]) if isinstance(hgvs, str) else None
        if found and found[1]:
            seen.add(found[1])
    return seen.pop() if len(seen) == 1 else None


def _carriers(files: dict[str, Path], dataset_id: str) -> dict[str, list[dict[str, Any]]]:
    """PI layout: caseLevelData rows joined with the targets' biosample columns, keyed by variant `_id`."""
    if "caseLevelData" not in files:
        return {}
    columns: list[str] = []
    if "targets" in files:
        for _, row in stream_array(files["targets"]):
            if isinstance(row, dict) and row.get("datasetId", dataset_id) == dataset_id:
                columns = list(row.get("biosampleIds", []))
    carriers: dict[str, list[dict[str, Any]]] = {}
    for index, row in stream_array(files["caseLevelData"]):
        if not isinstance(row, dict) or row.get("datasetId", dataset_id) != dataset_id:
            continue
        entries = []
        for key, code in row.items():
            if not key.isdigit():
                continue
            column = int(key)
            if column >= len(columns):
                msg = f"{files['caseLevelData']}: record {index}: column {column} has no biosample in targets"
                raise InputError(msg)
            if str(code) in _NOT_CARRIED:
                continue
            if str(code) not in _ZYGOSITY:
                msg = f"{files['caseLevelData'].name}: record {index}: column {key}: unknown genotype code {code!r}"
                raise InputError(msg)
            zyg_id, zyg_label = _ZYGOSITY[str(code)]
            entries.append({"biosampleId": columns[column], "zygosity": {"id": zyg_id, "label": zyg_label}})
        for join_key in (row.get("_id"), row.get("id")):
            if isinstance(join_key, str):
                carriers[join_key] = entries
    return carriers


@dataclass
class _Reader:
    directory: Path
    dataset_id: str
    table: EntryTypeTable
    report: BffReport
    on_error: str
    progress: Progress | None = None
    synthesized: int = 0  # records made here rather than read (the dataset record of a folder without one)
    adopt_dataset: bool = False  # datasets.json holds one record, of another id: it describes this dataset

    def records(self, files: dict[str, Path]) -> Iterator[tuple[EntryType, Document]]:
        carriers = _carriers(files, self.dataset_id)
        if "datasets" in files:
            self.adopt_dataset = sum(1 for _ in stream_array(files["datasets"])) == 1
        by_path = {t.path: t for t in self.table.types}
        saw_dataset = False
        for collection in LOAD_ORDER:
            entry = by_path[collection]
            name = FILE_NAMES[collection]
            if name in files:
                for doc in self._valid(entry, files[name], carriers):
                    saw_dataset = saw_dataset or collection == "datasets"
                    yield entry, doc
            if collection == "datasets" and not saw_dataset:
                # Every loaded dataset answers /datasets/{id}, even without a datasets file.
                self.report.counts["datasets"] = 1
                self.synthesized = 1
                yield entry, {"id": self.dataset_id, "name": self.dataset_id}

    def _reject(self, problem: Problem) -> None:
        self.report.problems.append(problem)
        if self.on_error == "fail":
            raise RejectedRecords([problem])

    def _valid(self, entry: EntryType, path: Path, carriers: dict[str, list[dict[str, Any]]]) -> Iterator[Document]:
        checker = record_checker(entry.schema_file)
        seen: dict[str, bytes] = {}
        name = path.name
        for index, doc in stream_array(path):
            if self.progress is not None:
                self.progress(entry.path, index + 1)
            if not isinstance(doc, dict):
                self._reject(Problem(name, index, "$", f"expected an object, got {type(doc).__name__}"))
                continue
            owner = doc.get("datasetId")
            if entry.path == "datasets":
                owner = doc.get("id")
            if isinstance(owner, str) and owner != self.dataset_id:
                if entry.path == "datasets" and self.adopt_dataset:
                    # The folder's only dataset record, written for another id: it is this dataset's.
                    self.report.notes.append(
                        f"{name}: record {index}: the only dataset record, id {owner!r}, "
                        f"is taken as the record of dataset {self.dataset_id!r}"
                    )
                    doc = {**doc, "id": self.dataset_id}
                else:
                    self.report.other_datasets += 1
                    continue
            doc = {k: v for k, v in doc.items() if k != "_id"} | {"_id": doc.get("_id")}
            if entry.holds_variants:
                doc, renamed = with_spec_frequencies(doc)
                if renamed:
                    self.report.repairs.append(
                        Problem(name, index, "$.frequencyInPopulations", "populations[] read as frequencies[]")
                    )
            if entry.path == "g_variants" and "caseLevelData" not in doc:
                found = carriers.get(str(doc.get("_id"))) or carriers.get(
                    str((doc.get("identifiers") or {}).get("genomicHGVSId"))
                )
                if found:
                    doc["caseLevelData"] = found
            doc.pop("_id")
            rid = doc.get(entry.id_field)
            if not isinstance(rid, str) or not rid:
                self._reject(Problem(name, index, f"$.{entry.id_field}", "missing or not a non-empty string"))
                continue
            violations = checker.problems(doc)
            if violations and self.on_error == "repair":
                repaired = repair(doc, checker)
                if repaired.doc is not None:
                    doc = repaired.doc
                    self.report.repairs += [
                        Problem(name, index, r.path, f"{r.action} (id {rid})") for r in repaired.repairs
                    ]
                    violations = []
                else:
                    violations = [repaired.rejected] if repaired.rejected else violations
            if violations:
                where, message = violations[0]
                self._reject(Problem(name, index, where, f"{message} (id {rid})"))
                continue
            fingerprint = hashlib.blake2b(json.dumps(doc, sort_keys=True).encode(), digest_size=16).digest()
            if rid in seen:
                if seen[rid] == fingerprint:
                    # A byte-identical repeat adds nothing: drop it, count it, don't reject it.
                    self.report.exact_duplicates += 1
                else:
                    self._reject(
                        Problem(name, index, f"$.{entry.id_field}", f"duplicate id {rid!r} with different content")
                    )
                continue
            seen[rid] = fingerprint
            self.report.counts[entry.path] = self.report.counts.get(entry.path, 0) + 1
            yield doc


def declared_terms(files: dict[str, Path], table: EntryTypeTable) -> tuple[tuple[str, Term], ...]:
    """Filtering terms a BFF `filtering_terms` file declares (alphanumeric and custom ones are only known so)."""
    if "filtering_terms" not in files:
        return ()
    scopes = table.by_scope()
    out: list[tuple[str, Term]] = []
    for _, item in stream_array(files["filtering_terms"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        for scope in item.get("scopes") or []:
            if scope in scopes:
                kind = str(item.get("type", "ontology"))
                out.append((scopes[scope].collection, Term(item["id"], kind, scope, item.get("label"))))
    return tuple(out)


async def load_bff(
    directory: Path,
    dataset_id: str,
    store: Store | None,
    *,
    assembly: str | None = None,
    on_error: str = "repair",
    table: EntryTypeTable | None = None,
    progress: Progress | None = None,
    allow_empty: bool = False,
    max_rejected: RejectLimit | None = None,
    phase: Callable[[str], None] | None = None,
) -> BffReport:
    """Validate a BFF directory and replace dataset `dataset_id` with it (store None: validate only).

    Invalid records are repaired (`on_error="repair"`, ingest/repair.py: invalid sub-values coerced
    or dropped, each change reported), reported and skipped (`"skip"`) or abort the whole load
    (`"fail"`); either way the previous version of the dataset stays intact on failure.
    The load is refused as ingest/safeguard.py says (`allow_empty`, `max_rejected`); `phase` is told the
    store's phases after the records.

    :raise InputError: unreadable input or an assembly that is unknown or cannot be inferred.
    :raise RejectedRecords: `on_error="fail"` and a record is invalid.
    :raise LoadRefused: the load would replace the dataset with less than it held (nothing changes).
    """
    table = table or EntryTypeTable()
    # File system work happens on a worker thread: the event loop may be serving requests.
    files, assembly, digest, terms = await asyncio.to_thread(_prepare, directory, dataset_id, assembly, table, on_error)
    report = BffReport(dataset_id)
    reader = _Reader(directory, dataset_id, table, report, on_error, progress)
    records = reader.records(files)
    if store is None:
        await asyncio.to_thread(lambda: sum(1 for _ in records))
        return report
    guard = Safeguard(
        dataset_id,
        lambda: sum(report.counts.values()) - reader.synthesized,
        lambda: report.problems,
        allow_empty,
        max_rejected,
    )
    load = dataset_load(dataset_id, assembly, digest, records, terms, part="bff", check=guard.check, phase=phase)
    summary = await store.replace_dataset(load)
    report.unchanged = summary.unchanged
    if summary.unchanged:
        report.counts = dict(summary.counts)
    return report


def _prepare(
    directory: Path, dataset_id: str, assembly: str | None, table: EntryTypeTable, on_error: str
) -> tuple[dict[str, Path], str | None, str, tuple[tuple[str, Term], ...]]:
    files = find_files(directory)
    if assembly is not None:
        canonical = canonical_assembly(assembly)
        if canonical is None:
            msg = f"--assembly: unknown assembly {assembly!r} (use GRCh38, GRCh37 or NCBI36)"
            raise InputError(msg)
        assembly = canonical
    elif "genomicVariations" in files:
        assembly = infer_assembly(files)
        if assembly is None:
            msg = f"{files['genomicVariations']}: the assembly cannot be inferred from the variants; pass --assembly"
            raise InputError(msg)
    return files, assembly, content_digest(files, dataset_id, assembly, on_error), declared_terms(files, table)
