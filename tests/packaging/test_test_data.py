"""The suite's own data: small, documented, and the large files skip in one line when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import conftest

PUBLIC = conftest.PUBLIC


def test_public_files_are_few_megabytes_and_each_folder_is_documented() -> None:
    files = [p for p in PUBLIC.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 10 * 1024 * 1024
    readme = (PUBLIC.parent / "README.md").read_text()
    for path in files:
        relative = path.relative_to(PUBLIC.parent)
        named = [str(relative), *(f"{folder}/" for folder in relative.parents if folder != Path("public"))]
        assert any(f"## {name}" in readme for name in named), f"{relative}: no section of tests/data/README.md"


def test_test_data_prefers_the_repository_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "DATA", tmp_path)
    assert conftest.test_data("cineca/datasets.json.gz") == PUBLIC / "cineca/datasets.json.gz"
    assert conftest.test_data("vcf/big.vcf.gz") == tmp_path / "vcf/big.vcf.gz"


@pytest.fixture
def absent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    data = tmp_path / "shared" / "data"
    monkeypatch.setattr(conftest, "DATA", data)
    monkeypatch.delenv("BEACON_TEST_DATA", raising=False)
    return data


def _chained(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as caught:
        return caught


def test_a_missing_large_file_becomes_one_skip_line(absent: Path) -> None:
    reason = f"needs the large public test data: set BEACON_TEST_DATA to a copy of shared/data ({absent} is absent)"
    missing = absent / "vcf" / "x.vcf.gz"
    assert conftest.missing_large_data(FileNotFoundError(2, "No such file or directory", str(missing))) == reason
    assert conftest.missing_large_data(OSError(f"Error opening {missing}")) == reason
    assert (
        conftest.missing_large_data(_chained(RuntimeError("load failed"), OSError(f"Error opening {missing}")))
        == reason
    )


def test_other_failures_stay_failures(absent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert conftest.missing_large_data(FileNotFoundError(2, "No such file", "/elsewhere/x")) is None
    assert conftest.missing_large_data(AssertionError("1 != 2")) is None
    monkeypatch.setenv("BEACON_TEST_DATA", str(absent))
    missing = absent / "x.vcf.gz"
    assert conftest.missing_large_data(FileNotFoundError(2, "No such file", str(missing))) is None, "CI sets it"


def test_large_data_skips_with_what_to_set(absent: Path) -> None:
    with pytest.raises(
        pytest.skip.Exception, match="needs phenopackets/x.tar.xz of the large public test data: set BEACON_TEST_DATA"
    ):
        conftest.large_data("phenopackets/x.tar.xz")
