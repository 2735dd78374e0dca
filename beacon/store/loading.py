"""Turn a stream of (entry type, document) pairs into a DatasetLoad that any backend can swap in."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from beacon.model.entry_types import DEFAULT_TABLE, EntryType
from beacon.store.base import DatasetLoad, Document, LoadCheck, Term
from beacon.store.indexing import LoadContext, index_record

# Collections are indexed in this order (EntryType.load_order): cohorts before their members,
# biosamples before the variants whose carriers name them.
LOAD_ORDER = DEFAULT_TABLE.collections()
# The collection of dataset records: a dataset keeps one, from the part loaded last that brings one.
DATASET_RECORDS = DEFAULT_TABLE.dataset_type().collection


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
    """A lazily indexed load of one part; `records` must arrive in LOAD_ORDER and is consumed once.

    `context` carries what other parts of the dataset already hold (biosample owners, cohorts);
    `check` judges the written counts against the previous version's before the switch; `phase` is told
    the phases after the records.
    """
    ctx = context or LoadContext(dataset_id, assembly)
    indexed = (index_record(entry, doc, ctx) for entry, doc in records)
    return DatasetLoad(dataset_id, assembly, digest, indexed, terms, part=part, check=check, phase=phase)
