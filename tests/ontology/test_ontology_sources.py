"""Configured hierarchies: found relative to the config file, and every bad file fails `check-config` in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from beacon.cli import main
from beacon.config import load_config
from beacon.errors import ConfigError
from beacon.ontology import BUILTIN_HPO, OntologySource, load_ontologies

DATA = Path(__file__).resolve().parents[1] / "data" / "ontology"
HEADER = """beacon:
  id: org.example.beacon.t
  name: T
  organization: {id: org.example, name: Example}
"""


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "beacon.yaml"
    path.write_text(HEADER + body)
    return path


def test_the_test_config_loads_both_fixtures_and_the_builtin_hpo() -> None:
    config = load_config(DATA / "beacon.yaml", env={})
    assert config.ontologies == (
        BUILTIN_HPO,
        OntologySource("NCIT", DATA / "ncit_sex_slice.obo"),
        OntologySource("GENO", DATA / "geno_zygosity_slice.json", "GENO zygosity slice"),
    )
    loaded = load_ontologies(config.ontologies)
    assert [(o.prefix, o.name, o.version) for o in loaded] == [
        ("HP", "Human Phenotype Ontology", "2025-01-16"),
        ("NCIT", "ncit-sex-slice", "2024-05-07"),
        ("GENO", "GENO zygosity slice", "2023-10-08"),
    ]
    assert loaded.knows("NCIT:C46110")
    assert not loaded.knows("NCIT:C0")
    assert loaded.for_term("MONDO:0000001") is None


def test_builtin_hpo_can_be_turned_off_or_replaced(tmp_path: Path) -> None:
    assert load_config(_config(tmp_path, "builtin_hpo: false\n"), env={}).ontologies == ()
    replaced = load_config(_config(tmp_path, "ontologies:\n  - {prefix: HP, path: hp-slice.obo}\n"), env={})
    assert replaced.ontologies == (OntologySource("HP", tmp_path / "hp-slice.obo"),)


def test_one_prefix_twice_is_a_config_error(tmp_path: Path) -> None:
    body = "ontologies:\n  - {prefix: GENO, path: a.json}\n  - {prefix: GENO, path: b.json}\n"
    with pytest.raises(ConfigError, match="ontologies: prefix\\(es\\) configured twice: GENO"):
        load_config(_config(tmp_path, body), env={})


def _write(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.obo", None, "ontologies: GENO: cannot read {path}: No such file or directory"),
        ("bad.obo", "[Term]\nid: GENO:1\nthis line has no tag\n", "ontologies: GENO: {path}: line 3: expected"),
        ("bad.json", '{"graphs": [', "ontologies: GENO: {path}: Expecting value: line 1 column 13"),
        ("array.json", "[1, 2]", "ontologies: GENO: {path}: not an obographs document: no 'graphs' list"),
        (
            "config.yaml",
            "store:\n  uri: sqlite:///x\n",
            "ontologies: GENO: {path}: no GENO: terms in the file (0 terms",
        ),
        (
            "hp-slice.obo",
            "[Term]\nid: HP:1\nname: x\n",
            "ontologies: GENO: {path}: no GENO: terms in the file (1 terms",
        ),
        ("latin1.obo", "[Term]\nid: GENO:1\nname: caf\xe9\n", "ontologies: GENO: {path}: 'utf-8' codec can't decode"),
    ],
)
def test_a_bad_ontology_file_fails_check_config_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content.encode("latin-1" if name == "latin1.obo" else "utf-8"))
    config = _config(tmp_path, f"builtin_hpo: false\nontologies:\n  - {{prefix: GENO, path: {name}}}\n")
    assert main(["check-config", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: " + message.format(path=tmp_path / name)), err
    assert err.count("\n") == 1


def test_check_config_names_the_loaded_releases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DATA / "geno_zygosity_slice.json", tmp_path / "geno.json")
    config = _config(tmp_path, "builtin_hpo: false\nontologies:\n  - {prefix: GENO, path: geno.json}\n")
    assert main(["check-config", "--config", str(config)]) == 0
    assert capsys.readouterr().out.strip().endswith("ontologies: GENO 2023-10-08)")
