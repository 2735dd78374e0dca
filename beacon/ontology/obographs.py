"""OBO-JSON (obographs) documents into an Ontology: class nodes, is_a edges, alternative ids, deprecation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beacon.ontology.hierarchy import Ontology
from beacon.ontology.obo import Stanza, build, release_version

_OBO_PURL = "http://purl.obolibrary.org/obo/"
_ALT_ID = "http://www.geneontology.org/formats/oboInOwl#hasAlternativeId"
_REPLACED_BY = "http://purl.obolibrary.org/obo/IAO_0100001"
_IS_A = ("is_a", "rdfs:subClassOf", "http://www.w3.org/2000/01/rdf-schema#subClassOf")


class ObographsError(ValueError):
    """A document that is not an obographs graph document."""


def curie(iri: str) -> str:
    """`http://purl.obolibrary.org/obo/HP_0000118` → `HP:0000118`; CURIEs and other IRIs stay as they are."""
    if iri.startswith(_OBO_PURL):
        local = iri[len(_OBO_PURL) :]
        prefix, sep, rest = local.partition("_")
        return f"{prefix}:{rest}" if sep else local
    return iri


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _property_values(meta: Mapping[str, Any], predicate: str) -> list[str]:
    values = _list(meta.get("basicPropertyValues"))
    return [
        curie(str(v["val"])) for v in values if isinstance(v, Mapping) and v.get("pred") == predicate and v.get("val")
    ]


def parse_obographs(document: object, prefix: str, name: str = "", version: str = "") -> Ontology:
    """An Ontology from a parsed obographs document (all its graphs merged); parts of the wrong shape are skipped.

    :raise ObographsError: not an object with a `graphs` list.
    """
    graphs = document.get("graphs") if isinstance(document, Mapping) else None
    if not isinstance(graphs, list):
        msg = "not an obographs document: no 'graphs' list"
        raise ObographsError(msg)
    stanzas: dict[str, Stanza] = {}
    edges: list[Mapping[str, Any]] = []
    for graph in graphs:
        if not isinstance(graph, Mapping):
            continue
        meta = _mapping(graph.get("meta"))
        if not version and isinstance(meta.get("version"), str):
            # "http://purl.obolibrary.org/obo/hp/releases/2025-01-16/hp.json" names the release
            version = release_version(meta["version"])
        for node in _list(graph.get("nodes")):
            if not isinstance(node, Mapping) or node.get("type", "CLASS") != "CLASS" or "id" not in node:
                continue
            term = curie(str(node["id"]))
            node_meta = _mapping(node.get("meta"))
            stanza = stanzas.setdefault(term, Stanza(id=term))
            stanza.name = str(node.get("lbl") or stanza.name)
            stanza.obsolete = bool(node_meta.get("deprecated", False))
            stanza.alt_ids.extend(_property_values(node_meta, _ALT_ID))
            replaced_by = _property_values(node_meta, _REPLACED_BY)
            stanza.replaced_by = replaced_by[0] if replaced_by else None
        edges.extend(e for e in _list(graph.get("edges")) if isinstance(e, Mapping) and e.get("pred") in _IS_A)
        if not name and isinstance(graph.get("id"), str):
            name = graph["id"]
    for edge in edges:
        sub = stanzas.get(curie(str(edge.get("sub"))))
        if sub is not None:
            sub.is_a.append(curie(str(edge.get("obj"))))
    return build(stanzas.values(), prefix, name, version)
