"""The Store protocol every backend implements, and the values it exchanges with the layers above."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from beacon.model.plan import Query

Document = dict[str, Any]
# Pseudo-collection in DatasetInfo.counts: variants carrying transcript-level (c./n./p.) HGVS ids.
TRANSCRIPT_ANNOTATED = "variants with transcript HGVS"


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
    variant: tuple[Any, ...] | None = None  # assembly, chrom, start, end, ref, alt, type, length


@dataclass(frozen=True)
class DatasetLoad:
    """Everything that replaces one dataset, streamed once."""

    dataset_id: str
    assembly: str | None
    digest: str
    records: Iterable[IndexedRecord]
    terms: tuple[tuple[str, Term], ...] = field(default=())  # (collection, term)
    # A dataset is the union of its parts (e.g. "bff" metadata and "vcf" variants); a load replaces one part.
    part: str = "main"


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
        """Matching records per dataset (datasets without matches are absent)."""
        ...

    async def find(self, query: Query) -> list[Document]:
        """Matching records, ordered by load order, paged by `offset`/`limit`."""
        ...

    async def distinct_keys(self, query: Query, kind: str) -> list[str]:
        """Distinct values of key `kind` over the records matching `query` (cross-entity pivots)."""
        ...

    async def keys_of(self, collection: str, record_id: str, kind: str, datasets: tuple[str, ...]) -> list[str]:
        """Values of key `kind` on the record(s) with this id; empty if the record has none."""
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
        """Record id -> values of key `kind`, for every record of a collection in one dataset."""
        ...


def stream_batches(records: Iterable[IndexedRecord], size: int) -> Iterable[list[IndexedRecord]]:
    """Group records into lists of at most `size`, preserving order."""
    batch: list[IndexedRecord] = []
    for r in records:
        batch.append(r)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
