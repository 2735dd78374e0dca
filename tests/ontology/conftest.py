"""The shipped HPO read twice: by the code under test, and by the independent reference reader."""

from __future__ import annotations

import pytest

from beacon.ontology import BUILTIN_HPO, Ontology, load_ontologies
from tests.hpo_reference import ReferenceHpo, read_reference_hpo


@pytest.fixture(scope="session")
def hpo() -> Ontology:
    return load_ontologies((BUILTIN_HPO,)).by_prefix["HP"]


@pytest.fixture(scope="session")
def reference_hpo() -> ReferenceHpo:
    return read_reference_hpo()
