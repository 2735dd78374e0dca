"""Filters into plan conditions: ontology terms through their hierarchy, alphanumeric comparisons through path aliases.

The rules are documented in docs/filters.md; the alias table below is the one it shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from beacon.errors import InvalidRequest
from beacon.model.durations import duration_days
from beacon.model.entry_types import EntryType, EntryTypeTable
from beacon.model.plan import And, Condition, HasElement, HasTerm, HasValue, Not, Op, Or, Scalar
from beacon.model.request import Filter
from beacon.ontology import NO_ONTOLOGIES, OntologySet
from beacon.ontology.similarity import matching_terms

AGE_AT_LAST_ENCOUNTER: Final = "info.timeAtLastEncounter.age.iso8601duration"
_AGE_OF_ONSET: Final = ("diseases.ageOfOnset.iso8601duration", "phenotypicFeatures.onset.iso8601duration")
_MEDICAL_HISTORY: Final = (
    "diseases.diseaseCode.label",
    "diseases.notes",
    "phenotypicFeatures.featureType.label",
    "phenotypicFeatures.notes",
)
# Alphanumeric filter ids that name a concept rather than a document path: id -> entry type -> paths.
# A value matches when any of the paths has it. Ids not listed here are document paths.
ALIASES: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    "PATO:0000011": {"individual": (AGE_AT_LAST_ENCOUNTER,)},  # age
    "age": {"individual": (AGE_AT_LAST_ENCOUNTER,)},
    "EFO:0004847": {"individual": _AGE_OF_ONSET},  # age at onset
    "ageOfOnset": {"individual": _AGE_OF_ONSET},
    "HP:0032443": {"individual": _MEDICAL_HISTORY},  # past medical history
}
# A CURIE compared with a number on individuals names the assay of a measure (LOINC:35925-4 > 30: BMI over 30).
MEASURES: Final = {"individual": ("measures", "assayCode.id", "measurementValue.value")}
_CURIE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*:[^\s:]+$")
# The longest `%` pattern once runs of `%` are one (`_value_condition`).
MAX_PATTERN: Final = 1000
_RUNS_OF_PERCENT = re.compile(r"%{2,}")
# Decimal numbers only: float() would also take "nan", "inf" and "1_000", which no filter means as numbers.
_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def filter_scope(f: Filter, target: EntryType, table: EntryTypeTable) -> EntryType:
    """The entry type whose records `f` is evaluated on: its `scope`, else the queried `target`.

    :raise InvalidRequest: an unknown scope (the message lists the known ones).
    """
    if f.scope is None:
        return target
    scopes = table.by_scope()
    if f.scope not in scopes:
        msg = f"filter {f.id!r}: unknown scope {f.scope!r}; known: {', '.join(sorted(scopes))}"
        raise InvalidRequest(msg)
    return scopes[f.scope]


def _number(text: str) -> float | None:
    """The number a filter value compares as: a decimal number, or an ISO 8601 duration in days; else None."""
    if _NUMBER.match(text):
        return float(text)
    return duration_days(text.strip())


def term_condition(
    f: Filter, ontologies: OntologySet = NO_ONTOLOGIES, present: frozenset[str] | None = None
) -> HasTerm:
    """The terms a record may carry to match an ontology or custom filter.

    With a hierarchy loaded for the id's prefix, the term (an alternative or obsolete id resolves to
    the current one) is widened by `similarity` and, unless `includeDescendantTerms` is false, to
    the descendants; the retired ids of every matching term match too. `present`, the terms the
    store holds, narrows the set to what can match at all (the filter id itself always stays).
    """
    ontology = ontologies.for_term(f.id)
    current = ontology.resolve(f.id) if ontology is not None else None
    if ontology is None or current is None:
        return HasTerm((f.id,))
    if present is not None:
        # The ids that resolve into the wanted terms, kept per filter shape by the ontology, met with the
        # store's terms in one intersection: resolving each of a catalog's thousands of terms on every
        # request held the event loop for most of a cohort count's planning.
        key = ("matching", current, f.include_descendant_terms, f.similarity)
        found = set(
            ontology.resolving_into(
                key, lambda: matching_terms(ontology, current, f.include_descendant_terms, f.similarity)
            )
            & present
        )
    else:
        wanted = matching_terms(ontology, current, f.include_descendant_terms, f.similarity)
        found = set(wanted) | {alias for t in wanted for alias in ontology.aliases(t)}
    return HasTerm((f.id, *sorted(found - {f.id})))


def _value_condition(f: Filter, path: str, op: Op, value: str) -> Condition:
    number = _number(value)
    if number is not None:
        return HasValue(path, op, number)
    if "%" in value:
        if op not in ("=", "!="):
            msg = f"filter {f.id!r}: a '%' pattern works only with = or !"
            raise InvalidRequest(msg)
        # `%%` is `%`; a pattern stays far below what the stores take (SQLite's LIKE: 50,000 bytes, a 500
        # before; MongoDB's regular expressions: 32 KB), and stored text is cut at 256 characters anyway.
        value = _RUNS_OF_PERCENT.sub("%", value)
        if len(value) > MAX_PATTERN:
            msg = f"filter {f.id!r}: a '%' pattern has at most {MAX_PATTERN} characters"
            raise InvalidRequest(msg)
        like = HasValue(path, "=", value, pattern=True)
        # `!` as everywhere else: the record has a text value at the path, and none of its values matches.
        return like if op == "=" else And((_has_text(path), Not(like)))
    if op not in ("=", "!="):
        msg = f"filter {f.id!r}: operator {op} needs a number or an ISO 8601 duration, got {value!r}"
        raise InvalidRequest(msg)
    return HasValue(path, op, value)


def _has_text(path: str) -> HasValue:
    """The record has some text value at `path` (`%` alone matches any text)."""
    return HasValue(path, "=", "%", pattern=True)


def _on_paths(f: Filter, paths: tuple[str, ...], op: Op, value: str) -> Condition:
    """The comparison on any of `paths`; `!` means: has one of them, and none of them has the value."""
    if len(paths) == 1:
        return _value_condition(f, paths[0], op, value)
    if op != "!=":
        return Or(tuple(_value_condition(f, p, op, value) for p in paths))
    positive = [_value_condition(f, p, "=", value) for p in paths]
    if "%" in value:
        present: Condition = Or(tuple(_has_text(p) for p in paths))
    else:
        present = Or(tuple(_value_condition(f, p, "!=", value) for p in paths))
    return And((present, Not(Or(tuple(positive)))))


def filter_condition(
    f: Filter,
    entry: str | None = None,
    ontologies: OntologySet = NO_ONTOLOGIES,
    present: frozenset[str] | None = None,
) -> Condition:
    """The condition a record of entry type `entry` (e.g. "individual") must meet for filter `f`.

    Aliases and measures apply when `entry` is given; `ontologies` and `present` as in `term_condition`.

    :raise InvalidRequest: an alphanumeric filter whose operator does not apply to its value.
    """
    if not f.is_alphanumeric:
        return term_condition(f, ontologies, present)
    assert f.operator is not None
    assert f.value is not None
    op: Op = f.operator  # type: ignore[assignment]
    paths = ALIASES.get(f.id, {}).get(entry or "")
    if paths:
        return _on_paths(f, paths, op, f.value)
    measure = MEASURES.get(entry or "")
    number = _number(f.value)
    if measure and number is not None and _CURIE.match(f.id):
        array, code, quantity = measure
        where: tuple[tuple[str, Op, Scalar], ...] = ((code, "=", f.id), (quantity, op, number))
        # The assay code is an indexed term: it narrows the records before their measures are read.
        return And((HasTerm((f.id,)), HasElement(array, where)))
    return _value_condition(f, f.id, op, f.value)
