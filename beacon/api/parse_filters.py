"""Filters of GET query strings and POST bodies: the items, the `filterGroups` extension and nested OR arrays.

Two ways of saying OR reach the same value, a `FilterGroup("anyOf", ...)`, so every rule on unions
(beacon/answer/disclosure.py) applies to both alike:

- the extension `filterGroups: [{"anyOf": [f2, f3]}]` (and `noneOf`), GET `filterGroup=anyOf:f2,f3`;
- the specification's open proposal, a nested array inside `filters`: `[f1, [f2, f3]]` is
  f1 AND (f2 OR f3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from beacon.errors import InvalidRequest
from beacon.model.request import Filter, FilterGroup

# `!=` is the specification's `!` spelt as most languages do; both mean "not equal", under the same rules.
_OPERATORS = {"=": "=", "<": "<", ">": ">", "!": "!=", "!=": "!=", ">=": ">=", "<=": "<="}


def split(values: Sequence[str]) -> list[str]:
    """Comma-separated and repeated GET values as one list, blanks dropped."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


# GET form of alphanumeric filters (spec docs/filters.md): `ID:OPERATOR VALUE`, e.g. `age:>P70Y`,
# `PATO_0000011:>P70Y`, `HP_0032443:!unknown medical history`; the first `:` followed by an operator splits.
_GET_ALPHANUMERIC = re.compile(r"^(?P<id>.+?):(?P<op><=|>=|!=|[!=<>])(?P<value>.+)$")
# `PREFIX_LOCAL` stands for the CURIE `PREFIX:LOCAL` where a colon would be ambiguous.
_UNDERSCORE_CURIE = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z0-9.]*)_(?P<local>\d[\w.\-]*)$")


def query_string_filter(text: str) -> Filter:
    """One comma-separated item of the GET `filters` parameter: a term id or an alphanumeric filter."""
    found = _GET_ALPHANUMERIC.match(text)
    if found is None:
        return Filter(id=text)
    ident = found["id"]
    curie = _UNDERSCORE_CURIE.match(ident)
    if curie is not None:
        ident = f"{curie['prefix']}:{curie['local']}"
    return Filter(id=ident, operator=_OPERATORS[found["op"]], value=found["value"].strip())


_GROUP_KINDS = ("anyOf", "noneOf")


def query_string_groups(values: Sequence[str]) -> tuple[FilterGroup, ...]:
    """Extension: each `filterGroup=anyOf:ID1,ID2` (or `noneOf:`) is one group (docs/filters.md)."""
    groups = []
    for value in values:
        kind, sep, rest = value.partition(":")
        if not sep or kind not in _GROUP_KINDS:
            msg = f"filterGroup: expected anyOf:ID1,ID2,... or noneOf:ID1,ID2,..., got {value!r}"
            raise InvalidRequest(msg)
        ids = split([rest])
        if not ids:
            msg = f"filterGroup: {kind} names no filter"
            raise InvalidRequest(msg)
        # Members take the same forms as GET `filters` items (`noneOf:age:<P10Y` is alphanumeric).
        groups.append(FilterGroup(kind, tuple(query_string_filter(i) for i in ids)))  # type: ignore[arg-type]
    return tuple(groups)


def body_filter(item: str | Mapping[str, Any]) -> Filter:
    if isinstance(item, str):
        return Filter(id=item)
    operator = item.get("operator")
    value = item.get("value")
    if (operator is None) != (value is None):
        msg = f"filter {item.get('id')!r}: alphanumeric filters need both operator and value"
        raise InvalidRequest(msg)
    return Filter(
        id=item["id"],
        operator=_OPERATORS[operator] if operator is not None else None,
        value=str(value) if value is not None else None,
        include_descendant_terms=item.get("includeDescendantTerms", True),
        similarity=item.get("similarity", "exact"),
        scope=item.get("scope"),
    )


def body_filters(items: Sequence[Any]) -> tuple[Filter, ...]:
    """The plain (ANDed) items of a POST body's `filters`; nested arrays are OR groups (`body_filter_groups`)."""
    return tuple(body_filter(f) for f in items if not isinstance(f, list))


def body_filter_groups(filters: Sequence[Any], groups: Sequence[Mapping[str, Any]]) -> tuple[FilterGroup, ...]:
    """The OR groups of a POST body: each nested array of `filters`, then each `filterGroups` item.

    The request schema admits nested arrays of at least one filter, one level deep, and exactly one of
    anyOf/noneOf per group with at least one filter.
    """
    nested = tuple(
        FilterGroup("anyOf", tuple(body_filter(f) for f in item)) for item in filters if isinstance(item, list)
    )
    extension = tuple(
        FilterGroup(kind, tuple(body_filter(f) for f in members))  # type: ignore[arg-type]
        for group in groups
        for kind, members in group.items()
    )
    return nested + extension
