"""Carriers as sample sets: ingest speed, store size and store-call latency, ratios in the same run (`make bench-vcf`).

    .venv/bin/python bench/carrier_sets.py [--summary bench/results/summary.json] [--quick] [--rounds 3]

Four measures (issue 24), merged into summary.json:

- ingest with carriers, 5,000 sites x 2,500 samples (synthetic, bench/stores.py), records/s of
  `beacon-ingest vcf` in its own process vs cyvcf2 iterating the file with genotype.array() (>= 0.50);
  beside it the steady-state rate a national load sees: the difference of two loads of the same
  generator's files, 5,000 and 25,000 sites (extra records / extra wall time, which cancels start-up
  and the fixed tail), vs cyvcf2's rate on the bigger file, and the same in CPU seconds of the load's
  process tree vs cyvcf2's CPU seconds (a shared machine disturbs it less);
- SQLite bytes of the 1000 Genomes chr22 file (190 k records, 99 samples) loaded with carriers vs the
  same file loaded sites-only, and the bytes each carrier costs (<= 2x);
- store call p50 of `count_by_dataset` for individuals carrying one allele AND holding one HPO term,
  100,000 individuals each with a biosample, 2,000 variants of 1 % carriers each (<= 10 ms);
- store call p50 of counting the individuals who carry a variant carried by 40 % of 2,500 samples
  (<= 2 ms).

The two latency stores are built through the store's own load (documents with VCF-shaped
caseLevelData, which the indexer turns into sets) into a temporary directory, so they follow the code.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from cyvcf2 import VCF

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import stores  # noqa: E402
import vcf_ingest  # noqa: E402

from beacon.model.entry_types import DEFAULT_TABLE, EntryType  # noqa: E402
from beacon.model.plan import And, Compare, Field, HasTerm, Query, Related  # noqa: E402
from beacon.store.base import Document  # noqa: E402
from beacon.store.carriers import HETEROZYGOUS, HOMOZYGOUS  # noqa: E402
from beacon.store.loading import dataset_load  # noqa: E402
from beacon.store.sqlite import SqliteStore  # noqa: E402

GT_SITES, GT_SAMPLES = 5_000, 2_500
MARGINAL_SITES = 25_000  # the bigger load of the steady-state rate: 20,000 records beyond GT_SITES
COHORT, COHORT_VARIANTS, COHORT_SHARE = 100_000, 2_000, 0.01
SMALL, COMMON_SHARE = 2_500, 0.40
TERM = "HP:0001250"  # seizure: a tenth of the cohort holds it
CALLS = 200


def ingest_ratio(quick: bool) -> tuple[float, float]:
    """(ours, cyvcf2) records/s of the with-carriers ingest of the synthetic 2,500-sample file."""
    path = stores.synthetic_file("vcf", GT_SITES // (10 if quick else 1), ".vcf.gz", samples=GT_SAMPLES)
    raw = vcf_ingest.raw(path, genotypes=True)
    ours, _, _ = vcf_ingest.ingest(path, "carriers")
    return ours, raw


def _load_wall(path: Path) -> tuple[int, float, float]:
    """(records read, wall seconds, CPU seconds of the process tree) of `beacon-ingest vcf` of `path`, with
    carriers, into an empty store."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(Path(sys.executable).parent / "beacon-ingest"), "vcf", str(path), "--dataset", "bench",
                "--assembly", "GRCh37", "--store", f"sqlite:///{tmp}/b.db"]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, _, stdout = vcf_ingest.run_measured(argv)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return int(stdout.split(": ")[2].split(" records")[0]), wall, cpu


def _raw_cpu(path: Path) -> float:
    """cyvcf2's records per CPU second decoding every genotype of `path` (vcf_ingest.raw in CPU time)."""
    start, n = time.process_time(), 0
    for record in VCF(str(path)):
        record.genotype.array()
        n += 1
    return n / (time.process_time() - start)


class Steady(NamedTuple):
    """Medians of the steady-state rates (records/s) and each round's ratio, by wall and by CPU time."""

    ours: float
    raw: float
    rounds: list[float]
    ours_cpu: float
    raw_cpu: float
    rounds_cpu: list[float]


