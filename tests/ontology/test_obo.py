"""The OBO reader and the Ontology value: a hand-written slice pins each rule, the shipped hp.obo the scale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from beacon.ontology.hierarchy import Ontology
from beacon.ontology.obo import OboSyntaxError, parse_obo, release_version
from tests.hpo_reference import HPO_OBO, ReferenceHpo

SLICE = Path(__file__).resolve().parents[1] / "data" / "ontology" / "ncit_sex_slice.obo"


@pytest.fixture(scope="module")
def ncit() -> Ontology:
    with SLICE.open(encoding="utf-8") as handle:
        return parse_obo(handle, "NCIT")


def test_header_gives_name_and_release(ncit: Ontology) -> None:
    assert (ncit.prefix, ncit.name, ncit.version) == ("NCIT", "ncit-sex-slice", "2024-05-07")


def test_terms_labels_and_only_is_a_edges(ncit: Ontology) -> None:
    assert dict(ncit.labels) == {
        "NCIT:C28421": "Sex",
        "NCIT:C16576": "Female",
        "NCIT:C20197": "Male",
        "NCIT:C17998": "Unknown ! not stated",  # an escaped '!' is text, not a comment
    }
    assert ncit.parents["NCIT:C16576"] == ("NCIT:C28421",)  # qualifiers and comment stripped
    # relationship: part_of is not a kind-of edge, and a [Typedef]'s is_a is not a term's
    assert ncit.descendants("NCIT:C17998") == frozenset()
    assert ncit.descendants("NCIT:C16576") == frozenset()
    assert ncit.descendants("NCIT:C28421") == {"NCIT:C16576", "NCIT:C20197", "NCIT:C17998"}
    assert ncit.ancestors("NCIT:C20197") == {"NCIT:C28421"}


def test_retired_ids_resolve_and_obsolete_terms_leave_the_hierarchy(ncit: Ontology) -> None:
    assert ncit.resolve("NCIT:C46110") == "NCIT:C16576"  # alt_id
    assert ncit.resolve("NCIT:C46109") == "NCIT:C20197"  # obsolete, replaced_by
    assert ncit.resolve("NCIT:C99999") is None
    assert "NCIT:C46109" not in ncit
    assert ncit.aliases("NCIT:C20197") == ("NCIT:C46109",)
    assert ncit.depth("NCIT:C28421") == 0
    assert ncit.depth("NCIT:C16576") == 1
    with pytest.raises(KeyError):
        ncit.depth("NCIT:C46109")


def test_configured_name_and_version_win_over_the_header() -> None:
    with SLICE.open(encoding="utf-8") as handle:
        ontology = parse_obo(handle, "NCIT", name="NCIt", version="24.05")
    assert (ontology.name, ontology.version) == ("NCIt", "24.05")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[Term]\nid: X:1\n[Term\n", "line 3: malformed stanza header '[Term'"),
        ("format-version: 1.2\njust words\n", "line 2: expected 'tag: value', got 'just words'"),
    ],
)
def test_malformed_lines_name_their_number(text: str, message: str) -> None:
    with pytest.raises(OboSyntaxError, match=re.escape(message)):
        parse_obo(text.splitlines(), "X")


@pytest.mark.parametrize(
    ("given", "release"),
    [
        ("hp/releases/2025-01-16", "2025-01-16"),
        ("http://purl.obolibrary.org/obo/mondo/releases/2024-06-04/mondo.owl", "2024-06-04"),
        ("2024-06-04", "2024-06-04"),
        ("", ""),
    ],
)
def test_release_version(given: str, release: str) -> None:
    assert release_version(given) == release


def test_shipped_hpo_matches_an_independent_reading(hpo: Ontology, reference_hpo: ReferenceHpo) -> None:
    assert hpo.version == "2025-01-16"
    assert set(hpo.labels) == set(reference_hpo.parents)
    for term in ("HP:0001250", "HP:0000118", "HP:0000707", "HP:0007359"):
        assert hpo.descendants(term) == reference_hpo.descendants(term), term
        assert hpo.depth(term) == reference_hpo.depth(term), term
    assert hpo.resolve("HP:0002279") == "HP:0001250"  # alt_id of Seizure
    assert hpo.resolve("HP:0040168") == "HP:0007359"  # obsolete, replaced by Focal-onset seizure
    assert HPO_OBO.name == "hp.obo"
