"""Benchmark stores built through the real ingest CLI from synthetic data, cached under var/bench/.

A store is keyed by its generator parameters and a code version (the generator's source, the store's
schema version and the package version), so a rerun with the same parameters skips the build.
Changes to ingest/ do not invalidate the cache (a 10 M build takes long): set BENCH_REBUILD=1 after
an ingest change that alters what is stored. BENCH_CACHE moves the cache (the smoke test uses a temporary one).

    .venv/bin/python bench/stores.py variants 10000000
    .venv/bin/python bench/stores.py cohort 100000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from beacon import __version__  # noqa: E402
from beacon.store.sqlite_schema import SCHEMA_VERSION  # noqa: E402

CACHE = Path(os.environ.get("BENCH_CACHE", ROOT / "var" / "bench"))
GENERATOR = Path(__file__).resolve().parent / "synthetic.py"
VARIANT_DATASET = "bench-variants"
COHORT_DATASET = "bench-cohort"
VCF_SEED = 7
COHORT_SEED = 11


@dataclass(frozen=True)
class BuiltStore:
    """A store file ready to serve, and how long building it took (0 when it came from the cache)."""

    path: Path
    dataset: str
    records: int
    build_s: float
    cached: bool

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.path}"


def code_version() -> str:
    """What, besides the parameters, decides a store's content."""
    digest = hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:12]
    return f"gen-{digest}.schema-{SCHEMA_VERSION}.beacon-{__version__}"


def cache_key(kind: str, **params: object) -> str:
    text = json.dumps({"kind": kind, "code": code_version(), **params}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def synthetic_file(kind: str, count: int, suffix: str, samples: int = 0, seed: int = VCF_SEED) -> Path:
    """A synthetic input file, generated once per parameters."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = cache_key(kind, count=count, samples=samples, seed=seed)
    out = CACHE / f"{kind}-{count}-{samples}s-{key}{suffix}"
    if not out.exists():
        partial = out.with_name(out.name + ".partial")
        argv = [sys.executable, str(GENERATOR), kind, str(partial), str(count), "--seed", str(seed)]
        if samples:
            argv += ["--samples", str(samples)]
        subprocess.run(argv, check=True)
        partial.rename(out)
    return out


def _ingest(argv: list[str], target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    for stale in CACHE.glob(partial.name + "*"):
        stale.unlink()
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        [str(bin_dir / "beacon-ingest"), *argv, "--store", f"sqlite:///{partial}"],
        stdout=subprocess.PIPE,  # progress goes to stderr, straight through
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"beacon-ingest {argv[0]} failed with exit code {done.returncode}")
    print("  " + done.stdout.strip().splitlines()[-1], file=sys.stderr)
    # Only a finished build is cached: a killed one leaves a .partial that the next run deletes.
    partial.rename(target)


def _built(kind: str, count: int, dataset: str, build: Callable[[Path], None]) -> BuiltStore:
    key = cache_key(kind, count=count, dataset=dataset)
    path = CACHE / f"{kind}-{count}-{key}.db"
    if path.exists() and not os.environ.get("BENCH_REBUILD"):
        return BuiltStore(path, dataset, count, 0.0, cached=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"building {kind} store of {count:,} records into {path} …", file=sys.stderr)
    started = time.perf_counter()
    build(path)
    elapsed = time.perf_counter() - started
    print(f"built {path.name} in {elapsed:.1f} s ({count / elapsed:,.0f} records/s)", file=sys.stderr)
    return BuiltStore(path, dataset, count, elapsed, cached=False)


def variant_store(count: int) -> BuiltStore:
    """`count` synthetic sites (chr22 density from chromosome 1 on), ingested sites-only."""

    def build(path: Path) -> None:
        vcf = synthetic_file("vcf", count, ".vcf.gz")
        _ingest(["vcf", str(vcf), "--dataset", VARIANT_DATASET, "--assembly", "GRCh37", "--sites-only"], path)

    return _built("variants", count, VARIANT_DATASET, build)


def cohort_store(count: int) -> BuiltStore:
    """`count` synthetic individuals, written as phenopackets and ingested."""

    def build(path: Path) -> None:
        packets = synthetic_file("phenopackets", count, ".tar.gz", seed=COHORT_SEED)
        _ingest(["phenopackets", str(packets), "--dataset", COHORT_DATASET], path)

    return _built("cohort", count, COHORT_DATASET, build)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("kind", choices=("variants", "cohort"))
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    store = variant_store(args.count) if args.kind == "variants" else cohort_store(args.count)
    print(f"{store.path} ({'cached' if store.cached else f'built in {store.build_s:.1f} s'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
