"""Similarity levels on the shipped HPO, checked against the definition computed independently.

The definition (docs/filters.md): at level k = 0/1/2/3 (exact/high/medium/low) the anchors are the term
and its ancestors at most k is_a steps above it, minus any ancestor within two steps of a root; a
record term matches if it is an anchor or, with descendants included, below one.
"""

from __future__ import annotations

import pytest

from beacon.ontology import Ontology
from beacon.ontology.similarity import anchors, matching_terms
from tests.hpo_reference import ReferenceHpo

LEVELS = {"exact": 0, "high": 1, "medium": 2, "low": 3}
FOCAL_IMPAIRED_AWARENESS = "HP:0002384"  # Focal impaired awareness seizure, six steps below All


@pytest.mark.parametrize("similarity", list(LEVELS))
@pytest.mark.parametrize("term", ["HP:0001250", FOCAL_IMPAIRED_AWARENESS, "HP:0000252", "HP:0000707", "HP:0000001"])
def test_anchors_and_matches_follow_the_definition(
    hpo: Ontology, reference_hpo: ReferenceHpo, term: str, similarity: str
) -> None:
    want = reference_hpo.anchors(term, LEVELS[similarity])
    assert set(anchors(hpo, term, similarity)) == want
    assert matching_terms(hpo, term, False, similarity) == want
    assert matching_terms(hpo, term, True, similarity) == reference_hpo.matching(term, LEVELS[similarity])


def test_each_level_widens_a_deep_term(hpo: Ontology) -> None:
    sizes = [len(matching_terms(hpo, FOCAL_IMPAIRED_AWARENESS, True, s)) for s in LEVELS]
    assert sizes == sorted(sizes)
    assert len(set(sizes)) == 4
    # high: its two parents, Focal-onset seizure and Dialeptic seizure; medium: Seizure;
    # low: Abnormal nervous system physiology (nearest first, then by id)
    assert anchors(hpo, FOCAL_IMPAIRED_AWARENESS, "low") == (
        FOCAL_IMPAIRED_AWARENESS,
        "HP:0007359",
        "HP:0011146",
        "HP:0001250",
        "HP:0012638",
    )


def test_no_level_reaches_an_organ_system_class(hpo: Ontology) -> None:
    # Seizure is four steps below All; "Abnormality of the nervous system" is two: never an anchor.
    assert anchors(hpo, "HP:0001250", "low") == ("HP:0001250", "HP:0012638")
    assert "HP:0000707" not in matching_terms(hpo, "HP:0001250", True, "low")


def test_nearest_anchors_come_first(hpo: Ontology) -> None:
    found = anchors(hpo, FOCAL_IMPAIRED_AWARENESS, "medium")
    assert found[0] == FOCAL_IMPAIRED_AWARENESS


def test_unknown_level_is_a_key_error(hpo: Ontology) -> None:
    with pytest.raises(KeyError, match="closest"):
        anchors(hpo, "HP:0001250", "closest")