def marginal_ratio(quick: bool, rounds: int) -> Steady:
    """The steady-state rate: (records of the bigger load - records of the smaller) / (its wall time - the
    smaller's), loads of MARGINAL_SITES and GT_SITES sites (a tenth when `quick`), against cyvcf2's rate on
    the bigger file; the same in CPU seconds of the load's process tree (parser child included) against
    cyvcf2's CPU seconds, which a shared machine disturbs less. Medians of `rounds` rounds, each round's
    loads and cyvcf2 back to back so that a shared machine's load weighs on all alike."""
    scale = 10 if quick else 1
    small = stores.synthetic_file("vcf", GT_SITES // scale, ".vcf.gz", samples=GT_SAMPLES)
    big = stores.synthetic_file("vcf", MARGINAL_SITES // scale, ".vcf.gz", samples=GT_SAMPLES)
    ours, raws, ours_cpu, raws_cpu = [], [], [], []
    for _ in range(rounds):
        few, few_wall, few_cpu = _load_wall(small)
        many, many_wall, many_cpu = _load_wall(big)
        ours.append((many - few) / (many_wall - few_wall))
        ours_cpu.append((many - few) / (many_cpu - few_cpu))
        raws.append(vcf_ingest.raw(big, genotypes=True))
        raws_cpu.append(_raw_cpu(big))
    return Steady(
        statistics.median(ours), statistics.median(raws), [o / r for o, r in zip(ours, raws, strict=True)],
        statistics.median(ours_cpu), statistics.median(raws_cpu),
        [o / r for o, r in zip(ours_cpu, raws_cpu, strict=True)],
    )  # fmt: skip


def _store_bytes(path: Path, mode: str) -> tuple[int, int, int, int]:
    """(file bytes, variants, carriers, bytes of the carrier sets and samples tables) of `beacon-ingest vcf`
    of `path` into an empty store (SQLite's dbstat: pages of the two tables and their indexes).

    `mode`: carriers, or sites-only.
    """
    import sqlite3

    from beacon.store import sqlite_roaring

    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(Path(sys.executable).parent / "beacon-ingest"), "vcf", str(path), "--dataset", "bench",
                "--assembly", "GRCh37", "--store", f"sqlite:///{tmp}/b.db"]  # fmt: skip
        if mode != "carriers":
            argv.append(f"--{mode}")
        vcf_ingest.run_measured(argv)
        size = sum(p.stat().st_size for p in Path(tmp).glob("b.db*"))
        conn = sqlite3.connect(Path(tmp) / "b.db")
        sqlite_roaring.register(conn)
        try:
            (variants,) = conn.execute("SELECT count(*) FROM records WHERE coll = 'g_variants'").fetchone()
            (carriers,) = conn.execute(
                "SELECT coalesce(sum(roaring_count(7, het, hom, hemi)), 0) FROM carriers"
            ).fetchone()
            (sets,) = conn.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ('carriers', 'samples') "
                "OR name LIKE 'samples_by_%'"
            ).fetchone()
        finally:
            conn.close()
    return size, int(variants), int(carriers), int(sets)


def _variant(n: int, carriers: list[int], names: list[str]) -> Document:
    start = 1_000_000 + 10 * n
    return {
        "variantInternalId": f"22:{start + 1}:A>G",
        "variation": {
            "variantType": "SNP",
            "referenceBases": "A",
            "alternateBases": "G",
            "location": {
                "type": "SequenceLocation",
                "sequence_id": "refseq:NC_000022.11",
                "interval": {
                    "type": "SequenceInterval",
                    "start": {"type": "Number", "value": start},
                    "end": {"type": "Number", "value": start + 1},
                },
            },
        },
        "caseLevelData": [
            {"biosampleId": names[c], "zygosity": dict(HOMOZYGOUS if c % 7 == 0 else HETEROZYGOUS)} for c in carriers
        ],
    }


def _cohort(people: int, variants: int, share: float, seed: int) -> Iterator[tuple[EntryType, Document]]:
    """People with a biosample each (a tenth hold TERM), then variants carried by `share` of them (the
    first variant by exactly COMMON_SHARE), in load order."""
    rng = random.Random(seed)
    individuals, biosamples, gv = (DEFAULT_TABLE.by_id(i) for i in ("individual", "biosample", "genomicVariant"))
    names = [f"S{i:06d}" for i in range(people)]
    for i in range(people):
        term = TERM if i % 10 == 3 else f"HP:{1_000_000 + i % 300:07d}"
        yield individuals, {"id": f"I{i:06d}", "phenotypicFeatures": [{"featureType": {"id": term, "label": "x"}}]}
    for i in range(people):
        yield biosamples, {"id": names[i], "individualId": f"I{i:06d}"}
    for n in range(variants):
        wanted = COMMON_SHARE if n == 0 else share
        carriers = sorted(rng.sample(range(people), max(1, int(people * wanted))))
        yield gv, _variant(n, carriers, names)


async def _build(path: Path, people: int, variants: int, share: float) -> SqliteStore:
    store = SqliteStore(path)
    await store.open()
    await store.replace_dataset(dataset_load("b", "GRCh38", "d", _cohort(people, variants, share, 5), part="p"))
    return store


async def _p50(call: Callable[[], Awaitable[Any]], calls: int = CALLS) -> tuple[float, Any]:
    """Median milliseconds of `call` (after one warm-up call) and its last result."""
    result = await call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def _allele(n: int) -> And:
    start = 1_000_000 + 10 * n
    return And((Compare(Field.CHROM, "=", "22"), Compare(Field.START, "=", start), Compare(Field.ALT, "=", "G")))


