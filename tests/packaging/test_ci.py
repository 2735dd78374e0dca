"""CI runs every check: `.ci/run` runs the checks and `make test`, and each check fails the run when its tool fails.

The failing cases run the real make targets on a copy of the tracked files with one violation planted
(`VENV=` the current environment, `STAMP=` a fresh file, so make installs nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.checkout import checkout_copy

ROOT = Path(__file__).resolve().parents[2]


def _make_env(stamp: Path) -> dict[str, str]:
    stamp.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MAKE"))}
    return env | {"VENV": sys.prefix, "STAMP": str(stamp)}


def test_ci_runs_make_check_with_the_large_data_when_it_is_there() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    commands = [line.strip() for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[0] == "set -euo pipefail"
    assert commands[-2:] == ["make lint typecheck layering", "make test"]
    assert "BEACON_TEST_DATA" in script
    assert "export BEACON_TEST_DATA" in script


def test_readme_names_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    first = readme.split("\n## ", 1)[0]
    assert "make test " in first, "the README's first section gives the test command CI runs"
    assert "make lint typecheck layering" in first


def test_make_check_runs_lint_format_types_contracts_and_the_full_suite(tmp_path: Path) -> None:
    env = _make_env(tmp_path / "stamp")
    dry = subprocess.run(["make", "-n", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    lines = dry.stdout.splitlines()
    wanted = ["ruff check", "ruff format --check", "/mypy", "/lint-imports", "-m pytest"]
    found = [next((i for i, line in enumerate(lines) if w in line), None) for w in wanted]
    assert None not in found, dry.stdout
    assert found == sorted(found), "cheap checks first, the suite last"
    suite = lines[found[-1]]
    assert "-m pytest" in suite
    assert "not slow" not in suite, "CI runs the full suite"


@pytest.mark.parametrize(
    ("target", "file", "planted", "message"),
    [
        pytest.param("lint", "beacon/errors.py", "\nimport os\n", "F401", id="ruff: an unused import fails lint"),
        pytest.param(
            "lint",
            "beacon/errors.py",
            "\nX = [1,2]\n",
            "1 file would be reformatted",
            id="ruff format: unformatted code fails lint",
        ),
        pytest.param(
            "layering",
            "beacon/genome/variant_types.py",
            "\nimport beacon.aggregator.app  # noqa: E402, F401\n",
            "genome (assemblies, HGVS, liftover) is a leaf",
            id="import-linter: genome importing the aggregator fails layering",
        ),
        pytest.param(
            "layering",
            "ingest/errors.py",
            "\nimport beacon.api.app  # noqa: E402, F401\n",
            "ingest never imports the serving side",
            id="import-linter: ingest importing the API fails layering",
        ),
        pytest.param(
            "typecheck",
            "beacon/errors.py",
            '\n\ndef _planted() -> int:\n    return "text"\n',
            "Incompatible return value type",
            id="mypy: a type error fails typecheck",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_each_check_fails_on_a_planted_violation(
    tmp_path: Path, target: str, file: str, planted: str, message: str
) -> None:
    copy = checkout_copy(tmp_path / "repo", skip=("tests/data/", "schemas/beacon-v2/", "bench/", "docs/"))
    with (copy / file).open("a") as handle:
        handle.write(planted)
    env = _make_env(tmp_path / "stamp")
    done = subprocess.run(["make", target], cwd=copy, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode != 0, done.stdout + done.stderr
    assert message in done.stdout + done.stderr
