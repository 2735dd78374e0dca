"""`beacon-ingest`: one line per rejected record, exit codes, and one real subprocess run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "bff"


def test_load_prints_a_summary_and_each_rejection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["bff", str(FIXTURES / "one_individual_without_sex"), "--dataset", "x", "--store", store]) == 0
    captured = capsys.readouterr()
    assert captured.out == "dataset x: loaded: 1 datasets, 2 individuals; 1 record(s) rejected\n"
    assert captured.err == 'rejected: individuals.json: record 1: $: "sex" is a required property (id P2)\n'


def test_fail_mode_exits_3_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    argv = [
        "bff",
        str(FIXTURES / "one_individual_without_sex"),
        "--dataset",
        "x",
        "--store",
        store,
        "--on-error",
        "fail",
    ]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err == 'error: individuals.json: record 1: $: "sex" is a required property (id P2); nothing was loaded\n'


def test_validate_only_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    argv = ["bff", str(FIXTURES / "two_individuals"), "--dataset", "x", "--store", f"sqlite:///{db}", "--validate-only"]
    assert main(argv) == 0
    assert capsys.readouterr().out == "dataset x: valid: 1 datasets, 2 individuals\n"
    assert not db.exists()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["bff", "/nonexistent", "--dataset", "x", "--validate-only"], 2, "error: /nonexistent: not a directory"),
        (
            ["vcf", "missing.vcf", "--dataset", "x", "--assembly", "GRCh38", "--validate-only"],
            2,
            "error: missing.vcf: no such file",
        ),
        (
            ["phenopackets", "p.json", "--dataset", "x"],
            2,
            "error: phenopackets ingest is not available in this version",
        ),
        (
            ["bff", str(FIXTURES / "two_individuals"), "--dataset", "x", "--store", "postgres://h/db"],
            1,
            "unsupported store URI",
        ),
    ],
    ids=["missing directory", "missing VCF", "phenopackets not yet available", "unsupported store"],
)
def test_failures_are_one_line_with_an_exit_code(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_real_subprocess_loads_a_fixture(tmp_path: Path) -> None:
    argv = [
        sys.executable,
        "-m",
        "ingest",
        "bff",
        str(FIXTURES / "two_individuals"),
        "--dataset",
        "x",
        "--store",
        f"sqlite:///{tmp_path}/s.db",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dataset x: loaded:")


def test_vcf_command_summarises_the_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf = Path(__file__).resolve().parents[1] / "data" / "vcf" / "multiallelic_indel_needs_trim.vcf"
    argv = ["vcf", str(vcf), "--dataset", "t", "--assembly", "hg19", "--store", f"sqlite:///{tmp_path / 's.db'}"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "dataset t: loaded: 2 records read, 3 variants, 0 samples; "
        "1 skipped (ALT equals REF); 1 skipped (spanning deletion allele '*')\n"
    )
