"""A clone with nothing beside it: `make run` answers a variant query and `make test-fast` passes there.

The clone is of the committed HEAD, in a temporary folder without `../shared`, and neither
BEACON_TEST_DATA nor BEACON_SPEC_DIR is passed on, so the official schemas and the test data must
come from the repository itself. To stay within minutes the clone reuses the current virtual
environment instead of `make setup` installing a new one (`VENV=` that environment, `STAMP=` a file
newer than pyproject.toml, `PYTHONPATH=` the clone so that its code, not an editable install's, is
what runs); the installation itself is what tests/packaging/test_wheel.py checks.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUERY = "/api/g_variants?referenceName=13&start=32315507&end=32400268&assemblyId=GRCh38"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("bare") / "beacon"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    assert not (target.parent.parent / "shared").exists()
    return target


@pytest.fixture(scope="module")
def make_env(clone: Path) -> dict[str, str]:
    stamp = clone.parent / "installed-stamp"
    stamp.touch()  # newer than the clone's pyproject.toml: make does not reinstall
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "PYTHON", "MAKE"))}
    env |= {
        "VENV": str(Path(sys.prefix)),
        "STAMP": str(stamp),
        "PYTHONPATH": str(clone),
        "BEACON_SKIP_BROWSER": os.environ.get("BEACON_SKIP_BROWSER", "0"),
    }
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_run_on_a_bare_clone_answers_a_variant_query(clone: Path, make_env: dict[str, str]) -> None:
    port = _free_port()
    env = make_env | {"BEACON_PORT": str(port), "BEACON_LOG_FORMAT": "text"}
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run", f"VENV={env['VENV']}", f"STAMP={env['STAMP']}"],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        output = []
        while time.monotonic() - started < 300:
            line = process.stdout.readline()
            output.append(line)
            if not line or "listening on" in line:
                break
        assert f"listening on http://127.0.0.1:{port} (API under /api)" in output[-1], "".join(output)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{QUERY}", timeout=30) as response:
            document = json.load(response)
        assert document["responseSummary"]["exists"] is True
        print(f"make run on a bare clone (current venv): first answer after {time.monotonic() - started:.1f} s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        process.stdout.close()


def test_make_test_fast_passes_on_a_bare_clone(clone: Path, make_env: dict[str, str]) -> None:
    done = subprocess.run(
        ["make", "test-fast", f"VENV={make_env['VENV']}", f"STAMP={make_env['STAMP']}"],
        cwd=clone,
        env=make_env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    assert " failed" not in summary
    assert " error" not in summary
