"""Response bodies encode to the same JSON values with orjson and with the standard library."""

from __future__ import annotations

import json

import pytest

from beacon.api import json_bytes as module
from beacon.api.json_bytes import json_bytes, stdlib_json_bytes

DOCUMENTS = [
    {"meta": {"beaconId": "org.example", "apiVersion": "v2.0.0"}, "responseSummary": {"exists": True}},
    {"counts": [0, 1, 2**40], "frequency": 0.123456789, "label": "café ∆ 𝔾", "none": None, "nested": [[{}]]},
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_both_encoders_give_the_same_json(document: dict[str, object]) -> None:
    assert json.loads(stdlib_json_bytes(document)) == document
    assert json.loads(json_bytes(document)) == document
    assert stdlib_json_bytes(document).decode() == json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def test_without_orjson_the_standard_library_writes_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "orjson", None)
    assert json_bytes(DOCUMENTS[1]) == stdlib_json_bytes(DOCUMENTS[1])
