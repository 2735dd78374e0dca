"""Population filters (`scope: "population"`): which population a request selects, its condition, its records.

`sexFilter`, `countryFilter` and `ancestryFilter` with `=` together name one population (`NL_M`,
model/populations.py). A variant matches when it has a frequency in that population (an indexed
term, so counts and `exists` follow on both backends), and the records returned carry only that
population's frequencies (docs/populations.md).
"""

from __future__ import annotations

from typing import Any

from beacon.errors import InvalidRequest
from beacon.model.plan import Condition, HasTerm, Nothing
from beacon.model.populations import ANCESTRY, COUNTRY, FILTER_IDS, SCOPE, SEX, TERM_PREFIX, population_name
from beacon.model.request import BeaconRequest, Filter

_SEX_VALUES = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F"}


def is_population_filter(f: Filter) -> bool:
    """A filter on populations: scope `population`, or one of the population filter ids without a scope.

    :raise InvalidRequest: scope `population` with another id.
    """
    if f.scope == SCOPE and f.id not in FILTER_IDS:
        msg = f"filter {f.id!r}: scope population takes the filters {', '.join(FILTER_IDS)}"
        raise InvalidRequest(msg)
    return f.id in FILTER_IDS and f.scope in (None, SCOPE)


def _value(f: Filter) -> str:
    if f.operator != "=" or not f.value or not f.value.strip():
        msg = f"filter {f.id!r}: a population filter needs operator = and a value"
        raise InvalidRequest(msg)
    value = f.value.strip()
    if f.id == SEX:
        if value.upper() not in _SEX_VALUES:
            msg = f"filter {f.id!r}: value {f.value!r} is not M or F"
            raise InvalidRequest(msg)
        return _SEX_VALUES[value.upper()]
    if f.id == COUNTRY:
        if len(value) != 2 or not value.isalpha():
            msg = f"filter {f.id!r}: value {f.value!r} is not an ISO 3166 alpha-2 country code"
            raise InvalidRequest(msg)
        return value.upper()
    assert f.id == ANCESTRY
    return value


def selected_population(request: BeaconRequest) -> tuple[str | None, bool]:
    """(the population the request's filters select, whether it has population filters at all).

    A combination no population name can carry (a country and an ancestry, or two values of one
    filter) selects nothing: (None, True).
    :raise InvalidRequest: a malformed population filter, or one inside a filter group.
    """
    for group in request.filter_groups:
        if any(is_population_filter(f) for f in group.filters):
            msg = "population filters go in `filters` (ANDed), not in filter groups"
            raise InvalidRequest(msg)
    values: dict[str, str] = {}
    given = False
    for f in request.filters:
        if not is_population_filter(f):
            continue
        given = True
        value = _value(f)
        if values.setdefault(f.id, value) != value:
            return None, True
    return (population_name(values) if given else None), given


def population_condition(request: BeaconRequest) -> Condition | None:
    """The condition on variant records for the request's population filters; None without any."""
    name, given = selected_population(request)
    if not given:
        return None
    return Nothing() if name is None else HasTerm((TERM_PREFIX + name,))


def other_filters(request: BeaconRequest) -> tuple[Filter, ...]:
    return tuple(f for f in request.filters if not is_population_filter(f))


def restricted(doc: dict[str, Any], population: str) -> dict[str, Any]:
    """`doc` with only `population`'s frequencies (sources left without any dropped, their counts updated)."""
    sources = doc.get("frequencyInPopulations")
    if not isinstance(sources, list):
        return doc
    kept = []
    for source in sources:
        if not isinstance(source, dict) or not isinstance(source.get("frequencies"), list):
            continue
        entries = [e for e in source["frequencies"] if isinstance(e, dict) and e.get("population") == population]
        if entries:
            narrowed = {**source, "frequencies": entries}
            if "numberOfPopulations" in source:
                narrowed["numberOfPopulations"] = len(entries)
            kept.append(narrowed)
    out = {k: v for k, v in doc.items() if k != "frequencyInPopulations"}
    if kept:
        out["frequencyInPopulations"] = kept
    return out
