"""VCF ingest speed as a ratio to cyvcf2's own iteration over the same file, measured in the same run.

    .venv/bin/python bench/vcf_ingest.py [FILE.vcf.gz] [--summary bench/results/summary.json]

Reports records/s for: cyvcf2 raw sites (CHROM/POS/REF/ALT, samples=[]), our sites-only ingest,
cyvcf2 with genotype decoding (genotype.array()), our ingest with carriers and counts; and the
peak resident memory of each ingest (a separate process each, so peaks do not mix).

Then three ratios, each against a ceiling measured in this run, merged into summary.json:
sites-only ingest vs cyvcf2 raw iteration (records/s); the store's bulk load of already indexed
records vs plain sqlite3 executemany of the very rows it wrote, indexes built after (variants/s);
bytes on disk per sites-only variant vs the 750-byte budget (lower is better: the ratio should be <= 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cyvcf2 import VCF

from beacon.store.base import DatasetLoad, IndexedRecord, LoadSummary
from beacon.store.sqlite import SqliteStore
from beacon.store.sqlite_schema import INDEX_STATEMENTS, TABLES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared/data/vcf/1000g_grch37/1000G_phase3_chr22_99samples.vcf.gz"
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
BYTES_BUDGET = 750


def raw(path: Path, genotypes: bool) -> float:
    start = time.perf_counter()
    n = 0
    for record in VCF(str(path), samples=None if genotypes else []):
        _ = (record.CHROM, record.POS, record.REF, record.ALT)
        if genotypes:
            record.genotype.array()
        n += 1
    return n / (time.perf_counter() - start)


def ingest(path: Path, sites_only: bool) -> tuple[float, float, float]:
    """(records/s, peak RSS in MB, store bytes per variant) of `beacon-ingest vcf` in its own process."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(Path(sys.executable).parent / "beacon-ingest"), "vcf", str(path), "--dataset", "bench",
                "--assembly", "GRCh37", "--store", f"sqlite:///{tmp}/b.db"]  # fmt: skip
        if sites_only:
            argv.append("--sites-only")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = sum(p.stat().st_size for p in Path(tmp).glob("b.db*"))
        variants = _variants(Path(tmp) / "b.db")
    records = int(done.stdout.split(": ")[2].split(" records")[0])
    return records / elapsed, max(peak, before) / 1024, size / max(variants, 1)


def _variants(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM records WHERE coll = 'g_variants'").fetchone()
    return int(n)


async def _indexed_records(path: Path) -> list[IndexedRecord]:
    """The sites-only load's indexed records, captured from the loader (nothing stored)."""
    from ingest.vcf.load import VcfOptions, load_vcf

    captured: list[IndexedRecord] = []

    class Capture:
        name = "capture"

        async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
            captured.extend(load.records)
            return LoadSummary(load.dataset_id, {})

        async def record_keys(self, *_: Any) -> dict[str, list[str]]:
            return {}

        async def find(self, *_: Any) -> list[Any]:
            return []

    await load_vcf([path], VcfOptions("bench", "GRCh37", sites_only=True), Capture())  # type: ignore[arg-type]
    return captured


async def _store_load(records: list[IndexedRecord], db: Path) -> float:
    store = SqliteStore(db)
    await store.open()
    try:
        start = time.perf_counter()
        await store.replace_dataset(DatasetLoad("bench", "GRCh37", "d", iter(records), part="vcf"))
        return time.perf_counter() - start
    finally:
        await store.close()


def _raw_load(source: Path, db: Path) -> float:
    """Plain sqlite3: the rows the store wrote, inserted into the same empty tables, indexes built after."""
    with sqlite3.connect(source) as src:
        tables = {t: src.execute(f"SELECT * FROM {t}").fetchall() for t in ("records", "keys", "terms", "vals")}  # noqa: S608
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(TABLES)
        start = time.perf_counter()
        conn.execute("BEGIN")
        for table, rows in tables.items():
            if rows:
                marks = ",".join("?" * len(rows[0]))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
        for statement in INDEX_STATEMENTS:
            conn.execute(statement)
        conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()


def bulk_load(path: Path) -> tuple[float, float]:
    """(ours, ceiling) variants/s: the store's load of indexed records vs plain inserts of the same rows."""
    records = asyncio.run(_indexed_records(path))
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(_store_load(records, Path(tmp) / "ours.db"))
        raw = _raw_load(Path(tmp) / "ours.db", Path(tmp) / "raw.db")
    return len(records) / ours, len(records) / raw


def merge_summary(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Merge these keys into summary.json; keys other benchmarks write stay."""
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(entries)
    path.write_text(json.dumps(merged, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--summary", type=Path, default=RESULTS / "summary.json", help="summary file to merge into")
    args = parser.parse_args()
    path: Path = args.file
    raw_sites = raw(path, genotypes=False)
    ours_sites, mem_sites, bytes_per_variant = ingest(path, sites_only=True)
    raw_gt = raw(path, genotypes=True)
    ours_gt, mem_gt, _ = ingest(path, sites_only=False)
    ours_load, raw_load = bulk_load(path)
    print(f"{path.name}")
    print(f"{'':34} {'records/s':>10} {'ratio':>7} {'peak MB':>8}")
    print(f"{'cyvcf2 raw sites':34} {raw_sites:10.0f}")
    print(f"{'beacon-ingest --sites-only':34} {ours_sites:10.0f} {ours_sites / raw_sites:7.2f} {mem_sites:8.0f}")
    print(f"{'cyvcf2 with genotype.array()':34} {raw_gt:10.0f}")
    print(f"{'beacon-ingest with carriers':34} {ours_gt:10.0f} {ours_gt / raw_gt:7.2f} {mem_gt:8.0f}")
    entries = {
        "vcf ingest sites-only vs cyvcf2 raw iteration": {
            "ours": round(ours_sites), "ceiling": round(raw_sites), "ratio": round(ours_sites / raw_sites, 4),
            "unit": "records/s", "target": ">= 0.30",
        },
        "store bulk load vs raw sqlite3 insert of the same rows": {
            "ours": round(ours_load), "ceiling": round(raw_load), "ratio": round(ours_load / raw_load, 4),
            "unit": "variants/s", "target": ">= 0.50",
        },
        "sqlite bytes per sites-only variant vs budget": {
            "ours": round(bytes_per_variant, 1), "ceiling": BYTES_BUDGET,
            "ratio": round(bytes_per_variant / BYTES_BUDGET, 4), "unit": "bytes per variant (lower is better)",
            "target": "<= 1.00",
        },
    }  # fmt: skip
    print()
    print(f"{'ratio (ours vs ceiling, same run)':56} {'ours':>10} {'ceiling':>10} {'ratio':>7}  unit")
    for name, e in entries.items():
        print(f"{name:56} {e['ours']:10} {e['ceiling']:10} {e['ratio']:7.3f}  {e['unit']}")
    merge_summary(args.summary, entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
