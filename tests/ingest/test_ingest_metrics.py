"""Ingest counters for Prometheus: the node-exporter textfile written by `beacon-ingest --metrics-textfile`."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingest.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def samples(path: Path) -> dict[tuple[str, str, str], float]:
    """(sample name, loader, dataset) -> value, parsed with prometheus-client's own exposition parser."""
    out = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for s in family.samples:
            if not s.name.endswith("_created"):
                out[(s.name, s.labels["loader"], s.labels["dataset"])] = s.value
    return out


def test_a_phenopackets_run_counts_files_read_records_written_and_files_rejected(tmp_path: Path) -> None:
    prom = tmp_path / "ingest.prom"
    argv = ["phenopackets", str(DATA / "phenopackets"), "--dataset", "pp", "--on-error", "skip"]
    assert main([*argv, "--store", f"sqlite:///{tmp_path / 'b.db'}", "--metrics-textfile", str(prom)]) == 0
    got = samples(prom)
    key = ("phenopackets", "pp")
    # Five files: P1, P2, P3 stored; broken.json (not JSON) and version1.json (schema v1) rejected.
    assert got[("beacon_ingest_records_read_total", *key)] == 5
    assert got[("beacon_ingest_records_rejected_total", *key)] == 2
    # Records written: 3 individuals, 1 biosample, 2 variants, 2 cohorts and the dataset record.
    assert got[("beacon_ingest_records_written_total", *key)] == 9
    assert got[("beacon_ingest_last_run_success", *key)] == 1
    assert got[("beacon_ingest_last_run_timestamp_seconds", *key)] > 1.7e9
    assert not list(tmp_path.glob("*.prom.*"))  # written atomically: no temporary file left behind


def test_a_validation_run_writes_nothing_and_a_failed_run_reports_failure(tmp_path: Path) -> None:
    prom = tmp_path / "ingest.prom"
    store = f"sqlite:///{tmp_path / 'b.db'}"
    bff = str(DATA / "bff" / "two_individuals")
    argv = ["bff", bff, "--dataset", "two", "--store", store, "--validate-only", "--metrics-textfile", str(prom)]
    assert main(argv) == 0
    got = samples(prom)
    assert got[("beacon_ingest_records_read_total", "bff", "two")] == 2
    assert got[("beacon_ingest_records_written_total", "bff", "two")] == 0
    assert main(["bff", "/nonexistent", "--dataset", "two", "--store", store, "--metrics-textfile", str(prom)]) == 2
    assert samples(prom)[("beacon_ingest_last_run_success", "bff", "two")] == 0


def test_a_textfile_path_the_collector_would_ignore_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bff", str(DATA / "bff" / "two_individuals"), "--dataset", "x", "--metrics-textfile", "counts.txt"])
    assert exit_info.value.code == 2
    assert "expected a path ending in .prom" in capsys.readouterr().err
