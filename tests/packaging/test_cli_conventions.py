"""Both CLIs follow convention: --version, every option's help with its default, examples last, a listening line.

Also what a new user meets first: a missing SQLite store is an error unless --create, and the URLs the
beacon advertises follow the host and port it serves on unless base_url is configured.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from beacon import __version__
from beacon import cli as beacon_cli
from beacon.cli import main as beacon_main
from beacon.config import load_config
from beacon.served_urls import serving
from ingest.arguments import build_parser as ingest_parser
from ingest.entry import main as ingest_main

ROOT = Path(__file__).resolve().parents[2]


def _parsers(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


ALL_PARSERS = [*_parsers(beacon_cli._parser()), *_parsers(ingest_parser())]


@pytest.mark.parametrize(
    ("main", "prog"),
    [pytest.param(beacon_main, "beacon", id="beacon"), pytest.param(ingest_main, "beacon-ingest", id="beacon-ingest")],
)
def test_version_prints_the_distribution_version(main: object, prog: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])  # type: ignore[operator]
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"{prog} {__version__}\n"


@pytest.mark.parametrize(("prog", "parser"), ALL_PARSERS, ids=[p for p, _ in ALL_PARSERS])
def test_every_option_has_help_giving_its_default(prog: str, parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._VersionAction | argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{prog} {name}: no help text"
        if action.option_strings and not action.required:
            assert "default" in action.help, f"{prog} {name}: the help does not give the default"


@pytest.mark.parametrize(("prog", "parser"), ALL_PARSERS, ids=[p for p, _ in ALL_PARSERS])
def test_help_ends_with_examples_that_call_the_command(prog: str, parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    examples = text.rsplit("examples:\n", 1)
    assert len(examples) == 2, f"{prog} --help has no examples"
    command = prog.split()[0]
    lines = [line for line in examples[1].splitlines() if line.strip() and not line.startswith("      ")]
    assert lines
    assert all(command in line for line in lines), lines


def test_serve_refuses_a_missing_sqlite_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such.db"
    assert beacon_main(["serve", "--store", f"sqlite:///{missing}"]) == 2
    assert capsys.readouterr().err == (
        f"error: {missing}: no such SQLite store; load one first (`beacon demo` or `beacon-ingest`), "
        "or pass --create to serve an empty store\n"
    )
    assert not missing.exists()


def test_bad_store_uri_on_the_command_line_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert beacon_main(["serve", "--store", "postgres://db/beacon"]) == 2
    assert capsys.readouterr().err == (
        "error: --store: 'postgres://db/beacon' is not a store URI: write one of sqlite:///relative/path.db, "
        "sqlite:////absolute/path.db, mongodb://host[:port]/database, for example sqlite:///var/beacon.db\n"
    )


@pytest.mark.parametrize(
    ("env", "base_url", "welcome_url"),
    [
        pytest.param({}, "http://127.0.0.1:5050/api", "http://127.0.0.1:5050/", id="the shipped file serves 5050"),
        pytest.param(
            {"BEACON_PORT": "6102"},
            "http://127.0.0.1:6102/api",
            "http://127.0.0.1:6102/",
            id="BEACON_PORT moves the URLs",
        ),
        pytest.param(
            {"BEACON_PORT": "6102", "BEACON_BASE_URL": "https://beacon.example.org/api"},
            "https://beacon.example.org/api",
            "https://beacon.example.org/",
            id="an explicit base_url stays and the welcome URL follows it",
        ),
    ],
)
def test_advertised_urls_follow_the_served_port_unless_configured(
    env: dict[str, str], base_url: str, welcome_url: str
) -> None:
    config = load_config(ROOT / "conf" / "beacon.yaml", env=env)
    assert (config.beacon.base_url, config.beacon.welcome_url) == (base_url, welcome_url)


def test_host_and_port_options_move_derived_urls_only() -> None:
    derived = serving(load_config(ROOT / "conf" / "beacon.yaml", env={}), "0.0.0.0", 7001)
    assert (derived.server.host, derived.server.port) == ("0.0.0.0", 7001)
    assert derived.beacon.base_url == "http://127.0.0.1:7001/api"
    fixed = serving(
        load_config(ROOT / "conf" / "beacon.yaml", env={"BEACON_BASE_URL": "https://b.example/api"}), None, 7001
    )
    assert fixed.beacon.base_url == "https://b.example/api"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_logs_where_it_listens_and_its_urls_follow_beacon_port(tmp_path: Path) -> None:
    """A real process: BEACON_PORT picks the port, the log says so, and /api/map and /api/info agree."""
    port = _free_port()
    env = {**os.environ, "BEACON_PORT": str(port), "PYTHONPATH": str(ROOT)}
    env.pop("BEACON_BASE_URL", None)
    argv = [sys.executable, "-m", "beacon", "serve", "--create", "--log-format", "text"]
    argv += ["--config", str(ROOT / "conf" / "beacon.yaml"), "--store", f"sqlite:///{tmp_path / 'empty.db'}"]
    process = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if "listening on" in line or not line:
                break
        assert f"listening on http://127.0.0.1:{port} (API under /api)" in lines[-1], lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/map", timeout=10) as response:
            body = response.read().decode()
        assert f"http://127.0.0.1:{port}/api/" in body
        assert ":5050" not in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=10) as response:
            info = response.read().decode()
        assert f"http://127.0.0.1:{port}/" in info
        assert ":5050" not in info
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
