"""Phenopacket building blocks in Beacon's shapes: ontology terms, time elements, and guards for list and
object fields that hold something else (the mapping reports those, it never raises on them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]
_CURIE = re.compile(r"^\w[^:]+:.+$")  # what Beacon's ontologyTerm requires of an id


def as_list(value: object) -> list[Any]:
    """A list field's items; anything else (reported by `map_phenopacket`) holds none."""
    return value if isinstance(value, list) else []


def as_object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def term(node: object) -> Json | None:
    if isinstance(node, Mapping) and isinstance(node.get("id"), str) and _CURIE.match(node["id"]):
        out: Json = {"id": node["id"]}
        if isinstance(node.get("label"), str):
            out["label"] = node["label"]
        return out
    return None


def time_element(node: object) -> Json | None:
    """A phenopacket TimeElement in the Beacon timeElement shapes.

    A single timestamp becomes a TimeInterval starting and ending at that instant: Beacon's
    timeElement is an object, so a bare timestamp string cannot be expressed otherwise.
    """
    if not isinstance(node, Mapping):
        return None
    if isinstance(node.get("age"), Mapping) and isinstance(node["age"].get("iso8601duration"), str):
        return {"iso8601duration": node["age"]["iso8601duration"]}
    if isinstance(node.get("ageRange"), Mapping):
        start, end = node["ageRange"].get("start"), node["ageRange"].get("end")
        if isinstance(start, Mapping) and isinstance(end, Mapping):
            return {
                "start": {"iso8601duration": start.get("iso8601duration")},
                "end": {"iso8601duration": end.get("iso8601duration")},
            }
    if isinstance(node.get("gestationalAge"), Mapping):
        gestational = node["gestationalAge"]
        out: Json = {"weeks": gestational.get("weeks", 0)}
        if "days" in gestational:
            out["days"] = gestational["days"]
        return out
    if (found := term(node.get("ontologyClass"))) is not None:
        return found
    if isinstance(node.get("timestamp"), str):
        return {"start": node["timestamp"], "end": node["timestamp"]}
    if isinstance(node.get("interval"), Mapping):
        return {"start": node["interval"].get("start"), "end": node["interval"].get("end")}
    return None
