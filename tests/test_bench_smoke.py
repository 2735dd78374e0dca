"""`make bench` at toy scale: the suite runs end to end and writes summary.json in the agreed shape.

The numbers mean nothing at this size; what is pinned is that every section still runs against the
current code (server, store, ingest CLI, aggregator) and reports `{"ours", "ceiling", "ratio", "unit"}`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import large_data

ROOT = Path(__file__).resolve().parent.parent
TOY = {
    "BENCH_VARIANTS": "3000",
    "BENCH_INDIVIDUALS": "300",
    "BENCH_SECONDS": "0.2",
    "BENCH_RUNS": "3",
    "BENCH_CONCURRENCY": "1,4",
    "BENCH_INGEST_VARIANTS": "1000",
    "BENCH_GT_VARIANTS": "10",
    "BENCH_GT_SAMPLES": "50",
    "BENCH_AGGREGATOR_ROUNDS": "5",
    "BENCH_VCF_TARGETS": "0",
}
EXPECTED = {
    "allele query boolean GET c4",
    "allele query count POST c1",
    "range 10 Mb count c16 vs raw SQL",
    "range 10 Mb count c16 vs EGA (peer anchor)",
    "cohort filtered count GET c16 vs raw SQL",
    "cohort filtered count POST c16 vs raw SQL",
    "store point lookup (SQL + rows, in-process)",
    "vcf ingest sites-only (1,000 sites)",
    "vcf ingest 50-sample genotypes (10 sites)",
    "aggregator overhead over slowest of 20 members",
}


@pytest.mark.slow
def test_the_bench_suite_runs_at_toy_scale_and_writes_ratios(tmp_path: Path) -> None:
    large_data("phenopackets/phenopacket-store.tar.xz")  # the synthetic cohorts rank its HPO terms
    results = tmp_path / "results"
    results.mkdir()
    (results / "summary.json").write_text(
        json.dumps({"someone else's key": {"ours": 1, "ceiling": 2, "ratio": 0.5, "unit": "x"}})
    )
    env = {**os.environ, **TOY, "BENCH_CACHE": str(tmp_path / "cache"), "BENCH_RESULTS": str(results)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert summary.keys() >= EXPECTED
    assert "someone else's key" in summary
    for name, entry in summary.items():
        assert {"ours", "ceiling", "ratio", "unit"} <= entry.keys(), name
        assert all(isinstance(entry[k], int | float) for k in ("ours", "ceiling", "ratio")), name
        assert isinstance(entry["unit"], str), name
    assert summary["allele query boolean GET c4"]["errors"] == 0
    run = json.loads((results / "bench-run.json").read_text())
    assert run["problems"] == []
    assert "allele query boolean GET c4" in done.stdout
