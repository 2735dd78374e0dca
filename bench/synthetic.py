"""Deterministic synthetic data for benchmarks, written as VCF and phenopackets so the real ingest path is measured.

    .venv/bin/python bench/synthetic.py vcf OUT.vcf.gz N [--samples K] [--seed 7]
    .venv/bin/python bench/synthetic.py phenopackets OUT.tar.gz N [--seed 11]

VCF: N records at chr22 density of 1000 Genomes phase 3 (one site per ~32 bp; 1,103,547 sites on
35 Mb of chr22), filling GRCh37 chromosomes 1, 2, … in order: 85 % SNVs, 5 % deletions and 5 %
insertions of 1-20 bp, 3 % multi-allelic SNV sites, 1 % MNPs, 1 % structural variants (<DEL>,
<DUP>, <INV> with END and SVLEN). With --samples, GT calls for K samples at per-site allele
frequencies drawn from a skewed (mostly rare) distribution.

Phenopackets: N individuals in cohorts of 1,000, sexes, ages at last encounter from 0 to 90 years,
3-15 HPO phenotypic features each (one in five stated as excluded) drawn from the terms of the
published phenopacket-store corpus (ranked in a seeded random order), and one OMIM disease.
Same seed, same files. (This replaces the older sites-only bench/synthetic_vcf.py.)
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import tarfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The published corpus from the large public test data (BEACON_TEST_DATA, default ../shared/data).
CORPUS = (
    Path(os.environ.get("BEACON_TEST_DATA", ROOT.parent / "shared" / "data")) / "phenopackets/phenopacket-store.tar.xz"
)
# GRCh37 lengths of the chromosomes the generator fills in order.
LENGTHS = {
    "1": 249_250_621, "2": 243_199_373, "3": 198_022_430, "4": 191_154_276, "5": 180_915_260,
    "6": 171_115_067, "7": 159_138_663, "8": 146_364_022, "9": 141_213_431, "10": 135_534_747,
    "11": 135_006_516, "12": 133_851_895, "13": 115_169_878, "14": 107_349_540, "15": 102_531_392,
    "16": 90_354_753, "17": 81_195_210, "18": 78_077_248, "19": 59_128_983, "20": 63_025_520,
    "21": 48_129_895, "22": 51_304_566,
}  # fmt: skip
MEAN_GAP = 32  # bp between sites on chr22 in 1000 Genomes phase 3
BASES = "ACGT"


def _seq(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(BASES) for _ in range(n))


def _alleles(rng: random.Random, pos: int) -> tuple[str, str, str]:
    """(REF, ALT, INFO extra) of one site."""
    kind = rng.random()
    ref = rng.choice(BASES)
    if kind < 0.85:
        return ref, rng.choice([b for b in BASES if b != ref]), ""
    if kind < 0.90:
        return ref + _seq(rng, rng.randint(1, 20)), ref, ""
    if kind < 0.95:
        return ref, ref + _seq(rng, rng.randint(1, 20)), ""
    if kind < 0.98:
        first, second = rng.sample([b for b in BASES if b != ref], 2)
        return ref, f"{first},{second}", ""
    if kind < 0.99:
        size = rng.randint(2, 4)
        ref = _seq(rng, size)
        return ref, "".join(rng.choice([b for b in BASES if b != r]) for r in ref), ""
    svtype = rng.choice(["DEL", "DUP", "INV"])
    length = rng.randint(60, 50_000)
    svlen = -length if svtype == "DEL" else length
    return ref, f"<{svtype}>", f";SVTYPE={svtype};END={pos + length};SVLEN={svlen}"


def _genotypes(gen: np.random.Generator, samples: int, alts: int) -> str:
    """FORMAT and phased GT calls of one site at an allele frequency drawn from a skewed (mostly rare) distribution."""
    freq = min(0.5, gen.random() ** 4)  # most sites rare, some common
    carrier = gen.random((samples, 2)) < freq
    alleles = np.where(carrier, gen.integers(1, alts + 1, (samples, 2)), 0)
    codes = alleles[:, 0] * (alts + 1) + alleles[:, 1]
    calls = _CALLS[alts][codes]
    return "\tGT\t" + "\t".join(calls.tolist())


# "i|j" for every pair of allele indexes, by i * (alts + 1) + j, for up to 3 ALT alleles.
_CALLS = {
    alts: np.array([f"{i}|{j}" for i in range(alts + 1) for j in range(alts + 1)], dtype=object) for alts in (1, 2, 3)
}


def write_vcf(out: Path, count: int, samples: int = 0, seed: int = 7) -> None:
    """Write `count` records (and GT calls for `samples` samples) to `out`, gzip-compressed; same seed, same file."""
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    names = [f"S{n:05d}" for n in range(samples)]
    with gzip.open(out, "wt", compresslevel=1) as handle:
        handle.write("##fileformat=VCFv4.2\n")
        for chrom, length in LENGTHS.items():
            handle.write(f"##contig=<ID={chrom},length={length}>\n")
        handle.write('##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n')
        handle.write('##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">\n')
        handle.write('##INFO=<ID=END,Number=1,Type=Integer,Description="End position">\n')
        handle.write('##INFO=<ID=SVLEN,Number=.,Type=Integer,Description="Length of the SV">\n')
        handle.write('##ALT=<ID=DEL,Description="Deletion">\n##ALT=<ID=DUP,Description="Duplication">\n')
        handle.write('##ALT=<ID=INV,Description="Inversion">\n')
        if samples:
            handle.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        header = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
        handle.write(header + ("\tFORMAT\t" + "\t".join(names) if samples else "") + "\n")
        chroms = iter(LENGTHS.items())
        chrom, length = next(chroms)
        pos = 10_000
        for _ in range(count):
            pos += 1 + int(rng.expovariate(1 / MEAN_GAP))
            if pos > length - 100_000:
                chrom, length = next(chroms)  # 22 chromosomes at this density hold about 90 M records
                pos = 10_000 + int(rng.expovariate(1 / MEAN_GAP))
            ref, alt, extra = _alleles(rng, pos)
            af = ",".join(f"{rng.random():.4f}" for _ in alt.split(","))
            line = f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\tAF={af}{extra}"
            if samples:
                line += _genotypes(gen, samples, alt.count(",") + 1)
            handle.write(line + "\n")


def corpus_terms() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(HPO terms, OMIM diseases) of the published corpus, sorted, as (id, label)."""
    hpo: dict[str, str] = {}
    omim: dict[str, str] = {}
    with tarfile.open(CORPUS) as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() and member.name.endswith(".json") else None
            if handle is None:
                continue
            packet = json.loads(handle.read())
            for feature in packet.get("phenotypicFeatures", []):
                hpo.setdefault(feature["type"]["id"], feature["type"].get("label", ""))
            for disease in packet.get("diseases", []):
                if disease["term"]["id"].startswith("OMIM:"):
                    omim.setdefault(disease["term"]["id"], disease["term"].get("label", ""))
    return sorted(hpo.items()), sorted(omim.items())


