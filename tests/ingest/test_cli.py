"""`beacon-ingest`: one line per rejected record, exit codes, and one real subprocess run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.cli import main
from tests.backends import stored_dataset_ids
from tests.conftest import CINECA, PI_TEST

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "bff"
DATA = FIXTURES.parent


def bff(folder: Path, dataset: str, db: Path, *options: str) -> list[str]:
    return ["bff", str(folder), "--dataset", dataset, "--store", f"sqlite:///{db}", *options]


def test_load_prints_a_summary_and_each_rejection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(bff(FIXTURES / "one_individual_without_sex", "x", tmp_path / "s.db")) == 0
    captured = capsys.readouterr()
    assert captured.out == "dataset x: loaded: 1 datasets, 2 individuals; 1 record(s) rejected\n"
    assert captured.err == 'rejected: individuals.json: record 1: $: "sex" is a required property (id P2)\n'


def test_pi_test_fixture_prints_one_line_per_rejected_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(bff(PI_TEST / "test", "test", tmp_path / "s.db", "--on-error", "skip")) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert (
        captured.out
        == "dataset test: loaded: 1 analyses, 1 cohorts, 1 datasets, 41 g_variants, 1 runs; 40 record(s) rejected\n"
    )
    assert len(lines) == 40
    assert all(
        re.fullmatch(r"rejected: (individuals|biosamples)\.json\.gz: record \d+: \$\S*: .+", line) for line in lines
    )
    assert lines[0].startswith("rejected: individuals.json.gz: record 0: $.measures[0].procedure.ageAtProcedure: ")


def test_the_same_input_again_is_reported_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = bff(FIXTURES / "two_individuals", "x", tmp_path / "s.db")
    assert main(argv) == 0
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        "dataset x: loaded: 1 datasets, 2 individuals",
        "dataset x: unchanged (same input already loaded): 1 datasets, 2 individuals",
    ]


def test_fail_mode_exits_3_in_one_line_and_stores_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.db"
    assert main(bff(FIXTURES / "two_individuals", "y", db)) == 0
    capsys.readouterr()
    assert main(bff(FIXTURES / "one_individual_without_sex", "x", db, "--on-error", "fail")) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        'error: individuals.json: record 1: $: "sex" is a required property (id P2); nothing was loaded\n'
    )
    assert stored_dataset_ids(db) == ["y"]


def test_validate_only_checks_every_record_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    assert main(bff(FIXTURES / "two_individuals", "y", db)) == 0
    capsys.readouterr()
    assert main(bff(FIXTURES / "one_individual_without_sex", "x", db, "--validate-only")) == 0
    captured = capsys.readouterr()
    assert captured.out == "dataset x: valid: 1 datasets, 2 individuals; 1 record(s) rejected\n"
    assert captured.err == 'rejected: individuals.json: record 1: $: "sex" is a required property (id P2)\n'
    assert stored_dataset_ids(db) == ["y"]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(["bff", str(FIXTURES / "two_individuals")], id="bff"),
        pytest.param(
            ["vcf", str(DATA / "vcf" / "multiallelic_indel_needs_trim.vcf"), "--assembly", "GRCh37"], id="vcf"
        ),
        pytest.param(["phenopackets", str(DATA / "phenopackets" / "demo__P1.json")], id="phenopackets"),
    ],
)
def test_validate_only_reads_no_configuration_and_creates_no_store(
    source: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    config = ["--config", str(tmp_path / "missing.yaml"), "--store", f"sqlite:///{db}"]
    assert main([*source, "--dataset", "x", *config, "--validate-only"]) == 0
    assert capsys.readouterr().out.startswith("dataset x: valid: ")
    assert not db.exists()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        pytest.param(
            ["bff", "/nonexistent", "--dataset", "x", "--validate-only"],
            2,
            "error: /nonexistent: not a directory",
            id="a missing directory exits 2",
        ),
        pytest.param(
            ["bff", str(CINECA), "--dataset", "x", "--validate-only"],
            2,
            "the assembly cannot be inferred from the variants; pass --assembly",
            id="classic CINECA without --assembly exits 2 asking for it",
        ),
        pytest.param(
            ["bff", str(FIXTURES / "two_individuals"), "--dataset", "x", "--assembly", "hg99", "--validate-only"],
            2,
            "error: --assembly: unknown assembly 'hg99'",
            id="an unknown assembly exits 2",
        ),
        pytest.param(
            ["vcf", "missing.vcf", "--dataset", "x", "--assembly", "GRCh38", "--validate-only"],
            2,
            "error: missing.vcf: no such file",
            id="a missing VCF exits 2",
        ),
        pytest.param(
            ["phenopackets", "p.json", "--dataset", "x"],
            2,
            "error: p.json: no such file or directory",
            id="a missing phenopacket exits 2",
        ),
        pytest.param(
            ["bff", str(FIXTURES / "two_individuals"), "--dataset", "x", "--store", "postgres://h/db"],
            1,
            "unsupported store URI",
            id="an unsupported store URI exits 1",
        ),
    ],
)
def test_failures_are_one_line_with_an_exit_code(
    argv: list[str],
    code: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In an empty folder: the default store (var/beacon.db) must not be the checkout's own.
    monkeypatch.chdir(tmp_path)
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.startswith("error: ")
    assert err.count("\n") == 1


def test_real_subprocess_loads_a_fixture(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "ingest", *bff(FIXTURES / "two_individuals", "x", tmp_path / "s.db")]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "dataset x: loaded: 1 datasets, 2 individuals\n"
    assert stored_dataset_ids(tmp_path / "s.db") == ["x"]


def test_vcf_command_summarises_the_load(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf = Path(__file__).resolve().parents[1] / "data" / "vcf" / "multiallelic_indel_needs_trim.vcf"
    argv = ["vcf", str(vcf), "--dataset", "t", "--assembly", "hg19", "--store", f"sqlite:///{tmp_path / 's.db'}"]
    assert main(argv) == 0
    assert capsys.readouterr().out == (
        "dataset t: loaded: 2 records read, 3 variants, 0 samples; "
        "1 skipped (ALT equals REF); 1 skipped (spanning deletion allele '*')\n"
    )


def test_vcf_counts_only_loads_variants_without_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vcf = Path(__file__).resolve().parents[1] / "data" / "vcf" / "haploid_x_and_missing_calls.vcf"
    store = f"sqlite:///{tmp_path / 's.db'}"
    argv = ["vcf", str(vcf), "--dataset", "t", "--assembly", "GRCh38", "--store", store, "--counts-only"]
    assert main(argv) == 0
    assert capsys.readouterr().out == "dataset t: loaded: 2 records read, 3 variants, 4 samples\n"
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--sites-only"])
    assert exited.value.code == 2
    assert "not allowed with argument --counts-only" in capsys.readouterr().err
