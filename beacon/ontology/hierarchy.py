"""An ontology as a value: labels, is_a parents, retired ids, and memoised closures over the hierarchy."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field

# Retired ids are followed at most this far (replaced_by chains are short; a longer one is a cycle).
_MAX_REPLACEMENTS = 16


@dataclass(frozen=True, eq=False)
class Ontology:
    """One ontology: current terms with labels and is_a parents, plus ids that resolve to a current term.

    `replaced` maps alternative ids (`alt_id`) and obsolete terms with a `replaced_by` to the
    current term. Closures (`descendants`, `ancestors`, `depth`) are computed on first use and
    memoised; the value is otherwise immutable.
    """

    prefix: str
    labels: Mapping[str, str]
    parents: Mapping[str, tuple[str, ...]]
    replaced: Mapping[str, str] = field(default_factory=dict)
    name: str = ""
    version: str = ""
    _children: dict[str, list[str]] = field(init=False, repr=False)
    _aliases: dict[str, list[str]] = field(init=False, repr=False)
    _down: dict[str, frozenset[str]] = field(init=False, repr=False)
    _up: dict[str, frozenset[str]] = field(init=False, repr=False)
    _depth: dict[str, int] = field(init=False, repr=False)
    _into: dict[Hashable, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        children: dict[str, list[str]] = {}
        for term, parents in self.parents.items():
            for parent in parents:
                children.setdefault(parent, []).append(term)
        aliases: dict[str, list[str]] = {}
        for old in self.replaced:
            current = self.resolve(old)
            if current is not None:
                aliases.setdefault(current, []).append(old)
        object.__setattr__(self, "_children", children)
        object.__setattr__(self, "_aliases", aliases)
        object.__setattr__(self, "_down", {})
        object.__setattr__(self, "_up", {})
        object.__setattr__(self, "_depth", {})
        object.__setattr__(self, "_into", {})

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, term: object) -> bool:
        return term in self.labels

    def resolve(self, term: str) -> str | None:
        """The current term for `term` (itself, or what an alt id or obsolete id stands for); None if unknown."""
        for _ in range(_MAX_REPLACEMENTS):
            if term in self.labels:
                return term
            next_term = self.replaced.get(term)
            if next_term is None:
                return None
            term = next_term
        return None

    def aliases(self, term: str) -> tuple[str, ...]:
        """Retired ids (alt ids, obsolete terms) that resolve to `term`, sorted."""
        return tuple(sorted(self._aliases.get(term, ())))

    def resolving_into(self, key: Hashable, wanted: Callable[[], Iterable[str]]) -> frozenset[str]:
        """Every id that resolves to a term of `wanted()`: its current terms and their retired ids, exactly
        the ids `t` with `resolve(t)` in it. Memoised by `key`, which must name what `wanted` computes:
        a filter meets the store's terms with one set intersection instead of resolving each of them."""
        found = self._into.get(key)
        if found is None:
            terms = frozenset(wanted())
            found = frozenset(t for t in terms if t in self.labels).union(*(self._aliases.get(t, ()) for t in terms))
            self._into[key] = found
        return found

    def children(self, term: str) -> tuple[str, ...]:
        return tuple(self._children.get(term, ()))

    def descendants(self, term: str) -> frozenset[str]:
        """Every term below `term` through is_a (transitively), `term` itself excluded; empty if unknown."""
        return _memoised_closure(term, self._children, self._down)

    def ancestors(self, term: str) -> frozenset[str]:
        """Every term above `term` through is_a (transitively), `term` itself excluded; empty if unknown."""
        return _memoised_closure(term, self.parents, self._up)

    def ancestors_within(self, term: str, steps: int) -> tuple[str, ...]:
        """`term` and the terms at most `steps` is_a edges above it, nearest first, then by id."""
        level, seen = [term], {term}
        out = [term]
        for _ in range(steps):
            nxt = sorted({p for t in level for p in self.parents.get(t, ()) if p not in seen})
            if not nxt:
                break
            seen.update(nxt)
            out.extend(nxt)
            level = nxt
        return tuple(out)

    def depth(self, term: str) -> int:
        """Fewest is_a edges from `term` up to a root (a term without parents; roots have depth 0).

        :raise KeyError: `term` is not a current term of this ontology.
        """
        if term not in self.labels:
            raise KeyError(term)
        found = self._depth.get(term)
        if found is None:
            found = 0
            level, seen = [term], {term}
            while level and all(self.parents.get(t) for t in level):
                level = [p for t in level for p in self.parents[t] if p not in seen]
                seen.update(level)
                found += 1
            self._depth[term] = found
        return found


def _memoised_closure(
    start: str, edges: Mapping[str, Iterable[str]], memo: dict[str, frozenset[str]]
) -> frozenset[str]:
    """Every term reachable from `start` along `edges`, `start` excluded; kept in `memo` for the next call."""
    found = memo.get(start)
    if found is not None:
        return found
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    found = memo[start] = frozenset(seen - {start})
    return found
