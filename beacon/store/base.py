"""The Store protocol every backend implements, and the values it exchanges with the layers above."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from beacon.genome.hgvs import is_transcript_hgvs
from beacon.model.plan import Query

if TYPE_CHECKING:
    from beacon.store.bulk import LoadBatch

Document = dict[str, Any]
# Judges a load before it becomes visible: (previous counts of the part or None, new counts) -> None;
# raising aborts the load and the previous version stays as it was.
LoadCheck = Callable[[Mapping[str, int] | None, Mapping[str, int]], None]
# How a dataset catalog persists LoadTally.transcript_annotated_variants: beside the collection counts,
# under this key (stores written before the field existed hold it there too).
TRANSCRIPT_ANNOTATED = "variants with transcript HGVS"


@dataclass(frozen=True)
class Tombstone:
    """What is left of a withdrawn dataset: who withdrew it, when (ISO 8601, UTC), why, and how."""

    dataset_id: str
    withdrawn_at: str
    operator: str
    reason: str
    hard: bool

    def as_record(self) -> dict[str, Any]:
        return {
            "datasetId": self.dataset_id,
            "withdrawnAt": self.withdrawn_at,
            "operator": self.operator,
            "reason": self.reason,
            "mode": "hard" if self.hard else "soft",
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Tombstone:
        return cls(
            str(record["datasetId"]),
            str(record["withdrawnAt"]),
            str(record["operator"]),
            str(record["reason"]),
            record.get("mode") == "hard",
        )


@dataclass(frozen=True)
class StoreOptions:
    """Connection settings from conf's `store:` section, shared by the backends that use them."""

    timeout_ms: int = 10_000  # connect/server selection and each operation (MongoDB), lock wait (SQLite)
    read_preference: str = "primaryPreferred"  # MongoDB replica sets: where queries may read
    # MongoDB: how long a replaced generation outlives its switch: the request deadline (30 s), a
    # secondary's replication lag (up to 60 s tolerated) and a margin (docs/scaling.md).
    retire_after_s: float = 120.0


@dataclass(frozen=True)
class Term:
    """A filtering term as listed by /filtering_terms."""

    id: str
    type: str  # ontology | alphanumeric | custom
    scope: str
    label: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """A loaded dataset as the store knows it."""

    id: str
    assembly: str | None
    digest: str
    loaded_at: str
    counts: Mapping[str, int]
    # Variants carrying transcript-level (c./n./p.) HGVS ids: without any, such expressions cannot match.
    transcript_annotated_variants: int = 0


@dataclass(frozen=True, slots=True)
class VariantPosition:
    """Where a genomic variant lies, as every backend indexes it (0-based, half-open `start`..`end`)."""

    assembly: str | None
    chrom: str
    start: int
    end: int
    ref: str | None
    alt: str | None
    type: str | None
    length: int

    @property
    def span(self) -> int:
        return self.end - self.start

    def columns(self) -> tuple[str | int | None, ...]:
        """(assembly, chrom, start, end, ref, alt, type, length): the order of the stores' variant columns."""
        return (self.assembly, self.chrom, self.start, self.end, self.ref, self.alt, self.type, self.length)


@dataclass(frozen=True)
class IndexedRecord:
    """A record ready to store: the document plus what every backend indexes for it."""

    collection: str
    scope: str
    id: str
    doc: Document
    keys: tuple[tuple[str, str], ...] = ()
    terms: tuple[tuple[str, str | None], ...] = ()  # (term id, label)
    values: tuple[tuple[str, str | None, float | None], ...] = ()
    variant: VariantPosition | None = None
    # A variant's carriers as sample sets (store/carriers.py); its caseLevelData is then stored as [].
    carriers: tuple[bytes | None, bytes | None, bytes | None] | None = None
    # Samples of the load first indexed with this record: (sample index, biosample id, individual id).
    samples: tuple[tuple[int, str, str | None], ...] = ()
    # The link-key kind whose value is the record's own id (EntryType.own_kind): which collection's
    # records a sample's biosample or individual id names (the SQLite store maps samples to them).
    own_kind: str | None = None


@dataclass(frozen=True)
class DatasetLoad:
    """Everything that replaces one part of a dataset, streamed once.

    The records come as bulk batches (beacon/store/bulk.py), the one form every backend consumes:
    `store/loading.py: dataset_load` packs indexed documents into them, the VCF loader builds them.
    """

    dataset_id: str
    assembly: str | None
    digest: str
    batches: Iterable[LoadBatch]
    terms: tuple[tuple[str, Term], ...] = field(default=())  # (collection, term)
    # A dataset is the union of its parts (e.g. "bff" metadata and "vcf" variants); a load replaces one part.
    part: str = "main"
    # Called once every record is written and before the switch (both backends), in the load's thread.
    check: LoadCheck | None = None
    # Told each phase after the records ("building indexes", "analysing", "switching"), in the load's thread.
    phase: Callable[[str], None] | None = None

    def enter(self, phase: str) -> None:
        if self.phase is not None:
            self.phase(phase)

    @property
    def records(self) -> Iterator[IndexedRecord]:
        """The batches' records one by one (consumes the stream), for readers that want IndexedRecords."""
        for batch in self.batches:
            yield from batch.indexed()


@dataclass(frozen=True)
class LoadSummary:
    dataset_id: str
    counts: Mapping[str, int]
    unchanged: bool = False


