"""What bounds the with-carriers ingest: the least any loader of the same rows can cost, step by step.

    .venv/bin/python bench/carrier_ceiling.py [--rounds 3]

The target of issue 24 compares `beacon-ingest vcf` (its own process, start-up included) with cyvcf2
decoding the genotypes inside an already running interpreter. This bench runs, each in a fresh
interpreter on the same 5,000-site x 2,500-sample file (bench/stores.py), the steps any such loader
needs, each adding to the one before:

1. start-up: the interpreter and the imports the steps below need (cyvcf2, numpy, pyroaring, sqlite3);
2. cyvcf2 decoding: every record and its genotype.array();
3. carriers: per ALT allele, the zygosity of every call in one numpy pass and one Roaring set per
   zygosity, serialised (no per-sample Python);
4. rows: those sets and a small record row per allele inserted with plain sqlite3 executemany into an
   empty file, one transaction;

and then `beacon-ingest vcf` itself. Each line gives the median wall time over the rounds and records/s
as a ratio to cyvcf2's in-interpreter rate measured in the same run (the issue's yardstick).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import stores  # noqa: E402
import vcf_ingest  # noqa: E402

SITES, SAMPLES = 5_000, 2_500

# One script for every step: STEP (1-4) says how far it goes.
_STEPS = """
import sys
step, path, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
import sqlite3
from array import array
import numpy as np
from cyvcf2 import VCF
from pyroaring import BitMap
if step >= 2:
    rows, sets = [], []
    for n, record in enumerate(VCF(path)):
        calls = record.genotype.array()
        if step < 3:
            continue
        first, second = calls[:, 0], calls[:, 1]
        for allele in range(1, len(record.ALT) + 1):
            hits = (first == allele).astype(np.int8) + (second == allele)
            # 1 heterozygous, 2 homozygous, 3 hemizygous (haploid: the second slot is -2)
            zygosity = np.where(second == -2, 3 * (hits > 0), hits)
            blobs = []
            for code in (1, 2, 3):
                found = array("I", np.flatnonzero(zygosity == code).astype(np.uint32).tobytes())
                blobs.append(bytes(BitMap(found).serialize()) if len(found) else None)
            rid = len(rows) + 1
            rows.append((rid, f"{record.CHROM}:{record.POS}:{record.REF}>{record.ALT[allele - 1]}", record.POS))
            sets.append((rid, *blobs))
    if step >= 4:
        conn = sqlite3.connect(out, isolation_level=None)
        conn.execute("CREATE TABLE records (rid INTEGER PRIMARY KEY, id TEXT, pos INTEGER)")
        conn.execute("CREATE TABLE carriers (rid INTEGER PRIMARY KEY, het BLOB, hom BLOB, hemi BLOB)")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO records VALUES (?, ?, ?)", rows)
        conn.executemany("INSERT INTO carriers VALUES (?, ?, ?, ?)", sets)
        conn.execute("COMMIT")
        conn.close()
"""
_NAMES = {1: "start-up (interpreter, imports)", 2: "+ cyvcf2 genotype decoding", 3: "+ carrier sets (numpy, Roaring)",
          4: "+ plain sqlite3 inserts of the rows"}  # fmt: skip


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    path = stores.synthetic_file("vcf", SITES, ".vcf.gz", samples=SAMPLES)
    times: dict[str, list[float]] = {}
    raw: list[float] = []
    for _ in range(args.rounds):
        raw.append(vcf_ingest.raw(path, genotypes=True))
        with tempfile.TemporaryDirectory() as tmp:
            for step, name in _NAMES.items():
                out = Path(tmp) / f"{step}.db"
                times.setdefault(name, []).append(_wall([sys.executable, "-c", _STEPS, str(step), str(path), str(out)]))
            ingest = [str(Path(sys.executable).parent / "beacon-ingest"), "vcf", str(path), "--dataset", "d",
                      "--assembly", "GRCh37", "--store", f"sqlite:///{tmp}/ingest.db"]  # fmt: skip
            times.setdefault("beacon-ingest vcf", []).append(_wall(ingest))
    rate = statistics.median(raw)
    print(f"{'cyvcf2 in a running interpreter (the yardstick)':48} {SITES / rate:7.2f} s {rate:9.0f} records/s")
    for name, walls in times.items():
        wall = statistics.median(walls)
        print(f"{name:48} {wall:7.2f} s {SITES / wall:9.0f} records/s  ratio {SITES / wall / rate:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
