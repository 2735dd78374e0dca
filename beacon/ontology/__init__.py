"""Ontology hierarchies for filters: OBO and OBO-JSON readers, the Ontology value, the configured set.

A leaf package: it imports nothing from the layers above (import-linter keeps it below `model`).
"""

from __future__ import annotations

from beacon.ontology.hierarchy import Ontology
from beacon.ontology.sources import BUILTIN_HPO, NO_ONTOLOGIES, OntologySet, OntologySource, load_ontologies

__all__ = ["BUILTIN_HPO", "NO_ONTOLOGIES", "Ontology", "OntologySet", "OntologySource", "load_ontologies"]
