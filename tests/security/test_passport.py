"""GA4GH Passport rules as values: pattern matching, condition clauses, LinkedIdentities and subject binding."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beacon.security.passport import (
    Visa,
    clause_met,
    conditions_met,
    field_matches,
    grants,
    parse_linked_identities,
    wildcard_match,
)

NOW = 1_800_000_000.0
BROKER = "https://broker.example"
ISSUER = "https://login.example"


def visa(type_: str = "ControlledAccessGrants", value: str = "ds-1", sub: str = "alice", **fields: Any) -> Visa:
    body: dict[str, Any] = {"type": type_, "value": value, "source": "https://dac.example", "asserted": NOW - 60}
    if type_ == "ControlledAccessGrants":
        body["by"] = "dac"
    return Visa(0, fields.pop("iss", BROKER), sub, {**body, **fields})


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("faculty@*", "faculty@uni.example", True),
        ("faculty@*", "faculty@", True),  # `*` matches the empty string
        ("faculty@*", "Faculty@uni.example", False),  # case-sensitive
        ("*@uni.example", "student@uni.example", True),
        ("*@uni.example", "student@uni.example.evil", False),  # full-string match
        ("facult?@*", "faculty@x", True),
        ("facult?@*", "facult@x", False),  # `?` is exactly one character
        ("a*b*c", "aXXbYYbZZc", True),
        ("a*b*c", "aXXbYYbZZ", False),
        ("*", "", True),
        ("?", "", False),
        ("a*", "a*", True),
        ("[ab]", "a", False),  # no character classes: `[` is literal
        ("[ab]", "[ab]", True),
        ("a\\*", "a\\anything", True),  # no escape character
        ("*" * 40 + "b", "a" * 200, False),  # no catastrophic backtracking
        ("x" * 256, "x" * 256, False),  # beyond the spec's 255-character fields
    ],
)
def test_wildcard_matching_is_the_specs(pattern: str, text: str, matches: bool) -> None:
    assert wildcard_match(pattern, text) is matches


@pytest.mark.parametrize(
    ("spec", "actual", "matches"),
    [
        ("const:so", "so", True),
        ("const:so", "SO", False),
        ("const:", "", True),
        ("const:https://x.example", "https://x.example", True),  # only the first colon separates
        ("pattern:https://*.example", "https://x.example", True),
        (
            "split_pattern:123,https:%2F%2Fexample?.org",
            "001,https:%2F%2Fexample1.org;123,https:%2F%2Fexample2.org",
            True,
        ),
        ("split_pattern:9*", "001;123", False),
        ("regex:.*", "anything", False),  # unknown prefix
        ("so", "so", False),  # no prefix
        ("const:so", None, False),  # the field is absent from the visa
        ("const:1", 1, False),
    ],
)
def test_a_clause_field_matches_by_its_prefix(spec: str, actual: object, matches: bool) -> None:
    assert field_matches(spec, actual) is matches


AFFILIATION = visa("AffiliationAndRole", "faculty@uni.example", by="so", source="https://uni.example")
STATUS = visa("ResearcherStatus", "https://doi.org/10.1038/s41431-018-0219-y", by="so")
FACULTY = {"type": "AffiliationAndRole", "value": "const:faculty@uni.example", "by": "const:so"}
BONA_FIDE = {"type": "ResearcherStatus", "value": "const:https://doi.org/10.1038/s41431-018-0219-y"}


@pytest.mark.parametrize(
    ("conditions", "met"),
    [
        (None, False),  # present but null: malformed, not absent
        ([], True),
        ([[FACULTY]], True),
        ([[FACULTY, BONA_FIDE]], True),  # AND, each clause met by its own visa
        ([[{**FACULTY, "value": "const:student@uni.example"}]], False),
        ([[{**FACULTY, "value": "const:student@uni.example"}], [BONA_FIDE]], True),  # OR
        ([[FACULTY, {**BONA_FIDE, "by": "const:dac"}]], False),
        ([[{"type": "AffiliationAndRole", "value": "pattern:faculty@*", "source": "const:https://uni.example"}]], True),
        # All fields of one clause must match the same visa.
        (
            [
                [
                    {
                        "type": "AffiliationAndRole",
                        "value": "const:faculty@uni.example",
                        "source": "const:https://dac.example",
                    }
                ]
            ],
            False,
        ),
        ([FACULTY], False),  # not a list of lists
        ([[]], False),  # an empty AND is malformed, not vacuously true
        ("AffiliationAndRole", False),
        ({"type": "AffiliationAndRole"}, False),
        ([[{"value": "const:faculty@uni.example"}]], False),  # no type
        ([[{"type": "AffiliationAndRole"}]], False),  # nothing but a type
        ([[{**FACULTY, "asserted": "const:1"}]], False),  # times are not clause fields
        ([[{**FACULTY, "conditions": "const:x"}]], False),
        ([[{**FACULTY, "by": 1}]], False),
        ([[FACULTY] * 33], False),  # more clauses than this beacon evaluates
    ],
)
def test_conditions_are_an_or_of_and_clauses(conditions: object, met: bool) -> None:
    assert conditions_met(conditions, [AFFILIATION, STATUS]) is met


def test_a_clause_names_the_visa_type_it_needs() -> None:
    assert clause_met(FACULTY, [AFFILIATION])
    assert not clause_met({**FACULTY, "type": "ResearcherStatus"}, [AFFILIATION])


@pytest.mark.parametrize(
    ("value", "identities"),
    [
        ("567,https%3A%2F%2Fexample2.org", {("567", "https://example2.org")}),
        ("567,https:%2F%2Fa.org;89%2C0,https:%2F%2Fb.org", {("567", "https://a.org"), ("89,0", "https://b.org")}),
        ("567", None),
        ("567,https://a.org,extra", None),
        (",https://a.org", None),
        ("567,https://a.org;", None),
    ],
)
def test_linked_identities_values_are_uri_encoded_pairs(value: str, identities: set[tuple[str, str]] | None) -> None:
    parsed = parse_linked_identities(value)
    assert (set(parsed) if parsed is not None else None) == identities


def _link(sub: str, iss: str, *pairs: tuple[str, str], **fields: Any) -> Visa:
    from urllib.parse import quote

    value = ";".join(f"{quote(s, safe='')},{quote(i, safe='')}" for s, i in pairs)
    return visa("LinkedIdentities", value, sub, iss=iss, **fields)


GRANTS: dict[str, tuple[list[Visa], set[str]]] = {
    "the subject's own grant": ([visa()], {"ds-1"}),
    "a grant to another subject": ([visa(sub="bob")], set()),
    "a grant to another identity, linked by the subject's own link": (
        [visa(sub="alice-ega"), _link("alice", BROKER, ("alice-ega", BROKER))],
        {"ds-1"},
    ),
    "a link the other way round": ([visa(sub="alice-ega"), _link("alice-ega", BROKER, ("alice", ISSUER))], {"ds-1"}),
    "a link between two other people": ([visa(sub="alice-ega"), _link("bob", BROKER, ("alice-ega", BROKER))], set()),
    "a link whose iss differs from the grant's": (
        [visa(sub="alice-ega"), _link("alice", BROKER, ("alice-ega", "https://elsewhere.example"))],
        set(),
    ),
    "a chain of links": (
        [visa(sub="c"), _link("alice", BROKER, ("b", BROKER)), _link("b", BROKER, ("c", BROKER))],
        {"ds-1"},
    ),
    "a link with conditions": (
        [visa(sub="alice-ega"), _link("alice", BROKER, ("alice-ega", BROKER), conditions=[[FACULTY]]), AFFILIATION],
        set(),
    ),
    "conditions met by the subject's own affiliation": ([visa(conditions=[[FACULTY]]), AFFILIATION], {"ds-1"}),
    "conditions met only by another subject's affiliation": (
        [visa(conditions=[[FACULTY]]), Visa(0, BROKER, "bob", AFFILIATION.fields)],
        set(),
    ),
    "conditions met by a linked identity's affiliation": (
        [
            visa(conditions=[[FACULTY]]),
            Visa(0, BROKER, "alice-uni", AFFILIATION.fields),
            _link("alice", BROKER, ("alice-uni", BROKER)),
        ],
        {"ds-1"},
    ),
    "conditions met only by a visa that has conditions": (
        [visa(conditions=[[FACULTY]]), visa("AffiliationAndRole", "faculty@uni.example", by="so", conditions=[])],
        set(),
    ),
    "asserted in the future": ([visa(asserted=NOW + 3600)], set()),
    "asserted within the leeway": ([visa(asserted=NOW + 10)], {"ds-1"}),
    "asserted not finite": ([visa(asserted=float("inf"))], set()),
    "conditions present but null": ([visa(conditions=None)], set()),
    "a ControlledAccessGrants visa without by": ([Visa(0, BROKER, "alice", {**visa().fields, "by": None})], set()),
    "a value that is not a string": ([visa(value=["ds-1"])], set()),  # type: ignore[arg-type]
    "two grants, one unmet": ([visa(), visa(value="ds-2", conditions=[[BONA_FIDE]])], {"ds-1"}),
}


@pytest.mark.parametrize("case", list(GRANTS))
def test_grants_follow_the_passport_rules(case: str, caplog: pytest.LogCaptureFixture) -> None:
    visas, expected = GRANTS[case]
    with caplog.at_level(logging.WARNING, logger="beacon.security.passport"):
        assert grants("alice", visas, NOW) == expected
    if not expected:
        assert "ignoring visa" in caplog.text


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
FIELDS = st.dictionaries(
    st.sampled_from(["type", "value", "source", "by", "asserted", "conditions", "other"]), JSON_VALUES, max_size=7
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(["alice", "bob", "alice-ega"]), FIELDS), max_size=6))
def test_any_visa_objects_give_a_set_of_grants_and_never_an_exception(objects: list[tuple[str, Any]]) -> None:
    visas = [visa(), *(Visa(n, BROKER, sub, fields) for n, (sub, fields) in enumerate(objects))]
    granted = grants("alice", visas, NOW)
    assert "ds-1" in granted  # the well-formed grant of the subject holds whatever else comes along
    assert all(isinstance(g, str) for g in granted)


@settings(max_examples=300, deadline=None, database=None)
@given(JSON_VALUES)
def test_conditions_that_are_not_a_list_of_lists_are_never_met(conditions: object) -> None:
    if conditions == [] or (isinstance(conditions, list) and all(isinstance(b, list) for b in conditions)):
        return
    assert not conditions_met(conditions, [AFFILIATION, STATUS])
