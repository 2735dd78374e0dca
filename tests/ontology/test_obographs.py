"""The OBO-JSON (obographs) reader: IRIs to CURIEs, is_a edges only, alternative ids and deprecation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from beacon.ontology.obographs import ObographsError, curie, parse_obographs

SLICE = Path(__file__).resolve().parents[1] / "data" / "ontology" / "geno_zygosity_slice.json"


@pytest.fixture(scope="module")
def document() -> Any:
    return json.loads(SLICE.read_text(encoding="utf-8"))


def test_class_nodes_become_terms_with_is_a_parents(document: Any) -> None:
    geno = parse_obographs(document, "GENO")
    assert geno.version == "2023-10-08"  # the release segment of the version IRI
    assert geno.name == "http://purl.obolibrary.org/obo/geno-zygosity-slice.json"
    assert set(geno.labels) == {"GENO:0000133", "GENO:0000391", "GENO:0000135", "GENO:0000136", "GENO:0000134"}
    assert geno.descendants("GENO:0000391") == {"GENO:0000135", "GENO:0000136"}  # part_of does not count
    assert geno.descendants("GENO:0000133") == {
        "GENO:0000391",
        "GENO:0000135",
        "GENO:0000136",
        "GENO:0000134",
    }
    assert geno.resolve("GENO:0000901") == "GENO:0000136"  # hasAlternativeId
    assert geno.resolve("GENO:0000900") == "GENO:0000135"  # deprecated, IAO_0100001 replaced by
    assert "GENO:0000900" not in geno


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        ("http://purl.obolibrary.org/obo/HP_0000118", "HP:0000118"),
        ("HP:0000118", "HP:0000118"),
        ("http://example.org/term/1", "http://example.org/term/1"),
    ],
)
def test_curie(iri: str, expected: str) -> None:
    assert curie(iri) == expected


@pytest.mark.parametrize("document", [[], {"graph": []}, {"graphs": {}}, "text"])
def test_a_document_without_a_graphs_list_is_rejected(document: object) -> None:
    with pytest.raises(ObographsError, match="not an obographs document: no 'graphs' list"):
        parse_obographs(document, "X")


def test_parts_of_the_wrong_shape_are_skipped_not_fatal() -> None:
    document = {
        "graphs": [
            "not a graph",
            {
                "meta": [],
                "nodes": [{"id": "X:1", "lbl": "one", "meta": "odd"}, {"lbl": "no id"}, 5],
                "edges": {"not": "a list"},
            },
        ]
    }
    ontology = parse_obographs(document, "X")
    assert dict(ontology.labels) == {"X:1": "one"}
