"""The semantic similarity of ontology filters: which terms a filter on a term matches (docs/filters.md).

A record term t matches query term q at similarity level s when t is an *anchor* of q or, with
descendant terms included, lies below an anchor. The anchors of q are q itself and its ancestors
at most k(s) is_a steps above q: k = 0 (exact), 1 (high), 2 (medium), 3 (low). An ancestor within
two steps of a root (its depth, the fewest is_a steps up to a root, is 0, 1 or 2: in HPO "All",
"Phenotypic abnormality" and the organ-system classes such as "Abnormality of the nervous system")
is never an anchor, so no level widens a query to a whole ontology or a whole organ system.
"""

from __future__ import annotations

from typing import Final

from beacon.ontology.hierarchy import Ontology

SIMILARITY_STEPS: Final = {"exact": 0, "high": 1, "medium": 2, "low": 3}
# Anchors lie more than two is_a steps below every root ("never within two steps of a root").
MIN_ANCHOR_DEPTH: Final = 3


def anchors(ontology: Ontology, term: str, similarity: str) -> tuple[str, ...]:
    """`term` and the ancestors it is widened to at `similarity`, nearest first.

    :raise KeyError: an unknown similarity level, or `term` is not a current term of the ontology.
    """
    steps = SIMILARITY_STEPS[similarity]
    found = ontology.ancestors_within(term, steps)
    return tuple(a for a in found if a == term or ontology.depth(a) >= MIN_ANCHOR_DEPTH)


def matching_terms(ontology: Ontology, term: str, include_descendants: bool, similarity: str) -> frozenset[str]:
    """Current terms a record may carry to match a filter on `term` (a current term of the ontology)."""
    out = set(anchors(ontology, term, similarity))
    if include_descendants:
        for anchor in tuple(out):
            out |= ontology.descendants(anchor)
    return frozenset(out)
