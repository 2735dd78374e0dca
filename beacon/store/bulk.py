"""The bulk-load type: a load's records as column batches that every backend consumes as they come.

A `DatasetLoad` streams `LoadBatch`es. A batch holds consecutive records of one load as plain
tuples in a few columns, numbered 1, 2, … within the load (`n`), so that loaders can build them
without documents (the VCF loader's plain alleles, ingest/vcf/rows.py), worker processes can pickle
them cheaply, and the embedded store inserts them with one executemany per column and no Python per
row. Document stores read the same batch record by record (`per_record`).

    records     (n, collection, dataset, part, id, document text, *VariantPosition.columns() or NO_VARIANT)
                the text is the compact document (beacon/store/compact.py: `encode`)
    keys        (kind, value, n)              link keys (carriers, owners, cohorts, hgvs, …)
    key_lists   (kind, n, JSON array)         many keys of one kind on one record at once (carriers kept as keys)
    carrier_sets (n, het, hom, hemi)          a variant's carriers as serialised Roaring bitmaps of sample
                                              indexes, None for an empty set (beacon/store/carriers.py)
    samples     (sample index, biosample, individual)  the load's samples as they became known
    terms       (term id, n)                  ontology terms; labels are in the tally's catalog
    populations (n, JSON array of names)      the populations a record was observed in: its `population:<name>`
                                              terms (beacon/model/populations.py), which are never in `terms`
    values      (n, path, text, number)       alphanumeric values, but for the record's own id: its text at the
                                              id field's path (ID_PATHS), cut as indexing cuts text, is the id
                                              column's, so that value is left out unless it is also a number
    tally       LoadTally of these records    counts, term catalog, longest span, transcript-annotated variants
    scopes      collection -> filtering-term scope
    owners      link-key kind -> the collection whose records have it as their own id (`individual` ->
                individuals), for the kinds of the records so far
    offset      added to every `n` of the batch: its records' numbers in the load are n + offset (parsers
                of regions number each region from 1; the loader taking them in order says where it starts)

New kinds of content are new columns (fields with an empty default), never a change of the existing
ones: a backend that does not know a column ignores it, and old producers leave it empty. Carriers
came that way: VCF carriers are `carrier_sets` over the `samples` of the load; carrier lists of other
shapes stay `keys`/`key_lists` and the document's caseLevelData.

Per-record problems (invalid records skipped, repaired values) stay in the loader's report: the
store never reads them, and the load's `check` judges the counts the batches' tallies add up to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.populations import TERM_PREFIX
from beacon.store.base import Document, IndexedRecord, LoadTally, VariantPosition
from beacon.store.compact import decode, encode

# The path of each collection's record id: a record's value there is its id (store/indexing.py: `record_id`).
ID_PATHS = {entry.collection: entry.id_field for entry in DEFAULT_TABLE.types}
# Indexing's cut of text values (store/indexing.py).
MAX_TEXT = 256
# Rows of records without a variant: the eight variant columns are None.
NO_VARIANT = (None,) * 8
# A batch is handed over once it holds about this many rows (text counted per 256 bytes), so memory
# stays flat however large the load and however many carriers a variant has.
BATCH_WEIGHT = 40_000

RecordRow = tuple[
    Any, ...
]  # (n, collection, dataset, part, id, text, assembly, chrom, start, end, ref, alt, type, length)
Value = tuple[str, str | None, float | None]  # (path, text, number)


class BatchRecord(NamedTuple):
    """One record of a batch, its columns gathered, as backends that store documents write it."""

    collection: str
    dataset: str
    part: str
    id: str
    doc: Document
    variant: tuple[Any, ...] | None  # VariantPosition.columns(), or None
    keys: list[tuple[str, str]]
    terms: list[str]
    values: list[Value]
    carriers: tuple[bytes | None, bytes | None, bytes | None] | None = None


@dataclass
class LoadBatch:
    """Consecutive records of one load, in columns (see the module docstring for each column's rows)."""

    records: list[RecordRow] = field(default_factory=list)
    keys: list[tuple[str, str, int]] = field(default_factory=list)
    key_lists: list[tuple[str, int, str]] = field(default_factory=list)
    terms: list[tuple[str, int]] = field(default_factory=list)
    populations: list[tuple[int, str]] = field(default_factory=list)
    values: list[tuple[int, str, str | None, float | None]] = field(default_factory=list)
    carrier_sets: list[tuple[int, bytes | None, bytes | None, bytes | None]] = field(default_factory=list)
    samples: list[tuple[int, str, str | None]] = field(default_factory=list)
    tally: LoadTally = field(default_factory=LoadTally)
    scopes: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    offset: int = 0

    def per_record(self) -> Iterator[BatchRecord]:
        """The batch's records with their keys, terms and values (a record's key_lists before its keys)."""
        keys: dict[int, dict[tuple[str, str], None]] = {}
        for kind, n, listed in self.key_lists:
            keys.setdefault(n, {}).update(dict.fromkeys((kind, v) for v in json.loads(listed)))
        for kind, value, n in self.keys:
            keys.setdefault(n, {})[(kind, value)] = None
        terms: dict[int, list[str]] = {}
        for term, n in self.terms:
            terms.setdefault(n, []).append(term)
        for n, names in self.populations:
            terms.setdefault(n, []).extend([TERM_PREFIX + name for name in json.loads(names)])
        values: dict[int, list[Value]] = {}
        for n, path, text, number in self.values:
            values.setdefault(n, []).append((path, text, number))
        carriers = {n: (het, hom, hemi) for n, het, hom, hemi in self.carrier_sets}
        for n, coll, dataset, part, rid, text, *columns in self.records:
            placed = columns[1] is not None
            found = values.get(n, [])
            id_path = ID_PATHS.get(coll)
            if id_path is not None and not any(v[0] == id_path and v[1] == rid[:MAX_TEXT] for v in found):
                # Left out when packed (see the module docstring): given back where indexing puts it, first.
                found = [(id_path, rid[:MAX_TEXT], None), *found]
            yield BatchRecord(
                coll,
                dataset,
                part,
                rid,
                decode(text, (dataset, rid, *columns[:7])),
                tuple(columns) if placed else None,
                list(keys.get(n, ())),
                terms.get(n, []),
                found,
                carriers.get(n),
            )

    def indexed(self) -> Iterator[IndexedRecord]:
        """The batch's records as IndexedRecords, term labels from the tally's catalog."""
        catalog = self.tally.catalog
        own_kinds = {collection: kind for kind, collection in self.owners.items()}
        for rec in self.per_record():
            scope = self.scopes[rec.collection]
            yield IndexedRecord(
                collection=rec.collection,
                scope=scope,
                id=rec.id,
                doc=rec.doc,
                keys=tuple(rec.keys),
                terms=tuple((t, catalog.get((rec.collection, t, scope))) for t in rec.terms),
                values=tuple(rec.values),
                variant=VariantPosition(*rec.variant) if rec.variant is not None else None,
                carriers=rec.carriers,
                own_kind=own_kinds.get(rec.collection),
            )


_PREFIX_LENGTH = len(TERM_PREFIX)


def populations_text(names: Iterable[str]) -> str:
    """The `populations` column's text for these population names (distinct, in the record's order).

    What json.dumps(names, separators=(",", ":")) gives, without its encoder's dispatch per call.
    """
    return f"[{','.join([encode_basestring_ascii(name) for name in names])}]"


class LoadPacker:
    """Numbers a load's records and gathers them into LoadBatches.

    `add` packs an IndexedRecord; loaders that build columns directly append to `batch` themselves,
    numbering with `number` and adding to `weight` and the batch's tally as `add` does.
    """

    def __init__(self, dataset: str, part: str, max_records: int | None = None) -> None:
        self.dataset = dataset
        self.part = part
        self.max_records = max_records  # a batch is also full at this many records
        self.count = 0  # records numbered so far
        self.weight = 0
        self.batch = LoadBatch()
        self.scopes: dict[str, str] = {}  # collection -> filtering-term scope, given to every batch
        self.owners: dict[str, str] = {}  # link-key kind -> collection of the records it is the id of

    def number(self) -> int:
        self.count += 1
        return self.count

    def add(self, rec: IndexedRecord) -> None:
        """One indexed record, its document compacted against its variant columns."""
        n = self.number()
        batch, variant = self.batch, rec.variant
        if variant is None:
            text = encode(rec.doc, None)
            batch.records.append((n, rec.collection, self.dataset, self.part, rec.id, text, *NO_VARIANT))
        else:
            columns = variant.columns()
            text = encode(rec.doc, (self.dataset, rec.id, *columns[:7]))
            batch.records.append((n, rec.collection, self.dataset, self.part, rec.id, text, *columns))
        batch.keys.extend([(kind, value, n) for kind, value in rec.keys])
        if rec.terms:
            # A variant has a population term per population it was seen in: one row per record holds them
            # (a fifth of the rows of a sites-only 1000 Genomes load, measured, were such terms).
            names = [term[_PREFIX_LENGTH:] for term, _ in rec.terms if term.startswith(TERM_PREFIX)]
            if names:
                batch.terms.extend([(term, n) for term, _ in rec.terms if not term.startswith(TERM_PREFIX)])
                batch.populations.append((n, populations_text(names)))
            else:
                batch.terms.extend([(term, n) for term, _ in rec.terms])
        values = rec.values
        if values and values[0] == (ID_PATHS.get(rec.collection), rec.id[:MAX_TEXT], None):
            # The id column holds it (see the module docstring); indexing puts it first.
            values = values[1:]
        batch.values.extend([(n, path, s, number) for path, s, number in values])
        if rec.carriers is not None:
            batch.carrier_sets.append((n, *rec.carriers))
        if rec.samples:
            batch.samples.extend(rec.samples)
        batch.tally.add(rec)
        self.scopes[rec.collection] = rec.scope
        if rec.own_kind is not None:
            self.owners[rec.own_kind] = rec.collection
        self.weight += 1 + len(rec.keys) + len(rec.values) + len(text) // 256

    @property
    def full(self) -> bool:
        if self.max_records is not None and len(self.batch.records) >= self.max_records:
            return True
        return self.weight >= BATCH_WEIGHT

    def take(self) -> LoadBatch:
        batch, self.batch, self.weight = self.batch, LoadBatch(), 0
        batch.scopes = dict(self.scopes)
        batch.owners = dict(self.owners)
        return batch