async def latencies(tmp: Path, quick: bool) -> dict[str, tuple[float, Any]]:
    people = COHORT // (10 if quick else 1)
    out: dict[str, tuple[float, Any]] = {}
    store = await _build(tmp / "cohort.db", people, COHORT_VARIANTS // (10 if quick else 1), COHORT_SHARE)
    try:
        both = Query("individuals", ("b",), And((Related("g_variants", "individual", _allele(7)), HasTerm((TERM,)))))
        out["allele and term"] = await _p50(lambda: store.count_by_dataset(both))
    finally:
        await store.close()
    store = await _build(tmp / "small.db", SMALL, 100, 0.05)
    try:
        common = Query(
            "individuals", ("b",), Related("g_variants", "individual", Compare(Field.ID, "=", "22:1000001:A>G"))
        )
        out["carriers of a 40 % variant"] = await _p50(lambda: store.count_by_dataset(common))
    finally:
        await store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--summary", type=Path, default=vcf_ingest.RESULTS / "summary.json")
    parser.add_argument("--quick", action="store_true", help="a tenth of every size (a smoke run, not a measure)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the steady-state ingest rate")
    args = parser.parse_args()
    entries: dict[str, dict[str, Any]] = {}
    ours, raw = ingest_ratio(args.quick)
    print(f"{'beacon-ingest with carriers (sets), 2,500 samples':56} {ours:10.1f} records/s, cyvcf2 {raw:.1f}")
    entries["vcf ingest with carrier sets vs cyvcf2 genotype decoding"] = vcf_ingest._entry(
        ours, raw, "records/s", ">= 0.50", digits=1
    )
    steady = marginal_ratio(args.quick, args.rounds)
    print(
        f"{'  the same, steady state (25 k - 5 k sites)':56} {steady.ours:10.1f} records/s, cyvcf2 {steady.raw:.1f}"
        f"  rounds: {', '.join(f'{r:.3f}' for r in steady.rounds)}"
    )
    print(
        f"{'  the same, steady state in CPU seconds':56} {steady.ours_cpu:10.1f} records/s, cyvcf2 "
        f"{steady.raw_cpu:.1f}  rounds: {', '.join(f'{r:.3f}' for r in steady.rounds_cpu)}"
    )
    entries["vcf ingest with carrier sets, steady state (25 k - 5 k sites) vs cyvcf2 genotype decoding"] = (
        vcf_ingest._entry(steady.ours, steady.raw, "records/s (extra records / extra wall time)", ">= 0.50", digits=1)
    )
    entries["vcf ingest with carrier sets, steady state in CPU seconds vs cyvcf2's"] = vcf_ingest._entry(
        steady.ours_cpu, steady.raw_cpu, "records per CPU second (process tree)", ">= 0.50", digits=1
    )
    if not args.quick:
        full, variants, carriers, sets = _store_bytes(vcf_ingest.DEFAULT, "carriers")
        sites, _, _, _ = _store_bytes(vcf_ingest.DEFAULT, "sites-only")
        # What the sets cost (their tables' pages): the documents of the two loads differ otherwise (a full
        # load counts frequencies from the genotypes, a sites-only one copies INFO's), so the difference of
        # the files is not the carriers' cost.
        per_carrier = sets / max(carriers, 1)
        print(
            f"{'chr22 x 99 samples, SQLite bytes with carriers':56} {full:10d} "
            f"({variants} variants, {carriers} carriers)"
        )
        print(f"{'chr22, SQLite bytes sites-only':56} {sites:10d}   {per_carrier:.2f} bytes per carrier")
        entries["sqlite bytes chr22 x 99 samples, full load vs sites-only"] = {
            "ours": full, "ceiling": sites, "ratio": round(full / sites, 4),
            "unit": f"bytes on disk (lower is better; {per_carrier:.2f} bytes per carrier)", "target": "<= 2.00",
        }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        found = asyncio.run(latencies(Path(tmp), args.quick))
    (both, counted), (common, carriers_found) = found["allele and term"], found["carriers of a 40 % variant"]
    print(f"{'individuals with an allele AND an HPO term, p50':56} {both:10.3f} ms  counts {counted}")
    print(f"{'individuals carrying a 40 % variant (2,500 samples), p50':56} {common:10.3f} ms  counts {carriers_found}")
    entries["store call p50, individuals with one allele AND one HPO term, 100 k individuals"] = {
        "ours": round(both, 3), "ceiling": 10.0, "ratio": round(both / 10.0, 4), "unit": "ms (lower is better)",
        "target": "<= 1.00",
    }  # fmt: skip
    entries["store call p50, count of carriers of a 40 % variant, 2,500 samples"] = {
        "ours": round(common, 3), "ceiling": 2.0, "ratio": round(common / 2.0, 4), "unit": "ms (lower is better)",
        "target": "<= 1.00",
    }  # fmt: skip
    print()
    for name, e in entries.items():
        print(f"{name:80} {e['ours']:>12} {e['ceiling']:>12} {e['ratio']:7.3f}  {e['unit']}")
    if not args.quick:
        vcf_ingest.merge_summary(args.summary, entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
