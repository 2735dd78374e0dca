"""Derive what every backend indexes from a record: link keys, ontology terms, alphanumeric values, variant position.

Store-neutral, so both backends index identically: the SQLite backend writes these into side tables,
the MongoDB backend into underscore-prefixed fields of the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from beacon.genome.assemblies import canonical_chromosome, refseq_chromosome
from beacon.genome.hgvs import canonical_hgvs
from beacon.genome.protein import canonical_protein_change
from beacon.model.durations import duration_days
from beacon.model.entry_types import EntryType, iter_path
from beacon.model.populations import OVERALL, TERM_PREFIX, population_names
from beacon.store.base import Document, IndexedRecord, VariantPosition
from beacon.store.carriers import SampleIndex, carrier_sets, zygosity_terms

_CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*:[^\s:][^\s]*$")
# Subtrees that are free-form or positional: no filtering terms or values come from them.
# A variant's cross-references (dbSNP:rs…) are identifiers, not annotations: found by an alphanumeric
# filter on identifiers.variantAlternativeIds.id, never listed as filtering terms.
_NO_TERMS = frozenset({"info", "variation", "frequencyInPopulations", "_info", "variantAlternativeIds"})
_NO_VALUES = frozenset({"info", "variation", "caseLevelData", "frequencyInPopulations", "_info"})
_MAX_TEXT = 256


# Keys stored in a canonical form; queries apply the same function (beacon/query/variants.py).
KEY_FORMS = {"aminoacidChange": canonical_protein_change, "hgvs": canonical_hgvs}


def record_id(entry: EntryType, doc: Mapping[str, Any]) -> str | None:
    value = doc.get(entry.id_field)
    return value if isinstance(value, str) and value else None


def _terms(node: object, excluded: bool = False) -> Iterator[tuple[str, str | None]]:
    if type(node) is list:
        for item in node:
            yield from _terms(item, excluded)
        return
    if type(node) is not dict:
        return
    # An excluded phenotypic feature states the absence of the term: it must never match it.
    if node.get("excluded") is True or node.get("excluded") == "TRUE":
        return
    ident = node.get("id")
    if isinstance(ident, str) and _CURIE.match(ident):
        label = node.get("label")
        yield ident, label if isinstance(label, str) else None
    for key, value in node.items():
        if key not in _NO_TERMS and isinstance(value, list | dict):
            yield from _terms(value)


def terms_of(doc: Mapping[str, Any], carriers: dict[str, str] | None = None) -> dict[str, str | None]:
    """Ontology terms annotating a record (the record's own id excluded), with their labels.

    `carriers`: the zygosity terms of a variant whose carriers are sets, counted where its
    caseLevelData stands.
    """
    out: dict[str, str | None] = {}
    for key, value in doc.items():
        if key == "caseLevelData" and carriers is not None:
            for zygosity, name in carriers.items():
                if out.get(zygosity) is None:
                    out[zygosity] = name
            continue
        if key in _NO_TERMS or not isinstance(value, list | dict):
            continue
        for ident, label in _terms(value):
            if out.get(ident) is None:
                out[ident] = label
    return out


def _values(node: object, path: str, out: dict[tuple[str, str | None, float | None], None]) -> None:
    # Appends to `out` instead of yielding: this runs for every record of a load.
    kind = type(node)
    if kind is dict:
        # As for terms: nothing stated about an absent feature (its label, onset) may match a filter.
        excluded = node.get("excluded")  # type: ignore[attr-defined]
        if excluded is True or excluded == "TRUE":
            return
        for key, value in node.items():  # type: ignore[attr-defined]
            if key in _NO_VALUES or key.startswith("_"):
                continue
            _values(value, f"{path}.{key}" if path else key, out)
    elif kind is list:
        for item in node:  # type: ignore[attr-defined]
            _values(item, path, out)
    elif isinstance(node, bool):
        out[(path, "true" if node else "false", None)] = None
    elif isinstance(node, int | float):
        out[(path, None, float(node))] = None
    elif isinstance(node, str) and path:
        # Only text starting with P can be a duration: skip the pattern for everything else.
        out[(path, node[:_MAX_TEXT], duration_days(node) if node[:1] == "P" else None)] = None


# Fields of the free-form `info` that are still filterable (documented in docs/filters.md).
_INFO_VALUES = ("timeAtLastEncounter",)


Value = tuple[str, str | None, float | None]  # (path, text, number)


def values_of(doc: Mapping[str, Any]) -> tuple[Value, ...]:
    """(path, text, number) for every scalar leaf, array indices dropped, for alphanumeric filters."""
    found: dict[tuple[str, str | None, float | None], None] = {}
    _values(doc, "", found)
    info = doc.get("info")
    if isinstance(info, Mapping):
        for key in _INFO_VALUES:
            if key in info:
                _values(info[key], f"info.{key}", found)
    return tuple(found)


def _id_first(values: tuple[Value, ...], id_field: str) -> tuple[Value, ...]:
    """`values` with the record's own id (the one value at its id field's path) first.

    Bulk batches leave that value out, the records' id column holding it, and give it back first
    (store/bulk.py); every backend then reads the values in the order indexed.
    """
    for i, value in enumerate(values):
        if value[0] == id_field:
            return (value, *values[:i], *values[i + 1 :]) if i else values
    return values


def _number(node: object) -> int | None:
    if isinstance(node, Mapping):
        node = node.get("value")
    return int(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def _chromosome_in(candidate: str, known: dict[str, str | None]) -> str | None:
    if candidate not in known:
        found = refseq_chromosome(candidate)
        known[candidate] = found[0] if found else canonical_chromosome(candidate)
    return known[candidate]


def _chromosome_of(doc: Mapping[str, Any], known: dict[str, str | None]) -> str | None:
    """The first chromosome named by the HGVS id, the sequence id or the internal id (`known` caches names)."""
    hgvs = (doc.get("identifiers") or {}).get("genomicHGVSId")
    if isinstance(hgvs, str) and ":" in hgvs and (chrom := _chromosome_in(hgvs.split(":", 1)[0], known)):
        return chrom
    variation = doc.get("variation") or {}
    location = variation.get("location") or {} if isinstance(variation, Mapping) else {}
    seq = location.get("sequence_id") if isinstance(location, Mapping) else None
    candidates: list[str] = []
    if isinstance(seq, str):
        # "HGVSid:22:g.16050075G>A", "refseq:NC_000013.11", "GRCh38:chr13"
        candidates.extend(seq.split(":")[1:2] + seq.split(":")[:1])
    internal = doc.get("variantInternalId")
    if isinstance(internal, str):
        candidates.append(re.split(r"[_:\-]", internal, maxsplit=1)[0])
    for candidate in candidates:
        if chrom := _chromosome_in(candidate, known):
            return chrom
    return None


def variant_columns(
    doc: Mapping[str, Any], assembly: str | None, known: dict[str, str | None] | None = None
) -> VariantPosition | None:
    """The position of a genomicVariation; None if unplaced.

    `known` caches chromosome names across the records of a load.
    """
    variation = doc.get("variation")
    if not isinstance(variation, Mapping):
        return None
    location = variation.get("location") or {}
    interval = location.get("interval") or {} if isinstance(location, Mapping) else {}
    start, end = _number(interval.get("start")), _number(interval.get("end"))
    chrom = _chromosome_of(doc, {} if known is None else known)
    if start is None or chrom is None:
        return None
    ref = variation.get("referenceBases")
    alt = variation.get("alternateBases")
    vtype = variation.get("variantType")
    ref = ref if isinstance(ref, str) else None
    alt = alt if isinstance(alt, str) else None
    if end is None:
        end = start + (len(ref) if ref else 1)
    vtype_s = vtype if isinstance(vtype, str) else None
    # "N" stands in for the alternate sequence of structural variants: their length is their span.
    is_sequence = bool(ref and alt) and alt != "N" and set(f"{ref}{alt}") <= set("ACGT")
    if is_sequence:
        assert ref is not None
        assert alt is not None
        length = max(len(ref), len(alt)) if len(ref) == len(alt) else abs(len(alt) - len(ref))
    else:
        length = end - start
    return VariantPosition(assembly, chrom, start, end, ref, alt, vtype_s, length)


@dataclass
class LoadContext:
    """What indexing one record needs from records of the same dataset loaded before it."""

    dataset_id: str
    assembly: str | None
    biosample_individual: dict[str, str] = field(default_factory=dict)
    cohorts: list[str] = field(default_factory=list)
    # Cohorts with explicit membership (e.g. one per phenopacket collection) and their members by
    # individual id; records belong to them through their individual, not as whole-dataset cohorts.
    explicit_cohorts: set[str] = field(default_factory=set)
    cohort_members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Per-load cache: sequence names to chromosomes.
    chromosomes: dict[str, str | None] = field(default_factory=dict)
    # Dense sample indexes of this load: biosamples the dataset already holds first, in their order.
    samples: SampleIndex = field(default_factory=SampleIndex)

    def __post_init__(self) -> None:
        for biosample, individual in self.biosample_individual.items():
            self.samples.add(biosample, individual)


def index_record(entry: EntryType, doc: Document, ctx: LoadContext) -> IndexedRecord:
    """Everything a backend stores for one record; `doc` must already have its id."""
    rid = record_id(entry, doc)
    assert rid is not None  # callers reject id-less records before indexing
    stored = dict(doc)
    stored.pop("_id", None)
    carriers = None
    if entry.holds_variants and not ctx.cohort_members and "caseLevelData" in stored:
        carriers = carrier_sets(stored["caseLevelData"], ctx.samples, ctx.biosample_individual)
    if carriers is not None:
        stored["caseLevelData"] = []  # the sets hold them (store/carriers.py)
        # The GENO terms of the carriers' zygosities stay on the variant, where the list named them.
        terms = tuple(terms_of(stored, zygosity_terms(carriers)).items())
    else:
        terms = tuple(terms_of(stored).items())
    keys: dict[tuple[str, str], None] = {}
    for link in entry.links:
        for value in iter_path(stored, link.path):
            if isinstance(value, str) and value:
                keys[(link.kind, KEY_FORMS.get(link.kind, str)(value))] = None
    # Key kinds, not entry-type names: a biosample's owner and a cohort's members are found by key.
    if entry.own_kind == "biosample":
        owner = doc.get("individualId")
        if isinstance(owner, str):
            ctx.biosample_individual[rid] = owner
        ctx.samples.add(rid, owner if isinstance(owner, str) else None)
    if entry.own_kind == "cohort" and rid not in ctx.explicit_cohorts:
        ctx.cohorts.append(rid)
    # Carriers often name only their biosample; the individual comes from the biosample record.
    for kind, value in list(keys):
        if kind == "biosample" and value in ctx.biosample_individual:
            keys[("individual", ctx.biosample_individual[value])] = None
    if not entry.is_collection:
        # A cohort without an explicit member list is the whole dataset (docs/decisions.md).
        for cohort in ctx.cohorts:
            keys[("cohort", cohort)] = None
        if ctx.cohort_members:
            for kind, value in list(keys):
                if kind == "individual":
                    for cohort in ctx.cohort_members.get(value, ()):
                        keys[("cohort", cohort)] = None
    variant = None
    if entry.holds_variants:
        variant = variant_columns(stored, ctx.assembly, ctx.chromosomes)
        # Population names become terms: population filters are term conditions (model/populations.py).
        found = dict(terms)
        for name in population_names(stored):
            if name != OVERALL:  # every variant has it; no filter selects it
                found.setdefault(TERM_PREFIX + name, name)
        terms = tuple(found.items())
    return IndexedRecord(
        collection=entry.collection,
        scope=entry.scope,
        id=rid,
        doc=stored,
        keys=tuple(keys),
        terms=terms,
        values=_id_first(values_of(stored), entry.id_field),
        variant=variant,
        carriers=carriers,
        samples=ctx.samples.take() if ctx.samples.fresh else (),
        own_kind=entry.own_kind,
    )
