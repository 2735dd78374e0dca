"""Sample tables: which individual and population each VCF sample belongs to (TSV, JSON, or CanDIG metadata)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import InputError

_SEXES = {
    "female": ("NCIT:C16576", "female"),
    "f": ("NCIT:C16576", "female"),
    "male": ("NCIT:C20197", "male"),
    "m": ("NCIT:C20197", "male"),
}
UNKNOWN = {"id": "NCIT:C17998", "label": "Unknown"}


@dataclass(frozen=True)
class SampleInfo:
    sample: str
    individual: str | None = None
    population: str | None = None
    sex: str | None = None

    def sex_term(self) -> dict[str, str]:
        found = _SEXES.get((self.sex or "").strip().lower())
        return {"id": found[0], "label": found[1]} if found else dict(UNKNOWN)


def _from_rows(rows: list[dict[str, Any]], path: Path) -> dict[str, SampleInfo]:
    out: dict[str, SampleInfo] = {}
    for n, row in enumerate(rows, start=1):
        sample = row.get("sample") or row.get("sampleId") or row.get("biosampleId")
        if not isinstance(sample, str) or not sample:
            msg = f"{path}: row {n}: no 'sample' column/field"
            raise InputError(msg)
        out[sample] = SampleInfo(
            sample,
            row.get("individual") or row.get("individualId"),
            row.get("population"),
            row.get("sex") or row.get("gender"),
        )
    return out


def read_samples(path: Path) -> dict[str, SampleInfo]:
    """Sample name -> SampleInfo.

    TSV: a header with `sample` and any of `individual`, `population`, `sex`. JSON: a list of objects
    with those keys, or CanDIG metadata (`{"metadata": [{"Patient": {"patientId", "ethnicity", "gender"}}]}`).

    :raise InputError: unreadable file or a row without a sample name.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        msg = f"{path}: cannot read the sample table ({exc.strerror})"
        raise InputError(msg) from exc
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})"
            raise InputError(msg) from None
        if isinstance(data, dict) and isinstance(data.get("metadata"), list):
            rows = [
                {"sample": p.get("patientId"), "population": p.get("ethnicity"), "sex": p.get("gender")}
                for item in data["metadata"]
                if isinstance(item, dict) and isinstance(p := item.get("Patient"), dict)
            ]
            return _from_rows(rows, path)
        if isinstance(data, list):
            return _from_rows([r for r in data if isinstance(r, dict)], path)
        msg = f"{path}: expected a list of samples or CanDIG metadata"
        raise InputError(msg)
    return _from_rows(list(csv.DictReader(text.splitlines(), delimiter="\t")), path)
