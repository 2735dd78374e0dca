"""The broken inputs issue 22 found, each one line (the fuzz test covers the rest at random)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from ingest.cli import main
from tests.conftest import DATA

TESTS_DATA = Path(__file__).resolve().parents[1] / "data"
BGZF = DATA / "vcf" / "1000g_grch37" / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"


def vcf(path: Path, db: Path) -> list[str]:
    return ["vcf", str(path), "--assembly", "GRCh37", "--dataset", "v", "--sites-only", "--store", f"sqlite:///{db}"]


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("error: ")
    return err.strip()


def test_a_phenopacket_with_a_string_for_a_list_keeps_it_and_the_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "packets"
    folder.mkdir()
    shutil.copy(TESTS_DATA / "phenopackets" / "demo__P2.yaml", folder)
    packet = json.loads((TESTS_DATA / "phenopackets" / "demo__P1.json").read_text())
    packet["phenotypicFeatures"] = "seizure"
    (folder / "P1.json").write_text(json.dumps(packet))
    argv = ["phenopackets", str(folder), "--dataset", "pp", "--store", f"sqlite:///{tmp_path / 's.db'}"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2 individuals" in captured.out
    assert f"not stored: {folder / 'P1.json'}: $.phenotypicFeatures: expected a list, got str: not stored" in (
        captured.err.splitlines()
    )


def test_a_gzip_vcf_cut_inside_its_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(gzip.compress(gzip.decompress(BGZF.read_bytes())[:200_000])[:1500])
    assert main(vcf(cut, tmp_path / "s.db")) == 2
    assert one_error(capsys).startswith(
        "error: cut.vcf.gz: the compressed data is damaged or cut short inside the header"
    )


def test_a_bgzf_vcf_cut_in_its_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(BGZF.read_bytes()[:100_000])
    assert main(vcf(cut, tmp_path / "s.db")) == 2
    assert one_error(capsys) == (
        "error: cut.vcf.gz: the BGZF file has no end-of-file block: it was cut short (copy or download it again)"
    )


def test_a_plain_gzip_vcf_cut_in_its_body_is_not_loaded_in_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(gzip.compress(gzip.decompress(BGZF.read_bytes()))[:60_000])
    assert main(vcf(cut, tmp_path / "s.db")) == 2
    assert one_error(capsys).startswith("error: cut.vcf.gz: the compressed data is damaged or cut short (")


def test_a_directory_given_as_a_vcf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "calls.vcf"
    folder.mkdir()
    assert main(vcf(folder, tmp_path / "s.db")) == 2
    assert one_error(capsys) == f"error: {folder}: a directory, not a VCF file (name the .vcf or .vcf.gz files in it)"


def test_a_misspelled_bff_file_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "bff"
    shutil.copytree(TESTS_DATA / "bff" / "spec_filter_examples", folder)
    (folder / "biosamples.json").rename(folder / "biosample.json")
    argv = ["bff", str(folder), "--dataset", "b", "--store", f"sqlite:///{tmp_path / 's.db'}"]
    assert main(argv) == 2
    assert one_error(capsys) == (
        f"error: {folder / 'biosample.json'}: not a BFF file name: did you mean biosamples.json? "
        "(rename it or move it out of the folder)"
    )
