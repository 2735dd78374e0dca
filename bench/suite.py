"""`make bench`: every hot path as a ratio to its ceiling, both measured side by side in one run.

Machines are noisy (±10-20 %), so each number is reported as a ratio to a ceiling measured in the
same run, interleaved round by round with it: (1) allele queries over HTTP vs a bare aiohttp handler
doing one raw SQLite lookup (GET and POST, boolean and count, at each concurrency); (2) the store's
point lookup vs the same raw lookup in-process; (3) VCF ingest vs cyvcf2's own iteration (through
bench/vcf_ingest.py); (4) a 10 Mb range count vs EGA's published 67 requests/s and vs raw SQL;
(5) a filtered cohort count vs raw SQL; (6) aggregator overhead (bench/aggregator_overhead.py).
docs/benchmarks.md says what each number means. Sizes and durations come from the environment:

    BENCH_VARIANTS=10000000 BENCH_INDIVIDUALS=100000 BENCH_SECONDS=5 BENCH_RUNS=3 \\
    BENCH_CONCURRENCY=1,16,64 .venv/bin/python bench/suite.py
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import loadgen  # noqa: E402
import report  # noqa: E402
import stores  # noqa: E402
from scenarios import (  # noqa: E402
    Scenario,
    allele_requests,
    beacon_body,
    beacon_count,
    check_same_answers,
    range_windows,
    sample_variants,
    side_by_side,
)
from servers import Server, beacon_server, ceiling_server  # noqa: E402

COHORT_TERM, COHORT_SEX = "HP:0001626", "NCIT:C16576"  # abnormality of the cardiovascular system, female
EGA_RPS = 67.0  # EGA production beacon, 10 Mb range query: 67 requests/s, median 130 ms (another machine)
AGGREGATOR_KEY, AGGREGATOR_TARGET_MS = "aggregator overhead over slowest of 20 members", 5.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    variants: int = field(default_factory=lambda: _env_int("BENCH_VARIANTS", 10_000_000))
    individuals: int = field(default_factory=lambda: _env_int("BENCH_INDIVIDUALS", 100_000))
    seconds: float = field(default_factory=lambda: float(os.environ.get("BENCH_SECONDS", 5)))
    runs: int = field(default_factory=lambda: _env_int("BENCH_RUNS", 3))
    concurrency: tuple[int, ...] = field(
        default_factory=lambda: tuple(int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,16,64").split(","))
    )
    client_processes: int = field(default_factory=lambda: _env_int("BENCH_CLIENT_PROCS", 1))
    ingest_variants: int = field(default_factory=lambda: _env_int("BENCH_INGEST_VARIANTS", 500_000))
    gt_variants: int = field(default_factory=lambda: _env_int("BENCH_GT_VARIANTS", 5_000))
    gt_samples: int = field(default_factory=lambda: _env_int("BENCH_GT_SAMPLES", 2_500))
    aggregator_rounds: int = field(default_factory=lambda: _env_int("BENCH_AGGREGATOR_ROUNDS", 300))
    # bench/vcf_ingest.py on the files the ingest targets name (about 4 minutes): off in bench-quick.
    vcf_targets: bool = field(default_factory=lambda: _env_int("BENCH_VCF_TARGETS", 1) == 1)
    results: Path = field(default_factory=lambda: Path(os.environ.get("BENCH_RESULTS", BENCH / "results")))
    skip: frozenset[str] = field(default_factory=lambda: frozenset(os.environ.get("BENCH_SKIP", "").split(",")) - {""})


# -- sections ----------------------------------------------------------------------------------


def http_sections(s: Settings, variants: stores.BuiltStore, cohort: stores.BuiltStore, results: report.Results) -> None:
    """(1) allele queries, (4) 10 Mb range count, (5) cohort count: beacon vs bare handler, side by side."""
    gen = loadgen.LoadGenerator(s.client_processes)
    try:
        with ceiling_server(variants, cohort, COHORT_TERM, COHORT_SEX) as ceiling:
            with beacon_server(variants) as beacon:
                bench = SideBySide(s, gen, ceiling, beacon, results)
                if "allele" not in s.skip:
                    allele_section(bench, variants)
                if "range" not in s.skip:
                    range_section(bench, variants)
            if "cohort" not in s.skip:
                with beacon_server(cohort) as beacon:
                    cohort_section(SideBySide(s, gen, ceiling, beacon, results))
    finally:
        gen.close()


@dataclass(frozen=True)
class SideBySide:
    """What the HTTP sections share: the settings, the load generator, the bare handler, the beacon, the results."""

    s: Settings
    gen: loadgen.LoadGenerator
    ceiling: Server
    beacon: Server
    results: report.Results

    def measure(self, same: list[tuple[bytes, bytes]], scenarios: list[Scenario], concurrency: tuple[int, ...]) -> None:
        """Record where the handler's and the beacon's counts of `same` (their request, ours) differ, then time
        `scenarios` side by side at each concurrency."""
        pairs = [(self.ceiling.port, theirs, self.beacon.port, ours) for theirs, ours in same]
        self.results.problems += check_same_answers(pairs, beacon_count)
        side_by_side(self.gen, scenarios, concurrency, self.s.runs, self.s.seconds)


def allele_section(bench: SideBySide, variants: stores.BuiltStore) -> None:
    print("(1) allele queries: beacon vs bare aiohttp + one raw SQLite lookup", file=sys.stderr)
    reqs = allele_requests(sample_variants(variants))
    same = list(zip(reqs["ceiling GET"][:3], reqs["beacon count GET"][:3], strict=True))
    scenarios = [
        Scenario(n, bench.ceiling.port if n.startswith("ceiling") else bench.beacon.port, r) for n, r in reqs.items()
    ]
    bench.measure(same, scenarios, bench.s.concurrency)
    bench.results.allele(scenarios)


def range_section(bench: SideBySide, variants: stores.BuiltStore) -> None:
    print("(4) 10 Mb range count: beacon vs raw SQL count, and vs EGA's 67 req/s", file=sys.stderr)
    windows = range_windows(variants)
    ours = [
        loadgen.get(
            "/api/g_variants?"
            + urlencode(
                {"assemblyId": "GRCh37", "referenceName": c, "start": a, "end": b, "requestedGranularity": "count"}
            )
        )
        for c, a, b in windows
    ]
    theirs = [loadgen.get("/range?" + urlencode({"referenceName": c, "start": a, "end": b})) for c, a, b in windows]
    pair = [Scenario("ceiling range", bench.ceiling.port, theirs), Scenario("beacon range", bench.beacon.port, ours)]
    bench.measure(list(zip(theirs, ours, strict=True))[:3], pair, (16,))
    bench.results.range(pair, EGA_RPS)


def cohort_section(bench: SideBySide) -> None:
    print(f"(5) cohort count ({COHORT_TERM} + descendants, {COHORT_SEX}): beacon vs raw SQL", file=sys.stderr)
    filters = [COHORT_TERM, COHORT_SEX]
    ours_get = [
        loadgen.get("/api/individuals?" + urlencode({"filters": ",".join(filters), "requestedGranularity": "count"}))
    ]
    ours_post = [loadgen.post("/api/individuals", beacon_body({}, "count", filters))]
    theirs = [loadgen.get("/cohort")]
    trio = [
        Scenario("ceiling cohort", bench.ceiling.port, theirs),
        Scenario("beacon cohort GET", bench.beacon.port, ours_get),
        Scenario("beacon cohort POST", bench.beacon.port, ours_post),
    ]
    bench.measure([(theirs[0], ours_get[0])], trio, (16,))
    bench.results.cohort(trio)


def store_lookup_section(s: Settings, variants: stores.BuiltStore, results: report.Results) -> None:
    """(2) the store's point lookup (plan -> SQL -> rows, on the inline connection) vs the raw statement.

    The plans are built before the clock starts (planning is beacon/query's, measured as `plan_us`).
    """
    from beacon.model.plan import Query
    from beacon.model.request import VariantParams
    from beacon.query.variants import variant_condition
    from beacon.store.sqlite import SqliteStore

    print("(2) store point lookup vs raw SQLite lookup (in-process)", file=sys.stderr)
    sample = sample_variants(variants)
    raw_sql = (
        "SELECT dataset, count(*) FROM records WHERE coll = 'g_variants' AND v_chr = ? AND v_start = ? "
        "AND v_ref = ? AND v_alt = ? AND dataset = ? GROUP BY dataset"
    )
    n = max(2000, int(20_000 * s.seconds / 5))
    lookups = [sample[k % len(sample)] for k in range(n)]

    def plans() -> list[Query]:
        return [
            Query("g_variants", (variants.dataset,), variant_condition(VariantParams("GRCh37", c, (st,), (), r, a)))
            for c, st, r, a in lookups
        ]

    async def measure() -> tuple[list[float], list[float], list[float]]:
        store = SqliteStore(variants.path)
        await store.open()
        conn = sqlite3.connect(f"file:{variants.path}?mode=ro", uri=True)
        ours, raw, planning = [], [], []
        try:
            for _ in range(s.runs + 1):  # the first round warms caches up and is dropped
                started = time.perf_counter()
                for c, st, ref, alt in lookups:
                    conn.execute(raw_sql, (c, st, ref, alt, variants.dataset)).fetchall()
                raw.append(n / (time.perf_counter() - started))
                started = time.perf_counter()
                queries = plans()
                planning.append((time.perf_counter() - started) / n * 1e6)
                started = time.perf_counter()
                for query in queries:
                    await store.count_by_dataset(query)
                ours.append(n / (time.perf_counter() - started))
        finally:
            conn.close()
            await store.close()
        return ours[1:], raw[1:], planning[1:]

    ours, raw, planning = asyncio.run(measure())
    results.add_rates("store point lookup (SQL + rows, in-process)", ours, raw, "lookups/s")
    results.rows[-1].extra["plan_us"] = round(statistics.median(planning), 1)


def ingest_section(s: Settings, results: report.Results) -> None:
    """(3) bench/vcf_ingest.py (owned elsewhere; called, never copied): the synthetic files of this run's
    size, then (unless BENCH_VCF_TARGETS=0) its default run on the files the ingest targets name.

    The synthetic files' ratios go to side files; only the default run merges its (target-named)
    ratios into this run's summary.json.
    """
    print("(3) VCF ingest vs cyvcf2 iteration (bench/vcf_ingest.py)", file=sys.stderr)
    # One sample: vcf_ingest.py also decodes genotypes, which fails on a file without any.
    sites = stores.synthetic_file("vcf", s.ingest_variants, ".vcf.gz", samples=1)
    gts = stores.synthetic_file("vcf", s.gt_variants, ".vcf.gz", samples=s.gt_samples)
    runs: list[tuple[Path | None, Path, list[tuple[str, tuple[str, str]]]]] = [
        (
            sites,
            s.results / "vcf-ingest-sites-file.json",
            [(f"vcf ingest sites-only ({s.ingest_variants:,} sites)", ("cyvcf2 raw sites", "--sites-only"))],
        ),
        (
            gts,
            s.results / "vcf-ingest-genotype-file.json",
            [
                (
                    f"vcf ingest {s.gt_samples:,}-sample genotypes ({s.gt_variants:,} sites)",
                    ("cyvcf2 genotype.array(), carriers file", "with carriers"),
                )
            ],
        ),
    ]
    if s.vcf_targets:
        runs.append(
            (
                None,
                s.results / "summary.json",
                [
                    ("vcf ingest sites-only, 1000 Genomes chr22", ("cyvcf2 raw sites", "--sites-only")),
                    ("vcf ingest counts only, 50 k x 2,500 samples", ("counts file", "--counts-only")),
                    ("vcf ingest with carriers, 5 k x 2,500 samples", ("carriers file", "with carriers")),
                ],
            )
        )
    for path, summary, rows in runs:
        argv = [sys.executable, str(BENCH / "vcf_ingest.py"), *([str(path)] if path else []), "--summary", str(summary)]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        print("    " + done.stdout.strip().replace("\n", "\n    "), file=sys.stderr)
        name = path.name if path else "default files"
        if done.returncode != 0:
            results.problems.append(f"bench/vcf_ingest.py {name}: exit {done.returncode}: {done.stderr[-500:]}")
            continue
        for label, wanted in rows:
            rates = report.parse_vcf_ingest(done.stdout, wanted)
            if rates is None:
                results.problems.append(f"bench/vcf_ingest.py {name}: no {wanted[1]!r} row")
                continue
            raw, ours = rates
            results.add_rates(label, [ours], [raw], "records/s")


def aggregator_section(s: Settings, results: report.Results) -> None:
    """(6) bench/aggregator_overhead.py, which writes its own summary key."""
    print("(6) aggregator overhead over the slowest of 20 members", file=sys.stderr)
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "aggregator_overhead.py"),
            "--rounds",
            str(s.aggregator_rounds),
            "--summary",
            str(s.results / "summary.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    print("    " + done.stdout.strip().replace("\n", "\n    "), file=sys.stderr)
    if done.returncode not in (0, 1):  # 1: overhead above target, still a result
        results.problems.append(f"aggregator_overhead.py: exit {done.returncode}: {done.stderr[-500:]}")
        return
    entry = json.loads((s.results / "summary.json").read_text())[AGGREGATOR_KEY]
    results.add_aggregator(AGGREGATOR_KEY, entry, AGGREGATOR_TARGET_MS)


def main() -> int:
    s = Settings()
    s.results.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    variants = stores.variant_store(s.variants)
    cohort = stores.cohort_store(s.individuals)
    results = report.Results()
    results.builds = {
        "variants": {"records": variants.records, "build_s": round(variants.build_s, 1), "cached": variants.cached},
        "cohort": {"records": cohort.records, "build_s": round(cohort.build_s, 1), "cached": cohort.cached},
    }
    for name, store in (("variants", variants), ("cohort", cohort)):
        how = "from cache" if store.cached else f"built in {store.build_s:.1f} s"
        print(
            f"{name} store: {store.records:,} records, {store.path.stat().st_size / 1e9:.2f} GB, {how}", file=sys.stderr
        )
    if "http" not in s.skip:
        http_sections(s, variants, cohort, results)
    if "store" not in s.skip:
        store_lookup_section(s, variants, results)
    if "ingest" not in s.skip:
        ingest_section(s, results)
    if "aggregator" not in s.skip:
        aggregator_section(s, results)
    results.environment = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "uvloop": _importable("uvloop"),
        "orjson": _importable("orjson"),
        "client_processes": s.client_processes,
        "seconds_per_window": s.seconds,
        "runs": s.runs,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    results.write(s.results)
    print(results.table())
    for note in results.notes:
        print(f"note: {note}")
    for problem in results.problems:
        print(f"problem: {problem}")
    return 1 if results.problems else 0


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
