"""Filters become term, value and pattern conditions."""

from __future__ import annotations

import pytest

from beacon.errors import InvalidRequest
from beacon.model.plan import And, HasTerm, HasValue, Not
from beacon.model.request import Filter
from beacon.query.filters import filter_condition


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        pytest.param(Filter("HP:0001250"), HasTerm(("HP:0001250",)), id="an ontology filter is a term"),
        pytest.param(Filter("bmi", ">", "30"), HasValue("bmi", ">", 30.0), id="numbers compare numerically"),
        pytest.param(Filter("age", ">=", "P70Y"), HasValue("age", ">=", 70 * 365.25), id="durations compare in days"),
        pytest.param(Filter("strategy", "=", "WGS"), HasValue("strategy", "=", "WGS"), id="text compares exactly"),
        pytest.param(
            Filter("name", "=", "Ill%"), HasValue("name", "=", "Ill%", pattern=True), id="percent is a pattern"
        ),
        pytest.param(
            Filter("name", "!=", "Ill%"),
            And((HasValue("name", "=", "%", pattern=True), Not(HasValue("name", "=", "Ill%", pattern=True)))),
            id="a negated pattern needs a text value that does not match",
        ),
    ],
)
def test_filters_become_conditions(f: Filter, expected: object) -> None:
    assert filter_condition(f) == expected


def test_order_comparison_on_text_is_rejected() -> None:
    with pytest.raises(InvalidRequest, match="needs a number or an ISO 8601 duration"):
        filter_condition(Filter("strategy", "<", "WGS"))
