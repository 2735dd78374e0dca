"""Write a sites-only synthetic VCF of N records (for memory and speed runs that must not depend on data size).

.venv/bin/python bench/synthetic_vcf.py OUT.vcf.gz N
"""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path


def main() -> int:
    out, count = Path(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(7)
    with gzip.open(out, "wt", compresslevel=1) as handle:
        handle.write("##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n")
        handle.write('##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n')
        handle.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        pos = 10_000
        for _ in range(count):
            pos += rng.randint(1, 200)
            ref = rng.choice("ACGT")
            alt = rng.choice([b for b in "ACGT" if b != ref])
            handle.write(f"1\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\tAF={rng.random():.4f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
