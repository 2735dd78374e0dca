"""Configuration: YAML validated against schemas/config.schema.json, BEACON_* overrides, errors naming file and path."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.cli import main
from beacon.config import load_config
from beacon.errors import ConfigError
from beacon.model.granularity import Granularity

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "conf" / "beacon.yaml"

MINIMAL = """
beacon:
  id: org.example.b
  name: B
  organization: {id: org.example, name: Example}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "beacon.yaml"
    path.write_text(text)
    return path


def test_shipped_configuration_is_valid() -> None:
    config = load_config(SHIPPED, env={})
    assert config.server.port == 5050
    assert config.store_uri == "sqlite:///var/beacon.db"


def test_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL), env={})
    assert config.query.default_granularity is Granularity.BOOLEAN
    assert config.query.default_limit == 10
    assert config.dataset_policy("anything") is None  # fail closed: no datasets_default, not served


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            MINIMAL + "datasets:\n  - id: a\n  - id: b\n    security: secret\n",
            "beacon.yaml:9: datasets[1].security: 'secret' is not one of ['public', 'registered', 'controlled']",
            id="a bad enum value is named by its file, line and path",
        ),
        pytest.param(
            MINIMAL + "server:\n  port: 99999\n", "beacon.yaml:7: server.port: 99999 is greater than", id="port range"
        ),
        pytest.param(
            MINIMAL + "stor:\n  uri: x\n",
            "beacon.yaml:6: stor: unknown key (known here: beacon, server, store,",
            id="a misspelt key is named with its line and the keys known there",
        ),
        pytest.param(
            MINIMAL + "store:\n  uri: postgres://x\n",
            "beacon.yaml:7: store.uri: 'postgres://x' is not a store URI: write one of sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db, mongodb://host[:port]/database, for example sqlite:///var/beacon.db",
            id="a bad store URI is one sentence with an example, not a regular expression",
        ),
        pytest.param(
            "beacon: [",
            "beacon.yaml:1:10: not valid YAML: expected the node content, but found '<stream end>'",
            id="broken YAML names file, line and column, never <unicode string>",
        ),
        pytest.param("- 1\n", "expected a mapping at the top level", id="not a mapping"),
        pytest.param(MINIMAL + "datasets:\n  - id: a\n  - id: a\n", "duplicate id(s) a", id="duplicate dataset ids"),
    ],
)
def test_invalid_configuration_names_file_and_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env={})
    assert message in caught.value.message
    assert str(tmp_path / "beacon.yaml") in caught.value.message
    assert "<unicode string>" not in caught.value.message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml", env={})


def test_environment_overrides_win_and_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    config = load_config(path, env={"BEACON_STORE": "sqlite:////tmp/x.db", "BEACON_PORT": "6000"})
    assert config.store_uri == "sqlite:////tmp/x.db"
    assert config.server.port == 6000
    with pytest.raises(ConfigError, match="BEACON_PORT \\(overrides server.port\\): expected an integer, got 'x'"):
        load_config(path, env={"BEACON_PORT": "x"})
    with pytest.raises(ConfigError, match="with BEACON_\\* overrides: query.default_granularity"):
        load_config(path, env={"BEACON_DEFAULT_GRANULARITY": "everything"})


def test_check_config_command_reports_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(SHIPPED)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = write(tmp_path, MINIMAL + "query:\n  default_limit: 0\n")
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}:7: query.default_limit: 0 is less than the minimum of 1")


def test_liftover_chains_resolve_relative_to_the_file_and_name_known_assemblies(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, MINIMAL + "liftover:\n  - {from: hg19, to: hg38, chain: chains/a.chain}\n"), env={}
    )
    (chain,) = config.liftover
    assert (chain.source, chain.target, chain.chain) == ("GRCh37", "GRCh38", tmp_path / "chains/a.chain")
    with pytest.raises(ConfigError, match=r"liftover\[0\]: unknown assembly in 'hg99' -> 'hg38'"):
        load_config(write(tmp_path, MINIMAL + "liftover:\n  - {from: hg99, to: hg38, chain: a.chain}\n"), env={})
