"""The store-neutral query plan: frozen condition values that both store backends translate.

The plan lives in `model/` (not `query/`) because both `query/` (which builds plans) and `store/`
(which translates them) depend on it, and imports only point downward.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypeAlias

Scalar: TypeAlias = str | int | float
Op: TypeAlias = Literal["=", "!=", "<", "<=", ">", ">="]


class Field(StrEnum):
    """Single-valued indexed fields every backend stores as first-class columns/keys."""

    ID = "id"
    ASSEMBLY = "variant.assembly"
    CHROM = "variant.chrom"
    START = "variant.start"
    END = "variant.end"
    REF = "variant.ref"
    ALT = "variant.alt"
    TYPE = "variant.type"
    LENGTH = "variant.length"


@dataclass(frozen=True)
class Compare:
    """`field op value` on an indexed field."""

    field: Field
    op: Op
    value: Scalar


@dataclass(frozen=True)
class In:
    """The indexed field equals one of `values`."""

    field: Field
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class HasKey:
    """The record carries a key `kind` with one of `values` (lookups, carriers, genes, HGVS ids)."""

    kind: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class HasTerm:
    """The record is annotated with one of the ontology or custom `terms` (already expanded)."""

    terms: tuple[str, ...]


@dataclass(frozen=True)
class HasValue:
    """Alphanumeric filter on a document path; `value` is text (exact or `%` pattern) or a number.

    Durations (ISO 8601, e.g. P70Y) are compared as numbers of days.
    """

    path: str
    op: Op
    value: Scalar
    pattern: bool = False


@dataclass(frozen=True)
class HasElement:
    """Some element of the array at document path `array` meets every `(sub-path, op, value)` of `where`.

    Read from the stored document, not from an index: plans pair it with an indexed condition that
    narrows the records first (a measure's assay code as a term, docs/filters.md).
    """

    array: str
    where: tuple[tuple[str, Op, Scalar], ...]


@dataclass(frozen=True)
class Related:
    """The record is linked to some record of collection `source` that meets `where`, in the same dataset.

    Linked: both carry a key of kind `via` with the same value (a variant and an individual through
    `individual`); with `via` equal to `SAME_DATASET` the dataset itself is the link (a dataset record
    and the records it holds). Pairs never cross datasets: individual I1 of dataset A is not linked to
    a variant of dataset B whose carrier is B's own I1. Each store evaluates the source side itself
    (a sub-select in SQL; a within-dataset first step on MongoDB), so planning never reads the store.
    """

    source: str
    via: str
    where: Condition


# `Related.via` for "the same dataset": datasets are not keys records carry, they hold them.
SAME_DATASET = "dataset"


@dataclass(frozen=True)
class And:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


@dataclass(frozen=True)
class Nothing:
    """Matches no record (e.g. a lookup from an id with no links)."""


Condition: TypeAlias = Compare | In | HasKey | HasTerm | HasValue | HasElement | Related | And | Or | Not | Nothing


def all_of(*parts: Condition | None) -> Condition | None:
    """Conjunction of the given conditions, flattened; None when there is nothing to require."""
    flat: list[Condition] = []
    for p in parts:
        if p is None:
            continue
        if isinstance(p, And):
            flat.extend(p.parts)
        else:
            flat.append(p)
    if not flat:
        return None
    if any(isinstance(p, Nothing) for p in flat):
        return Nothing()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


@dataclass(frozen=True)
class Query:
    """Records of one collection, within `datasets`, matching `where`, paged by records.

    `limit=None` means no limit. Results are ordered by load order within each dataset.
    """

    collection: str
    datasets: tuple[str, ...]
    where: Condition | None = None
    offset: int = 0
    limit: int | None = None
