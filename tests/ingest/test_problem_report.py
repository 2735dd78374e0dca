"""`--report FILE`: every problem as a JSON line; the terminal shows the first ones and where the rest are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.cli import main
from ingest.problem_report import SHOWN
from tests.conftest import PI_TEST

BFF = Path(__file__).resolve().parents[1] / "data" / "bff"
VCF = Path(__file__).resolve().parents[1] / "data" / "vcf"


def lines_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_rejection_is_a_json_line_with_file_record_path_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "problems.jsonl"
    db = f"sqlite:///{tmp_path / 's.db'}"
    argv = ["bff", str(PI_TEST / "test"), "--dataset", "test", "--store", db, "--on-error", "skip"]
    assert main([*argv, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"40 record(s) rejected; 40 problem(s) listed in {report}\n")
    entries = lines_of(report)
    assert len(entries) == 40
    assert entries[0]["what"] == "rejected"
    assert entries[0]["file"] == "individuals.json.gz"
    assert entries[0]["record"] == 0
    assert entries[0]["line"] is None
    assert entries[0]["path"] == "$.measures[0].procedure.ageAtProcedure"
    assert str(entries[0]["message"]).endswith("(id SAMPLE1)")


def test_vcf_problems_carry_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "problems.jsonl"
    argv = ["vcf", str(VCF / "unknown_contig_and_bad_ref.vcf"), "--assembly", "GRCh37", "--dataset", "v"]
    assert main([*argv, "--store", f"sqlite:///{tmp_path / 's.db'}", "--report", str(report)]) == 0
    capsys.readouterr()
    assert [(e["file"], e["record"], e["line"], e["path"]) for e in lines_of(report)] == [
        ("unknown_contig_and_bad_ref.vcf", None, 5, "CHROM"),
        ("unknown_contig_and_bad_ref.vcf", None, 6, "ALT"),
    ]


def test_the_terminal_shows_the_first_problems_and_names_the_file_with_all_of_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    people = [{"id": "OK", "sex": {"id": "NCIT:C16576", "label": "female"}}]
    people += [{"id": f"P{n}", "sex": "female"} for n in range(SHOWN + 7)]
    (folder / "individuals.json").write_text(json.dumps(people))
    db = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["bff", str(folder), "--dataset", "m", "--store", db]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == SHOWN + 1
    assert err[-1] == "rejected: … and 7 more (--report FILE lists every one)"
    report = tmp_path / "all.jsonl"
    assert main(["bff", str(folder), "--dataset", "n", "--store", db, "--report", str(report)]) == 0
    assert capsys.readouterr().err.splitlines()[-1] == f"rejected: … and 7 more (every one is in {report})"
    assert len(lines_of(report)) == SHOWN + 7


def test_a_refused_load_lists_its_rejections_and_fails_in_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    report = tmp_path / "refused.jsonl"
    assert main(["bff", str(BFF / "two_individuals"), "--dataset", "r", "--store", db]) == 0
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "individuals.json").write_text('[{"id": "P1", "sex": "female"}]')
    capsys.readouterr()
    assert main(["bff", str(bad), "--dataset", "r", "--store", db, "--report", str(report)]) == 4
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: dataset r not replaced: no record accepted (1 record(s) rejected); "
        "pass --allow-empty to empty it; nothing was changed"
    ]
    assert captured.err.startswith("rejected: individuals.json: record 0: $.sex: ")
    assert [e["path"] for e in lines_of(report)] == ["$.sex"]


def test_an_unwritable_report_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    argv = ["bff", str(BFF / "two_individuals"), "--dataset", "w", "--store", db, "--report", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err == f"error: --report: {tmp_path}: cannot be written (Is a directory)\n"
