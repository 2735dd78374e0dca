"""Compact documents: what a variant's position columns already hold is not kept twice.

A genomicVariation whose `variantInternalId` leads, followed by a `variation` that is exactly what the
record's variant columns describe, is stored as the JSON array `[flags, rest]`: `rest` is the document
without those two fields, nor the genomic HGVS id the columns spell when `identifiers` starts with it,
nor the `sourceReference` of frequency sources when it is `dataset:<the record's dataset>`. `decode`
puts them back in their place, so readers get the document that was loaded, key order included.
Every other document is stored whole, as a JSON object; the first character tells the forms apart.

This is the document column of a bulk load (beacon/store/bulk.py): loaders that build it without
the document (the VCF loader's plain alleles) write this text directly; the embedded store keeps it
as it comes, document stores `decode` it.
"""

from __future__ import annotations

import json
from typing import Any

from beacon.genome.assemblies import refseq_accession, sequence_id
from beacon.genome.hgvs import genomic_expression
from beacon.genome.vrs import sequence_variation
from beacon.store.base import Document

HGVS_FLAG = 1  # identifiers.genomicHGVSId was dropped
SOURCE_REFERENCE_FLAG = 2  # frequencyInPopulations[].sourceReference was dropped
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
            flags |= HGVS_FLAG
            others = dict(identifiers)
            del others["genomicHGVSId"]
            if others:
                rest["identifiers"] = others
            else:
                del rest["identifiers"]
    sources = rest.get("frequencyInPopulations")
    if type(sources) is list and sources and all(_has_own_reference(f, cols[0]) for f in sources):
        flags |= SOURCE_REFERENCE_FLAG
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
    if flags & HGVS_FLAG:
        identifiers = {"genomicHGVSId": _hgvs(cols)}
        if next(iter(rest), None) == "identifiers":
            identifiers.update(rest.pop("identifiers"))
        doc["identifiers"] = identifiers
    if flags & SOURCE_REFERENCE_FLAG:
        rest["frequencyInPopulations"] = [_with_reference(f, cols[0]) for f in rest["frequencyInPopulations"]]
    doc.update(rest)
    return doc
