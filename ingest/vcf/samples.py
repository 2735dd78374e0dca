"""Sample tables: which individual, population, sex, country and ancestry each VCF sample has (TSV, CSV, JSON, CanDIG).

Country (ISO 3166 alpha-2), sex and ancestry make the populations a load counts in
(ingest/vcf/populations.py, docs/populations.md); `population` is a free label kept as it is.
"""

from __future__ import annotations

import csv
import json
import re
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
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ANCESTRY = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class SampleInfo:
    sample: str
    individual: str | None = None
    population: str | None = None
    sex: str | None = None
    country: str | None = None
    ancestry: str | None = None

    @property
    def sex_code(self) -> str | None:
        """M, F or None (unknown): what names sex populations and decides hemizygous calls."""
        found = _SEXES.get((self.sex or "").strip().lower())
        return None if found is None else "M" if found[1] == "male" else "F"

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
            row.get("population") or None,
            row.get("sex") or row.get("gender"),
            _checked(row, "country", _COUNTRY, "an ISO 3166 alpha-2 code (NL)", path, n, str.upper),
            _checked(row, "ancestry", _ANCESTRY, "letters and digits (EUR)", path, n, str.strip),
        )
    return out


def _checked(
    row: dict[str, Any], key: str, form: re.Pattern[str], expected: str, path: Path, n: int, clean: Any
) -> str | None:
    """The row's `key` (cleaned), None when empty. :raise InputError: it is not of `form`."""
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = clean(str(value).strip())
    if not form.match(text):
        msg = f"{path}: row {n}: {key}: expected {expected}, got {value!r}"
        raise InputError(msg)
    return str(text)


def read_samples(path: Path) -> dict[str, SampleInfo]:
    """Sample name -> SampleInfo.

    TSV or CSV (by the .csv suffix): a header with `sample` and any of `individual`, `population`, `sex`,
    `country`, `ancestry`. JSON: a list of objects
    with those keys, or CanDIG metadata (`{"metadata": [{"Patient": {"patientId", "ethnicity", "gender"}}]}`).

    :raise InputError: unreadable file, a row without a sample name, or a malformed country or ancestry.
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
    delimiter = "," if path.suffix.lower() == ".csv" else "\t"
    return _from_rows(list(csv.DictReader(text.splitlines(), delimiter=delimiter)), path)