Terms = list[tuple[str, str]]


def phenopacket(rng: random.Random, n: int, hpo: Terms, omim: Terms) -> dict[str, object]:
    """Individual `n`: sex, age, 3-15 HPO features (Zipf-like by rank in `hpo`) and one disease."""
    features = []
    # Zipf-like choice: a few terms are common, most are rare, as in real cohorts.
    for index in {min(int(rng.paretovariate(0.6)) - 1, len(hpo) - 1) for _ in range(rng.randint(3, 15))}:
        term_id, label = hpo[index]
        feature: dict[str, object] = {"type": {"id": term_id, "label": label}}
        if rng.random() < 0.2:
            feature["excluded"] = True
        features.append(feature)
    disease_id, disease_label = omim[min(int(rng.paretovariate(0.8)) - 1, len(omim) - 1)]
    return {
        "id": f"SYN{n:06d}",
        "subject": {
            "id": f"SYN{n:06d}",
            "sex": rng.choice(["FEMALE", "MALE", "FEMALE", "MALE", "UNKNOWN_SEX"]),
            "timeAtLastEncounter": {"age": {"iso8601duration": f"P{rng.randint(0, 90)}Y{rng.randint(0, 11)}M"}},
        },
        "phenotypicFeatures": features,
        "diseases": [{"term": {"id": disease_id, "label": disease_label}}],
        "metaData": {"phenopacketSchemaVersion": "2.0.2"},
    }


def write_phenopackets(out: Path, count: int, seed: int = 11) -> None:
    """Write `count` phenopackets to the tar.gz `out`; same seed, same file."""
    rng = random.Random(seed)
    hpo, omim = corpus_terms()
    # Rank terms at random (seeded), so the common ones are not simply the lowest ids.
    rng.shuffle(hpo)
    rng.shuffle(omim)
    with tarfile.open(out, "w:gz", compresslevel=1) as tar:
        for n in range(1, count + 1):
            data = json.dumps(phenopacket(rng, n, hpo, omim)).encode()
            info = tarfile.TarInfo(f"synthetic/C{(n - 1) // 1000:03d}__SYN{n:06d}.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    vcf = sub.add_parser("vcf")
    vcf.add_argument("out", type=Path)
    vcf.add_argument("count", type=int)
    vcf.add_argument("--samples", type=int, default=0)
    vcf.add_argument("--seed", type=int, default=7)
    packets = sub.add_parser("phenopackets")
    packets.add_argument("out", type=Path)
    packets.add_argument("count", type=int)
    packets.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.kind == "vcf":
        write_vcf(args.out, args.count, args.samples, args.seed)
    else:
        write_phenopackets(args.out, args.count, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
