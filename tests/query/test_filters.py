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


def test_a_term_filter_met_with_the_stored_terms_from_either_side_finds_what_resolution_finds() -> None:
    """`present` is met with the wanted terms from the smaller side (query/filters.py); both sides give
    exactly the stored terms that resolve into the wanted set: current terms, alternative ids, ids
    replaced in chains, never an unknown id or one that resolves elsewhere."""
    import random

    from beacon.ontology.hierarchy import Ontology
    from beacon.ontology.similarity import matching_terms
    from beacon.ontology.sources import OntologySet
    from beacon.query.filters import term_condition

    rng = random.Random(5)
    terms = [f"X:{i:04d}" for i in range(400)]
    parents = {t: ((terms[rng.randrange(i)],) if i else ()) for i, t in enumerate(terms)}
    replaced = {f"X:9{i:03d}": rng.choice(terms) for i in range(150)}
    replaced.update({f"X:8{i:03d}": f"X:9{i:03d}" for i in range(50)})  # chains of two
    ontology = Ontology("X", {t: t for t in terms}, parents, replaced)
    ontologies = OntologySet({"X": ontology})
    every = [*terms, *replaced, "X:7777", "Y:0001"]
    for root in ("X:0000", "X:0003", "X:0150", "X:9001", "X:8002"):
        wanted = matching_terms(ontology, str(ontology.resolve(root)), True, "exact")
        for size in (5, 60, len(every)):
            present = frozenset(rng.sample(every, size))
            expected = {t for t in present if (r := ontology.resolve(t)) is not None and r in wanted} - {root}
            cond = term_condition(Filter(root), ontologies, present)
            assert cond == HasTerm((root, *sorted(expected))), (root, size)
