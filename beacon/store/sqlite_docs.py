"""How the embedded store keeps documents and records: what a variant's columns already hold is not stored twice.

A genomicVariation whose `variantInternalId` leads, followed by a `variation` that is exactly what the
record's variant columns describe, is stored as the JSON array `[flags, rest]`: `rest` is the document
without those two fields, nor the genomic HGVS id the columns spell when `identifiers` starts with it,
nor the `sourceReference` of frequency sources when it is `dataset:<the record's dataset>`. `decode`
puts them back in their place, so readers get the document that was loaded, key order included.
Every other document is stored whole, as a JSON object; the first character tells the forms apart.

A load can reach the store already in this form (`RowStream` of `RowBatch`es, built by `RowPacker`):
the rows of the records, keys, terms and values tables, numbered 1, 2, … within the load. Loaders
that can build rows without documents (the VCF loader) skip the documents; the bulk loader then
only inserts. Backends that store documents iterate the same stream as `IndexedRecord`s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from beacon.genome.assemblies import refseq_accession, sequence_id
from beacon.genome.hgvs import genomic_expression
from beacon.genome.vrs import sequence_variation
from beacon.store.base import Document, IndexedRecord, LoadTally, VariantPosition

_HGVS = 1  # flag: identifiers.genomicHGVSId was dropped
_SOURCE_REFERENCE = 2  # flag: frequencyInPopulations[].sourceReference was dropped
_SEQUENCE_TYPES = frozenset({"SNP", "MNP", "DEL", "INS", "INDEL"})
_VARIATION_KEYS = ["variantType", "referenceBases", "alternateBases", "location"]
_LOCATION_KEYS = ["type", "sequence_id", "interval"]
_INTERVAL_KEYS = ["type", "start", "end"]
_NUMBER_KEYS = ["type", "value"]
_LEAD = ["variantInternalId", "variation"]

_encode = json.JSONEncoder(separators=(",", ":")).encode
_decode = json.JSONDecoder().decode

# The columns `encode` and `decode` need: dataset, id, assembly, chrom, start, end, ref, alt, type.
Columns = tuple[Any, ...]


def _variation(cols: Columns) -> Document:
    _, _, asm, chrom, start, end, ref, alt, vtype = cols
    return sequence_variation(vtype, ref, alt, chrom, asm, start, end)


def _is_number(node: object, value: int) -> bool:
    return (
        type(node) is dict
        and list(node) == _NUMBER_KEYS
        and node["type"] == "Number"
        and type(node["value"]) is int
        and node["value"] == value
    )


def _is_rebuildable(variation: object, cols: Columns) -> bool:
    """True when `_variation(cols)` reproduces `variation` exactly (types and key order included)."""
    _, _, asm, chrom, start, end, ref, alt, vtype = cols
    if type(variation) is not dict or list(variation) != _VARIATION_KEYS or asm is None:
        return False
    if (variation["variantType"], variation["referenceBases"], variation["alternateBases"]) != (vtype, ref, alt):
        return False
    if type(vtype) is not str or type(ref) is not str or type(alt) is not str:
        return False
    location = variation["location"]
    if type(location) is not dict or list(location) != _LOCATION_KEYS or location["type"] != "SequenceLocation":
        return False
    if location["sequence_id"] != sequence_id(chrom, asm):
        return False
    interval = location["interval"]
    return (
        type(interval) is dict
        and list(interval) == _INTERVAL_KEYS
        and interval["type"] == "SequenceInterval"
        and _is_number(interval["start"], start)
        and _is_number(interval["end"], end)
    )


def _hgvs(cols: Columns) -> str | None:
    _, _, asm, chrom, start, _, ref, alt, vtype = cols
    accession = refseq_accession(chrom, asm) if vtype in _SEQUENCE_TYPES else None
    return genomic_expression(accession, start + 1, ref, alt, vtype) if accession else None


def encode(doc: Document, cols: Columns | None) -> str:
    """The stored text of `doc`; `cols` are its record's (dataset, id, *variant columns[:7]), or None."""
    if cols is None or list(doc)[:2] != _LEAD or doc["variantInternalId"] != cols[1]:
        return _encode(doc)
    if not _is_rebuildable(doc["variation"], cols):
        return _encode(doc)
    rest = dict(doc)
    del rest["variantInternalId"], rest["variation"]
    flags = 0
    identifiers = rest.get("identifiers")
    if (
        type(identifiers) is dict
        and next(iter(rest)) == "identifiers"
        and next(iter(identifiers), None) == ("genomicHGVSId")
    ):
        hgvs = _hgvs(cols)
        if hgvs is not None and identifiers["genomicHGVSId"] == hgvs:
            flags |= _HGVS
            others = dict(identifiers)
            del others["genomicHGVSId"]
            if others:
                rest["identifiers"] = others
            else:
                del rest["identifiers"]
    sources = rest.get("frequencyInPopulations")
    if type(sources) is list and sources and all(_has_own_reference(f, cols[0]) for f in sources):
        flags |= _SOURCE_REFERENCE
        rest["frequencyInPopulations"] = [{k: v for k, v in f.items() if k != "sourceReference"} for f in sources]
    return _encode([flags, rest])


