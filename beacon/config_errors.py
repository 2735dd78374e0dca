"""Configuration errors a person can act on: file, line and key; a sentence with an example, never a regex.

YAML syntax errors give file, line and column (PyYAML alone says `"<unicode string>"`); schema violations
give the line of the offending key; a pattern the schema marks with `"x-message"` gets that sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

from beacon.errors import ConfigError
from beacon.store import ACCEPTED as ACCEPTED_STORE_URIS


def _line_of(text: str, path: Any) -> int | None:
    """1-based line of the YAML node at `path` (keys and indices), or of its deepest existing parent."""
    node: yaml.Node | None = yaml.compose(text)
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == part]
            line = found[0][0].start_mark.line + 1 if found else line
            node = found[0][1] if found else None
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            node = None
        if node is None:
            break
    return line


def _format_path(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


# Messages that replace jsonschema's where the schema names one (`"x-message": "store-uri"`): a sentence with
# an example, not the regular expression behind it.
_MESSAGES = {
    "store-uri": f"is not a store URI: write one of {ACCEPTED_STORE_URIS}, for example sqlite:///var/beacon.db",
}
_STORE_SCHEMES = ("sqlite://", "mongodb://", "mongodb+srv://")


def check_store_uri(uri: str, origin: str) -> str:
    """`uri` when its scheme is one a store accepts (the check config.schema.json makes for store.uri).

    :raise ConfigError: `origin: 'uri' is not a store URI: ...` in one sentence with an example.
    """
    if not uri.startswith(_STORE_SCHEMES):
        msg = f"{origin}: {uri!r} {_MESSAGES['store-uri']}"
        raise ConfigError(msg)
    return uri


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, or the one the schema names with `x-message`."""
    own = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    return error.message if own is None else f"{error.instance!r} {_MESSAGES[own]}"


def violation_line(error: jsonschema.ValidationError, origin: str, text: str | None) -> str:
    """`file:line: key.path: message` for one schema violation (the line when the YAML `text` is given).

    An unknown key is named itself, with its line and the keys known there, not the mapping that holds it.
    """
    path, message = list(error.absolute_path), _message(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown = [k for k in error.instance if k not in known]
        if unknown:
            path.append(unknown[0])
            message = f"unknown key (known here: {', '.join(known)})"
    line = _line_of(text, path) if text is not None else None
    where = f"{origin}:{line}" if line is not None else origin
    return f"{where}: {_format_path(path)}: {message}"


def yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """`file:line:column: not valid YAML: problem (context)`, never PyYAML's `"<unicode string>"`."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(exc, "problem", None) or "unreadable"
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None:
        problem += f" ({context} at line {context_mark.line + 1})"
    return f"{where}: not valid YAML: {problem}"
