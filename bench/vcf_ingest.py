"""VCF ingest speed as a ratio to cyvcf2's own iteration over the same file, measured in the same run.

    .venv/bin/python bench/vcf_ingest.py [FILE.vcf.gz]

Reports records/s for: cyvcf2 raw sites (CHROM/POS/REF/ALT, samples=[]), our sites-only ingest,
cyvcf2 with genotype decoding (genotype.array()), our ingest with carriers and counts; and the
peak resident memory of each ingest (a separate process each, so peaks do not mix).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cyvcf2 import VCF

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared/data/vcf/1000g_grch37/1000G_phase3_chr22_99samples.vcf.gz"


def raw(path: Path, genotypes: bool) -> float:
    start = time.perf_counter()
    n = 0
    for record in VCF(str(path), samples=None if genotypes else []):
        _ = (record.CHROM, record.POS, record.REF, record.ALT)
        if genotypes:
            record.genotype.array()
        n += 1
    return n / (time.perf_counter() - start)


def ingest(path: Path, sites_only: bool) -> tuple[float, float]:
    """(records/s, peak RSS in MB) of `beacon-ingest vcf` in its own process."""
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
    records = int(done.stdout.split(": ")[2].split(" records")[0])
    return records / elapsed, max(peak, before) / 1024


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    raw_sites = raw(path, genotypes=False)
    ours_sites, mem_sites = ingest(path, sites_only=True)
    raw_gt = raw(path, genotypes=True)
    ours_gt, mem_gt = ingest(path, sites_only=False)
    print(f"{path.name}")
    print(f"{'':34} {'records/s':>10} {'ratio':>7} {'peak MB':>8}")
    print(f"{'cyvcf2 raw sites':34} {raw_sites:10.0f}")
    print(f"{'beacon-ingest --sites-only':34} {ours_sites:10.0f} {ours_sites / raw_sites:7.2f} {mem_sites:8.0f}")
    print(f"{'cyvcf2 with genotype.array()':34} {raw_gt:10.0f}")
    print(f"{'beacon-ingest with carriers':34} {ours_gt:10.0f} {ours_gt / raw_gt:7.2f} {mem_gt:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
