"""The wheel runs anywhere: built from the repository, installed outside it, `beacon demo`, `serve` and a query.

The virtual environment is new and lives in a temporary folder; the commands run in another empty
folder, so nothing can come from the checkout: not the code, not `schemas/` (the official Beacon v2
schemas included), not `conf/`. To stay within minutes on a shared machine the dependencies are not
downloaded again: a `.pth` file puts the current environment's site-packages after the new
environment's own (the project itself is installed only from the wheel, `--no-deps`; a `.pth` line
adds a folder to sys.path without running that folder's own `.pth` files, so the editable install of
the checkout stays inert). Building the wheel needs setuptools >= 68 in pip's isolated build
environment (from pip's cache or the package registry).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from beacon import __version__
from tests.checkout import checkout_copy

ROOT = Path(__file__).resolve().parents[2]
QUERY = "/api/g_variants?referenceName=13&start=32315507&end=32400268&assemblyId=GRCh38&requestedGranularity=count"

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = checkout_copy(tmp_path_factory.mktemp("source"))  # a build never writes into the checkout
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)], source, env)
    (built,) = out.glob("beacon_v2-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment, outside the repository, with the project installed from the wheel only."""
    home = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (purelib / "zz-reused-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)], home, env
    )
    return home


@pytest.fixture
def clean_env(venv: Path) -> dict[str, str]:
    """The environment of a user who only installed the wheel: no PYTHONPATH, no BEACON_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEACON_", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_wheel_carries_the_schemas_the_default_configuration_and_the_page(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "beacon/schemas/config.schema.json",
        "beacon/schemas/request.schema.json",
        "beacon/schemas/beacon-v2/LICENSE.upstream-CC0-1.0.txt",
        "beacon/schemas/beacon-v2/README.md",
        "beacon/schemas/beacon-v2/framework/json/responses/beaconCountResponse.json",
        "beacon/schemas/beacon-v2/models/json/beacon-v2-default-model/genomicVariations/defaultSchema.json",
        "beacon/schemas/beacon-v2/external/ga4gh-vrs-1.3/vrs.json",
        "beacon/conf/beacon.yaml",
        "beacon/api/web/index.html",
        "beacon/api/web/card.js",
        *(f"beacon/api/web/i18n/{language}.json" for language in ("en", "da", "sv", "nb", "nn", "bg", "fr")),
    }
    assert expected <= names, sorted(expected - names)
    shipped = {n.removeprefix("beacon/schemas/beacon-v2/") for n in names if n.startswith("beacon/schemas/beacon-v2/")}
    in_repo = {
        str(p.relative_to(ROOT / "schemas/beacon-v2")) for p in (ROOT / "schemas/beacon-v2").rglob("*") if p.is_file()
    }
    assert shipped == in_repo, "the official schemas ship whole"
    assert not any(n.startswith(("tests/", "schemas/", "conf/")) for n in names), "no stray top-level folders"


def test_installed_package_reads_nothing_from_the_checkout(
    venv: Path, clean_env: dict[str, str], tmp_path: Path
) -> None:
    code = "import beacon, beacon.spec as s, beacon.config as c; print(beacon.__file__, s.spec_dir(), c.default_config_path())"
    out = _run([str(venv / "bin" / "python"), "-c", code], tmp_path, clean_env).split()
    assert all(Path(p).resolve().is_relative_to(venv.resolve()) for p in out), out
    assert _run(["beacon", "--version"], tmp_path, clean_env) == f"beacon {__version__}\n"
    assert _run(["beacon-ingest", "--version"], tmp_path, clean_env) == f"beacon-ingest {__version__}\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(clean_env: dict[str, str], tmp_path: Path) -> Iterator[int]:
    """`beacon demo` then `beacon serve --validate-responses` in an empty folder; yields the port."""
    _run(["beacon", "demo", "--individuals", "60"], tmp_path, clean_env)
    port = _free_port()
    argv = ["beacon", "serve", "--port", str(port), "--log-format", "text", "--validate-responses"]
    process = subprocess.Popen(argv, cwd=tmp_path, env=clean_env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    try:
        deadline, line = time.monotonic() + 120, ""
        while time.monotonic() < deadline and "listening on" not in line:
            line = process.stderr.readline()
            if not line:
                break
        assert f"listening on http://127.0.0.1:{port} (API under /api)" in line, line
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


def test_installed_wheel_serves_the_demo_and_answers_a_variant_query(served: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{served}{QUERY}", timeout=30) as response:
        document = json.load(response)
    # --validate-responses checked this answer against the official schemas read from the wheel.
    assert document["responseSummary"]["exists"] is True
    assert document["responseSummary"]["numTotalResults"] > 0
    with urllib.request.urlopen(f"http://127.0.0.1:{served}/api/map", timeout=30) as response:
        assert f"http://127.0.0.1:{served}/api/" in response.read().decode()
