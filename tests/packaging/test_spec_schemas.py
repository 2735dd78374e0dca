"""The official schemas shipped in the package: found without ../shared, whole and unchanged, overridable.

And how they treat the v2.2 fields this beacon answers ahead of the shipped v2.1.1 (docs/conformance.md).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from beacon import spec
from beacon.errors import ConfigError
from tests.documents import variant_answer_meta
from tests.spec_check import response_problems

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "schemas" / "beacon-v2"
EXAMPLES = SHIPPED / "framework/json/responses/examples-fullDocuments"


def test_the_shipped_copy_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEACON_SPEC_DIR", raising=False)
    assert spec.spec_dir() == SHIPPED


def test_beacon_spec_dir_still_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "framework" / "json").mkdir(parents=True)
    monkeypatch.setenv("BEACON_SPEC_DIR", str(tmp_path))
    assert spec.spec_dir() == tmp_path.resolve()
    monkeypatch.setenv("BEACON_SPEC_DIR", str(tmp_path / "nothing"))
    with pytest.raises(ConfigError, match=r"BEACON_SPEC_DIR=.*nothing: no Beacon v2 schemas there"):
        spec.spec_dir()


def test_provenance_and_licences_ship_with_the_schemas() -> None:
    readme = (SHIPPED / "README.md").read_text()
    assert "47af89c8fd199d2674e5ca7fb504815ebc145e63" in readme  # the upstream commit, tag v2.1.1
    assert "CC0 1.0 Universal" in (SHIPPED / "LICENSE.upstream-CC0-1.0.txt").read_text()
    assert (SHIPPED / "external/ga4gh-vrs-1.3/LICENSE").is_file()
    files = list(SHIPPED.rglob("*.json"))
    assert len(files) == 140
    for path in files:
        json.loads(path.read_text())  # every file is the upstream JSON, parseable as is


def _count_response() -> dict[str, Any]:
    return {
        "meta": variant_answer_meta("org.example.beacon"),
        "responseSummary": {"exists": True, "numTotalResults": 5},
        "response": {
            "resultSets": [{"id": "d", "setType": "dataset", "exists": True, "resultsCount": 5, "results": []}]
        },
    }


def test_v2_2_count_fields_validate_as_additional_properties_of_the_v2_1_1_objects() -> None:
    document = _count_response()
    assert response_problems(document) == []
    v22 = copy.deepcopy(document)
    v22["responseSummary"] |= {"countPrecision": "rounded", "countAdjustedTo": ["5"]}
    v22["response"]["resultSets"][0] |= {"countPrecision": "rounded", "countAdjustedTo": ["5"]}
    assert response_problems(v22) == []
    broken = copy.deepcopy(v22)
    del broken["responseSummary"]["exists"]
    assert response_problems(broken) != [], "the summary is still judged"


def test_the_shipped_files_are_byte_identical_to_the_source_copy() -> None:
    source = ROOT.parent / "shared" / "beacon-v2-spec"
    if not source.is_dir():
        pytest.skip(f"needs the source copy of the schemas at {source} to compare with")
    names = {p.relative_to(source) for p in source.rglob("*") if p.is_file() and p.name != "README.md"}
    assert names == {p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file() and p.name != "README.md"}
    for name in names:
        assert (SHIPPED / name).read_bytes() == (source / name).read_bytes(), name
