"""OBO 1.2/1.4 flat files into an Ontology: [Term] stanzas with id, name, is_a, alt_id, is_obsolete, replaced_by.

Only the is_a hierarchy is read: other relations (part_of, intersection_of) do not make a term
a kind of another, and a filter on a term must not widen through them. Other stanza types
([Typedef], [Instance]) and tags are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from beacon.ontology.hierarchy import Ontology


class OboSyntaxError(ValueError):
    """A line that is neither a stanza header, a tag-value pair, a comment nor blank."""


@dataclass
class Stanza:
    """What one [Term] stanza (or one obographs node) says about a term."""

    id: str | None = None
    name: str = ""
    is_a: list[str] = field(default_factory=list)
    alt_ids: list[str] = field(default_factory=list)
    obsolete: bool = False
    replaced_by: str | None = None


def _value(raw: str) -> str:
    """A tag's value without trailing qualifiers `{...}` or an unescaped `!` comment."""
    out = []
    escaped = False
    for ch in raw:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "!":
            break
        else:
            out.append(ch)
    text = "".join(out).strip()
    if text.endswith("}") and "{" in text:
        text = text[: text.rindex("{")].rstrip()
    return text


def _identifier(raw: str) -> str:
    """The first token of an id-valued tag (`is_a: HP:0000001 {source=...} ! All` → `HP:0000001`)."""
    value = _value(raw)
    return value.split()[0] if value else ""


def parse_obo(lines: Iterable[str], prefix: str, name: str = "", version: str = "") -> Ontology:
    """An Ontology from OBO text; `name`/`version` default to the file's `ontology:`/`data-version:` headers.

    :raise OboSyntaxError: a malformed line (the message gives its number).
    """
    header: dict[str, str] = {}
    stanzas: list[Stanza] = []
    current: Stanza | None = None
    in_header = True
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("!"):
            continue
        if text.startswith("["):
            if not text.endswith("]"):
                msg = f"line {number}: malformed stanza header {text!r}"
                raise OboSyntaxError(msg)
            in_header = False
            current = Stanza() if text == "[Term]" else None
            if current is not None:
                stanzas.append(current)
            continue
        tag, sep, raw = text.partition(":")
        if not sep:
            msg = f"line {number}: expected 'tag: value', got {text!r}"
            raise OboSyntaxError(msg)
        tag = tag.strip()
        if in_header:
            header.setdefault(tag, raw.strip())
            continue
        if current is None:
            continue
        if tag == "id":
            current.id = _identifier(raw)
        elif tag == "name":
            current.name = _value(raw)
        elif tag == "is_a":
            current.is_a.append(_identifier(raw))
        elif tag == "alt_id":
            current.alt_ids.append(_identifier(raw))
        elif tag == "is_obsolete":
            current.obsolete = _value(raw) == "true"
        elif tag == "replaced_by":
            current.replaced_by = _identifier(raw)
    return build(stanzas, prefix, name or header.get("ontology", ""), version or _version(header))


def release_version(text: str) -> str:
    """The release a version string or IRI names: its last path segment, or the one before a file name.

    `hp/releases/2025-01-16` → `2025-01-16`; `http://purl.obolibrary.org/obo/mondo/releases/2024-06-04/mondo.owl`
    → `2024-06-04`; `2024-06-04` stays as it is.
    """
    parts = [p for p in text.strip().split("/") if p]
    if len(parts) > 1 and parts[-1].endswith((".obo", ".owl", ".json")):
        return parts[-2]
    return parts[-1] if parts else ""


def _version(header: dict[str, str]) -> str:
    return release_version(header.get("data-version", ""))


def build(stanzas: Iterable[Stanza], prefix: str, name: str, version: str) -> Ontology:
    """An Ontology from parsed stanzas: obsolete terms drop out of the hierarchy and resolve via replaced_by."""
    labels: dict[str, str] = {}
    parents: dict[str, tuple[str, ...]] = {}
    replaced: dict[str, str] = {}
    for s in stanzas:
        if not s.id:
            continue
        if s.obsolete:
            if s.replaced_by:
                replaced[s.id] = s.replaced_by
            continue
        labels[s.id] = s.name
        parents[s.id] = tuple(dict.fromkeys(s.is_a))
        for alt in s.alt_ids:
            replaced.setdefault(alt, s.id)
    # Parents outside the file (imports not included, or obsolete) are dropped, so every edge is walkable.
    parents = {t: tuple(p for p in ps if p in labels) for t, ps in parents.items()}
    return Ontology(prefix=prefix, labels=labels, parents=parents, replaced=replaced, name=name, version=version)


__all__ = ["OboSyntaxError", "Stanza", "build", "parse_obo", "release_version"]
