"""Frequency records of other nodes: the mini-node's `populations[]` becomes the specification's `frequencies[]`."""

from __future__ import annotations

from typing import Any


def with_spec_frequencies(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """`doc` with every `frequencyInPopulations[].populations` renamed `frequencies` (when that key is absent),
    and how many sources were renamed; `doc` itself is not changed."""
    sources = doc.get("frequencyInPopulations")
    if not isinstance(sources, list) or not any(
        isinstance(s, dict) and "populations" in s and "frequencies" not in s for s in sources
    ):
        return doc, 0
    renamed = 0
    converted: list[Any] = []
    for source in sources:
        if isinstance(source, dict) and "populations" in source and "frequencies" not in source:
            source = {("frequencies" if k == "populations" else k): v for k, v in source.items()}
            renamed += 1
        converted.append(source)
    return {**doc, "frequencyInPopulations": converted}, renamed
