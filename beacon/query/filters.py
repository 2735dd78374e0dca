"""Filters into plan conditions: ontology and custom terms, alphanumeric comparisons on document paths."""

from __future__ import annotations

from beacon.errors import InvalidRequest
from beacon.model.plan import Condition, HasTerm, HasValue, Not, Op
from beacon.model.request import Filter
from beacon.store.indexing import duration_days


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return duration_days(text)


def filter_condition(f: Filter) -> Condition:
    """The condition a record of the filter's scope must meet.

    Ontology filters match the term itself; descendant expansion is applied by the ontology layer
    when a hierarchy for the term's prefix is configured.

    :raise InvalidRequest: an alphanumeric filter whose operator does not apply to its value.
    """
    if not f.is_alphanumeric:
        return HasTerm((f.id,))
    assert f.operator is not None
    assert f.value is not None
    op: Op = f.operator  # type: ignore[assignment]
    number = _number(f.value)
    if number is not None:
        return HasValue(f.id, op, number)
    if "%" in f.value:
        if op not in ("=", "!="):
            msg = f"filter {f.id!r}: a '%' pattern works only with = or !"
            raise InvalidRequest(msg)
        like = HasValue(f.id, "=", f.value, pattern=True)
        return like if op == "=" else Not(like)
    if op not in ("=", "!="):
        msg = f"filter {f.id!r}: operator {op} needs a number or an ISO 8601 duration, got {f.value!r}"
        raise InvalidRequest(msg)
    return HasValue(f.id, op, f.value)
