"""VCF ingest speed and memory as ratios to ceilings measured in the same run (`make bench-vcf`).

    .venv/bin/python bench/vcf_ingest.py [FILE.vcf.gz] [--summary bench/results/summary.json]

Without FILE: sites-only ingest of the 190 k-record 1000 Genomes chr22 file; genotype ingest of
synthetic 2,500-sample files (bench/stores.py caches them under var/bench/): counts only
(`--counts-only`, 50,000 sites) and with carriers (5,000 sites: each stores its carriers as sample sets,
beacon/store/carriers.py; bench/carrier_sets.py measures them further); peak memory
of ingesting the chr22 file against a synthetic 5 M-record file. With FILE: that file for both
ingests (the genotype one only when it has samples), no memory comparison (bench/suite.py).

Each ingest is `beacon-ingest vcf` in its own process into an empty store: records/s from its wall
time (start-up included), peak memory as the largest sum of resident memory of it and its child
processes (the parser runs in a child), sampled from /proc every 10 ms.

Ratios, merged into summary.json: sites-only ingest vs cyvcf2 iterating CHROM/POS/REF/ALT (≥ 0.30);
sites-only ingest with `--jobs 2` vs `--jobs 1` (≥ 1.60; medians of 3 interleaved pairs, each pair's ratio printed);
genotype ingest, counts only and with carriers, vs cyvcf2 with genotype.array() (≥ 0.70); the
store's load of the rows the VCF loader hands it vs plain sqlite3 executemany of the very rows it
wrote, indexes built after (≥ 0.50); bytes on disk per sites-only variant vs 750 (≤ 1); peak memory
at 5 M records vs at 190 k (< 2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cyvcf2 import VCF

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import stores  # noqa: E402

from beacon.store.base import DatasetLoad, LoadSummary  # noqa: E402
from beacon.store.bulk import LoadBatch  # noqa: E402
from beacon.store.sqlite import SqliteStore  # noqa: E402
from beacon.store.sqlite_schema import INDEX_STATEMENTS, TABLES  # noqa: E402

DEFAULT = ROOT.parent / "shared/data/vcf/1000g_grch37/1000G_phase3_chr22_99samples.vcf.gz"
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results"))
BYTES_BUDGET = 750
GT_SITES, GT_SAMPLES = 5_000, 2_500
COUNTS_SITES = 50_000  # start-up (~0.5 s) is under a tenth of the run
MEMORY_SITES = 5_000_000
JOBS_ROUNDS = 3


def raw(path: Path, genotypes: bool) -> float:
    """cyvcf2's own rate over the file: sites (samples=[]), or with every record's genotype.array()."""
    start = time.perf_counter()
    n = 0
    for record in VCF(str(path), samples=None if genotypes else []):
        _ = (record.CHROM, record.POS, record.REF, record.ALT)
        if genotypes:
            record.genotype.array()
        n += 1
    return n / (time.perf_counter() - start)


def split_ok(path: Path) -> bool:
    """The file can be read in regions (bgzipped, indexed): --jobs 2 means two parsers."""
    from ingest.vcf.regions import NotSplittable, split

    try:
        return len(split([path])) > 1
    except NotSplittable:
        return False


def has_samples(path: Path) -> bool:
    return bool(VCF(str(path)).samples)


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and its descendants (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        proc = Path(f"/proc/{p}")
        try:
            total += int((proc / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in (proc / "task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_measured(argv: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak resident bytes of the process tree, stdout) of one command."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL)  # noqa: S603
        peak = 0
        while child.poll() is None:
            peak = max(peak, _tree_rss(child.pid))
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read()
    if child.returncode != 0:
        msg = f"{' '.join(argv)}: exit {child.returncode}"
        raise SystemExit(msg)
    return elapsed, peak, text


def ingest(path: Path, mode: str, jobs: int | None = None) -> tuple[float, float, float]:
    """(records/s, peak MB of the process tree, store bytes per variant) of `beacon-ingest vcf` into an empty store.

    `jobs`: its --jobs (None: its default).
    """
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(Path(sys.executable).parent / "beacon-ingest"), "vcf", str(path), "--dataset", "bench",
                "--assembly", "GRCh37", "--store", f"sqlite:///{tmp}/b.db"]  # fmt: skip
        if mode != "carriers":
            argv.append(f"--{mode}")
        if jobs is not None:
            argv += ["--jobs", str(jobs)]
        elapsed, peak, stdout = run_measured(argv)
        size = sum(p.stat().st_size for p in Path(tmp).glob("b.db*"))
        variants = _variants(Path(tmp) / "b.db")
    records = int(stdout.split(": ")[2].split(" records")[0])
    return records / elapsed, peak / 2**20, size / max(variants, 1)


def jobs_speedup(path: Path, rounds: int = JOBS_ROUNDS) -> tuple[float, float, list[float], float]:
    """(median records/s with --jobs 1, with --jobs 2, each round's ratio, peak MB with --jobs 1): sites-only
    loads, the two interleaved so that a shared machine's load weighs on both alike."""
    one, two, peak = [], [], 0.0
    for _ in range(rounds):
        rate, mem, _ = ingest(path, "sites-only", jobs=1)
        one.append(rate)
        peak = max(peak, mem)
        two.append(ingest(path, "sites-only", jobs=2)[0])
    return statistics.median(one), statistics.median(two), [b / a for a, b in zip(one, two, strict=True)], peak


def _variants(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM records WHERE coll = 'g_variants'").fetchone()
    return int(n)


async def _row_batches(path: Path) -> list[LoadBatch]:
    """What the sites-only VCF load hands the store, captured (nothing stored)."""
    from ingest.vcf.load import VcfOptions, load_vcf

    captured: list[LoadBatch] = []

    class Capture:
        name = "capture"

        async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
            captured.extend(load.batches)
            return LoadSummary(load.dataset_id, {})

        async def record_keys(self, *_: Any) -> dict[str, list[str]]:
            return {}

        async def find(self, *_: Any) -> list[Any]:
            return []

    options = VcfOptions("bench", "GRCh37", sites_only=True)
    await load_vcf([path], options, Capture(), parse_in_child=False)  # type: ignore[arg-type]
    return captured


async def _store_load(batches: list[LoadBatch], db: Path) -> float:
    store = SqliteStore(db)
    await store.open()
    try:
        start = time.perf_counter()
        await store.replace_dataset(DatasetLoad("bench", "GRCh37", "d", iter(batches), part="vcf"))
        return time.perf_counter() - start
    finally:
        await store.close()


def _raw_load(source: Path, db: Path) -> float:
    """Plain sqlite3: the rows the store wrote, inserted into the same empty tables, indexes built after."""
    with sqlite3.connect(source) as src:
        names = ("records", "keys", "terms", "populations", "vals")
        tables = {t: src.execute(f"SELECT * FROM {t}").fetchall() for t in names}  # noqa: S608
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
    """(ours, ceiling) variants/s: the store's load of the VCF loader's rows vs plain inserts of the same rows."""
    batches = asyncio.run(_row_batches(path))
    variants = sum(len(b.records) for b in batches)
    with tempfile.TemporaryDirectory() as tmp:
        ours = asyncio.run(_store_load(batches, Path(tmp) / "ours.db"))
        raw = _raw_load(Path(tmp) / "ours.db", Path(tmp) / "raw.db")
    return variants / ours, variants / raw


def merge_summary(path: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Merge these keys into summary.json; keys other benchmarks write stay."""
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = json.loads(path.read_text()) if path.exists() else {}
    merged.update(entries)
    path.write_text(json.dumps(merged, indent=2) + "\n")


def _entry(ours: float, ceiling: float, unit: str, target: str, digits: int = 0) -> dict[str, Any]:
    return {"ours": round(ours, digits) if digits else round(ours), "ceiling": round(ceiling, digits) if digits
            else round(ceiling), "ratio": round(ours / ceiling, 4), "unit": unit, "target": target}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("file", nargs="?", type=Path, help="one file for both ingests (default: see above)")
    parser.add_argument("--summary", type=Path, default=RESULTS / "summary.json", help="summary file to merge into")
    args = parser.parse_args()
    sites_file: Path = args.file or DEFAULT
    gt_file: Path | None = args.file
    counts_file: Path | None = args.file
    if args.file is None:
        gt_file = stores.synthetic_file("vcf", GT_SITES, ".vcf.gz", samples=GT_SAMPLES)
        counts_file = stores.synthetic_file("vcf", COUNTS_SITES, ".vcf.gz", samples=GT_SAMPLES)
    elif not has_samples(args.file):
        gt_file = counts_file = None  # nothing to decode: the genotype rows are left out
    raw_sites = raw(sites_file, genotypes=False)
    ours_sites, mem_sites, bytes_per_variant = ingest(sites_file, "sites-only")
    print(f"{'':44} {'records/s':>10} {'ratio':>7} {'peak MB':>8}")
    print(f"{'cyvcf2 raw sites':44} {raw_sites:10.0f}   {sites_file.name}")
    print(f"{'beacon-ingest --sites-only':44} {ours_sites:10.0f} {ours_sites / raw_sites:7.3f} {mem_sites:8.0f}")
    entries = {"vcf ingest sites-only vs cyvcf2 raw iteration": _entry(ours_sites, raw_sites, "records/s", ">= 0.30")}
    if split_ok(sites_file):
        one, two, rounds, mem_one = jobs_speedup(sites_file)
        # The 5 M-record file has no index: one parser; compared with one parser here too.
        mem_sites = mem_one
        print(f"{'beacon-ingest --sites-only --jobs 1':44} {one:10.0f} {one / raw_sites:7.3f} {mem_one:8.0f}")
        print(f"{'beacon-ingest --sites-only --jobs 2':44} {two:10.0f} {two / raw_sites:7.3f}   "
              f"rounds: {', '.join(f'{r:.2f}' for r in rounds)}")  # fmt: skip
        entries["vcf ingest --jobs 2 vs --jobs 1, sites-only"] = _entry(two, one, "records/s", ">= 1.60")
    if counts_file is not None:
        raw_counts = raw(counts_file, genotypes=True)
        ours_counts, mem_counts, _ = ingest(counts_file, "counts-only")
        print(f"{'cyvcf2 genotype.array(), counts file':44} {raw_counts:10.0f}   {counts_file.name}")
        ratio = ours_counts / raw_counts
        print(f"{'beacon-ingest --counts-only':44} {ours_counts:10.0f} {ratio:7.3f} {mem_counts:8.0f}")
        entries["vcf ingest counts only vs cyvcf2 genotype decoding"] = _entry(
            ours_counts, raw_counts, "records/s", ">= 0.70"
        )
    if gt_file is not None:
        raw_gt = raw(gt_file, genotypes=True)
        ours_gt, mem_gt, _ = ingest(gt_file, "carriers")
        print(f"{'cyvcf2 genotype.array(), carriers file':44} {raw_gt:10.0f}   {gt_file.name}")
        print(f"{'beacon-ingest with carriers':44} {ours_gt:10.0f} {ours_gt / raw_gt:7.3f} {mem_gt:8.0f}")
        entries["vcf ingest with carriers vs cyvcf2 genotype decoding"] = _entry(
            ours_gt, raw_gt, "records/s", ">= 0.70", digits=1
        )
    if args.file is None:
        big = stores.synthetic_file("vcf", MEMORY_SITES, ".vcf.gz")
        rate_big, mem_big, _ = ingest(big, "sites-only")
        print(f"{'beacon-ingest --sites-only, 5 M synthetic':44} {rate_big:10.0f} {'':7} {mem_big:8.0f}")
        entries["vcf ingest peak memory, 5 M records vs 190 k"] = {
            "ours": round(mem_big), "ceiling": round(mem_sites), "ratio": round(mem_big / mem_sites, 4),
            "unit": "MB peak resident (ingest and its parser process; lower is better)", "target": "< 2.00",
        }  # fmt: skip
    ours_load, raw_load = bulk_load(sites_file)
    entries["store bulk load vs raw sqlite3 insert of the same rows"] = _entry(
        ours_load, raw_load, "variants/s", ">= 0.50"
    )
    entries["sqlite bytes per sites-only variant vs budget"] = {
        "ours": round(bytes_per_variant, 1), "ceiling": BYTES_BUDGET,
        "ratio": round(bytes_per_variant / BYTES_BUDGET, 4), "unit": "bytes per variant (lower is better)",
        "target": "<= 1.00",
    }  # fmt: skip
    print()
    print(f"{'ratio (ours vs ceiling, same run)':56} {'ours':>10} {'ceiling':>10} {'ratio':>7}  unit")
    for name, e in entries.items():
        print(f"{name:56} {e['ours']:10} {e['ceiling']:10} {e['ratio']:7.3f}  {e['unit']}")
    merge_summary(args.summary, entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