class Store(Protocol):
    """A backend: translates and executes query plans, replaces datasets atomically."""

    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def count_by_dataset(self, query: Query) -> dict[str, int]:
        """Matching records per dataset (datasets without matches are absent).

        Every query method evaluates the `Related` conditions of its plan itself, pairing the records
        of each dataset with source records of the same dataset only.
        """
        ...

    async def find(self, query: Query) -> list[Document]:
        """Matching records, ordered by load order, paged by `offset`/`limit`."""
        ...

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        """Distinct values of key `kind` over the records matching `query`; for the biosample and individual
        kinds also the carriers a variant keeps as sample sets (beacon/store/carriers.py).

        Not used for cross-entity conditions: those are `Related` plan nodes, paired within each
        dataset by the backend itself.
        """
        ...

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        """Values of key `kind` on the record(s) with this id, carriers kept as sets included (as
        `distinct_keys`); empty if the record has none."""
        ...

    async def record_datasets(self, collection: str, record_id: str, datasets: tuple[str, ...]) -> list[str]:
        """Datasets, among `datasets`, that hold a record with this id."""
        ...

    async def terms(
        self, collections: tuple[str, ...], datasets: tuple[str, ...], record: tuple[str, str] | None = None
    ) -> list[Term]:
        """Filtering terms of the collections in the datasets, or of one (collection, id) record."""
        ...

    async def datasets(self) -> list[DatasetInfo]:
        """Datasets currently loaded."""
        ...

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        """Replace a dataset atomically; readers see the old or the new one, never a mix.

        A load whose digest equals the stored one changes nothing (`unchanged=True`).
        """
        ...

    async def delete_dataset(self, dataset_id: str) -> bool: ...

    async def record_keys(self, collection: str, dataset_id: str, kind: str) -> dict[str, list[str]]:
        """Record id -> values of key `kind`, for every record of a collection in one dataset.

        Key rows only: carriers a variant keeps as sample sets are not listed (a dump of every carrier of
        every variant is what the sets avoid; `keys_of` reads one record's).
        """
        ...

    async def withdraw_dataset(self, tombstone: Tombstone) -> bool:
        """Withdraw a dataset (docs/withdrawal.md): from now on `datasets` does not list it, so no answer
        includes it; `tombstone.hard` also deletes its records. Atomic where the backend allows (SQLite:
        one transaction; MongoDB: the tombstone first, so a failed delete leaves it hidden). False when
        the dataset was neither loaded nor withdrawn before."""
        ...

    async def tombstones(self) -> list[Tombstone]:
        """The withdrawn datasets' tombstones, by dataset id."""
        ...

    async def republish(self, dataset_id: str) -> bool:
        """Remove the dataset's tombstone (after an explicit re-load); False when it had none."""
        ...


@dataclass
class LoadTally:
    """What every backend records about a load besides the records: counts, term catalog, longest span."""

    counts: dict[str, int] = field(default_factory=dict)
    catalog: dict[tuple[str, str, str], str | None] = field(default_factory=dict)  # (coll, term, scope) -> label
    max_span: int = 0
    transcript_annotated_variants: int = 0

    def add(self, rec: IndexedRecord) -> None:
        if rec.variant is not None:
            self.max_span = max(self.max_span, rec.variant.span)
        for term, label in rec.terms:
            if self.catalog.get((rec.collection, term, rec.scope)) is None:
                self.catalog[(rec.collection, term, rec.scope)] = label
        self.counts[rec.collection] = self.counts.get(rec.collection, 0) + 1
        if any(kind == "hgvs" and is_transcript_hgvs(value) for kind, value in rec.keys):
            self.transcript_annotated_variants += 1

    def merge(self, later: LoadTally) -> None:
        """Add the tally of later records, as if this one had seen them one by one."""
        for coll, n in later.counts.items():
            self.counts[coll] = self.counts.get(coll, 0) + n
        for key, label in later.catalog.items():
            if self.catalog.get(key) is None:
                self.catalog[key] = label
        self.max_span = max(self.max_span, later.max_span)
        self.transcript_annotated_variants += later.transcript_annotated_variants

    def catalog_counts(self) -> dict[str, int]:
        """The counts a backend's dataset catalog keeps for the load (read back by `merge_parts`)."""
        if not self.transcript_annotated_variants:
            return dict(self.counts)
        return {**self.counts, TRANSCRIPT_ANNOTATED: self.transcript_annotated_variants}

    def terms(self, load: DatasetLoad) -> list[tuple[str, Term]]:
        """(collection, term) for every ontology term seen, then the load's declared terms (which win)."""
        seen = [(coll, Term(term, "ontology", scope, label)) for (coll, term, scope), label in self.catalog.items()]
        return seen + list(load.terms)


@dataclass(frozen=True)
class LoadedPart:
    """One loaded part of a dataset, as a backend's catalog records it."""

    dataset: str
    part: str
    assembly: str | None
    digest: str
    loaded_at: str
    counts: Mapping[str, int]


def merge_parts(parts: Iterable[LoadedPart]) -> list[DatasetInfo]:
    """Datasets as the union of their parts, in the order the parts come (sorted by dataset, part)."""
    merged: dict[str, DatasetInfo] = {}
    for p in parts:
        before = merged.get(p.dataset)
        transcripts = p.counts.get(TRANSCRIPT_ANNOTATED, 0)
        if before is None:
            merged[p.dataset] = DatasetInfo(p.dataset, p.assembly, p.digest, p.loaded_at, dict(p.counts), transcripts)
            continue
        total = {k: before.counts.get(k, 0) + p.counts.get(k, 0) for k in {*before.counts, *p.counts}}
        merged[p.dataset] = DatasetInfo(
            p.dataset,
            before.assembly or p.assembly,
            f"{before.digest}+{p.digest}",
            max(before.loaded_at, p.loaded_at),
            total,
            before.transcript_annotated_variants + transcripts,
        )
    return list(merged.values())
