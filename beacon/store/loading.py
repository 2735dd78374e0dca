"""Turn a stream of (entry type, document) pairs into a DatasetLoad that any backend can swap in.

Each document is indexed (store/indexing.py) and packed into the load's bulk batches
(store/bulk.py) as the store reads them, so a load of any size streams through in constant memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from beacon.model.entry_types import DEFAULT_TABLE, EntryType
from beacon.store.base import DatasetLoad, Document, IndexedRecord, LoadCheck, Term
from beacon.store.bulk import LoadBatch, LoadPacker
from beacon.store.indexing import LoadContext, index_record

# Collections are indexed in this order (EntryType.load_order): cohorts before their members,
# biosamples before the variants whose carriers name them.
LOAD_ORDER = DEFAULT_TABLE.collections()
# The collection of dataset records: a dataset keeps one, from the part loaded last that brings one.
DATASET_RECORDS = DEFAULT_TABLE.dataset_type().collection
# Records of a document load per batch, at most: a document store writes each batch as it comes, so
# the records of a long load reach it steadily, not only every BATCH_WEIGHT rows.
RECORDS_PER_BATCH = 1000


def dataset_load(
    dataset_id: str,
    assembly: str | None,
    digest: str,
    records: Iterable[tuple[EntryType, Document]],
    terms: tuple[tuple[str, Term], ...] = (),
    *,
    part: str = "main",
    context: LoadContext | None = None,
    check: LoadCheck | None = None,
    phase: Callable[[str], None] | None = None,
) -> DatasetLoad:
    """A lazily indexed and packed load of one part; `records` must arrive in LOAD_ORDER and is consumed once.

    `context` carries what other parts of the dataset already hold (biosample owners, cohorts);
    `check` judges the written counts against the previous version's before the switch; `phase` is told
    the phases after the records.
    """
    ctx = context or LoadContext(dataset_id, assembly)
    indexed = (index_record(entry, doc, ctx) for entry, doc in records)
    batches = packed(indexed, dataset_id, part)
    return DatasetLoad(dataset_id, assembly, digest, batches, terms, part=part, check=check, phase=phase)


def packed(records: Iterable[IndexedRecord], dataset_id: str, part: str) -> Iterator[LoadBatch]:
    """Indexed records as the bulk batches of one part (at least one batch, possibly empty)."""
    packer = LoadPacker(dataset_id, part, RECORDS_PER_BATCH)
    for rec in records:
        packer.add(rec)
        if packer.full:
            yield packer.take()
    yield packer.take()