def _has_own_reference(source: object, dataset: str) -> bool:
    """True for `{"source": …, "sourceReference": "dataset:<dataset>", …}` (that key second)."""
    if type(source) is not dict or source.get("sourceReference") != f"dataset:{dataset}":
        return False
    keys: list[str] = list(source)[:2]
    return keys == ["source", "sourceReference"]


def _with_reference(source: Document, dataset: str) -> Document:
    out = {"source": source["source"], "sourceReference": f"dataset:{dataset}"}
    out.update(source)
    return out


def decode(text: str, cols: Columns) -> Document:
    """The document stored as `text` by `encode` with the same `cols`."""
    if text[0] != "[":
        doc: Document = _decode(text)
        return doc
    flags, rest = _decode(text)
    doc = {"variantInternalId": cols[1], "variation": _variation(cols)}
    if flags & _HGVS:
        identifiers = {"genomicHGVSId": _hgvs(cols)}
        if next(iter(rest), None) == "identifiers":
            identifiers.update(rest.pop("identifiers"))
        doc["identifiers"] = identifiers
    if flags & _SOURCE_REFERENCE:
        rest["frequencyInPopulations"] = [_with_reference(f, cols[0]) for f in rest["frequencyInPopulations"]]
    doc.update(rest)
    return doc


# -- loads in row form ---------------------------------------------------------------------------

# Rows of records without a variant: the eight variant columns are NULL.
NO_VARIANT = (None,) * 8
# A batch is handed over once it holds about this many rows (text counted per 256 bytes), so
# memory stays flat however large the load and however many carriers a variant has.
BATCH_WEIGHT = 40_000


@dataclass
class RowBatch:
    """Rows of consecutive records of one load; `n` (first field of a record row) numbers records from 1 in the load.

    records: (n, coll, dataset, part, id, stored text, asm, chrom, start, end, ref, alt, type, length)
    keys: (kind, value, n); key_lists: (kind, n, JSON array of values), many values of one kind at once
    terms: (term, n); vals: (n, path, text, number); tally: what the store records about these records.
    """

    records: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[tuple[str, str, int]] = field(default_factory=list)
    key_lists: list[tuple[str, int, str]] = field(default_factory=list)
    terms: list[tuple[str, int]] = field(default_factory=list)
    vals: list[tuple[int, str, str | None, float | None]] = field(default_factory=list)
    tally: LoadTally = field(default_factory=LoadTally)
    scopes: dict[str, str] = field(default_factory=dict)  # collection -> filtering-term scope

    def indexed(self) -> Iterator[IndexedRecord]:
        """The batch's records as IndexedRecords (key order within a record may differ from the loader's)."""
        keys: dict[int, dict[tuple[str, str], None]] = {}
        for kind, n, values in self.key_lists:
            keys.setdefault(n, {}).update(dict.fromkeys((kind, v) for v in json.loads(values)))
        for kind, value, n in self.keys:
            keys.setdefault(n, {})[(kind, value)] = None
        terms: dict[int, list[str]] = {}
        for term, n in self.terms:
            terms.setdefault(n, []).append(term)
        vals: dict[int, list[tuple[str, str | None, float | None]]] = {}
        for n, path, text, number in self.vals:
            vals.setdefault(n, []).append((path, text, number))
        for n, coll, dataset, _, rid, text, *columns in self.records:
            variant = VariantPosition(*columns) if columns[1] is not None else None
            scope = self.scopes[coll]
            yield IndexedRecord(
                collection=coll,
                scope=scope,
                id=rid,
                doc=decode(text, (dataset, rid, *columns[:7])),
                keys=tuple(keys.get(n, ())),
                terms=tuple((t, self.tally.catalog.get((coll, t, scope))) for t in terms.get(n, ())),
                values=tuple(vals.get(n, ())),
                variant=variant,
            )


class RowPacker:
    """Numbers a load's records and turns them into RowBatches; direct row builders append to `batch` themselves."""

    def __init__(self, dataset: str, part: str) -> None:
        self.dataset = dataset
        self.part = part
        self.count = 0  # records numbered so far
        self.weight = 0
        self.batch = RowBatch()
        self.scopes: dict[str, str] = {}  # collection -> filtering-term scope, given to every batch

    def number(self) -> int:
        self.count += 1
        return self.count

    def add(self, rec: IndexedRecord) -> None:
        """One indexed record, encoded as `encode` stores it."""
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
            batch.terms.extend([(term, n) for term, _ in rec.terms])
        batch.vals.extend([(n, path, s, number) for path, s, number in rec.values])
        batch.tally.add(rec)
        self.scopes[rec.collection] = rec.scope
        self.weight += 1 + len(rec.keys) + len(rec.values) + len(text) // 256

    @property
    def full(self) -> bool:
        return self.weight >= BATCH_WEIGHT

    def take(self) -> RowBatch:
        batch, self.batch, self.weight = self.batch, RowBatch(), 0
        batch.scopes = dict(self.scopes)
        return batch


class RowStream:
    """A load's records as RowBatches, consumed once; iterating it yields them as IndexedRecords instead."""

    def __init__(self, batches: Iterable[RowBatch]) -> None:
        self._batches = batches

    def batches(self) -> Iterator[RowBatch]:
        yield from self._batches

    def __iter__(self) -> Iterator[IndexedRecord]:
        for batch in self._batches:
            yield from batch.indexed()
