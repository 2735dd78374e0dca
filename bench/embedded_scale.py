"""Query latency of the embedded store as it grows: the figures behind docs/scaling.md.

    .venv/bin/python bench/synthetic.py vcf /tmp/s1m.vcf.gz 1000000
    .venv/bin/beacon-ingest vcf /tmp/s1m.vcf.gz --dataset syn --assembly GRCh37 --sites-only --store sqlite:////tmp/s1m.db
    .venv/bin/python bench/embedded_scale.py /tmp/s1m.db syn

Times the store's own query path (no HTTP) for a sequence query, and 1 Mb and 10 Mb range counts,
at random positions inside the loaded span; median and 95th percentile of 200 queries each.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

from beacon.model.plan import Query
from beacon.model.request import VariantParams
from beacon.query.variants import variant_condition
from beacon.store.sqlite import SqliteStore


async def main(path: Path, dataset: str) -> None:
    size_gb = path.stat().st_size / 1e9  # noqa: ASYNC240 (before the store opens; nothing else runs)
    store = SqliteStore(path)
    await store.open()
    rng = random.Random(1)
    try:
        info = (await store.datasets())[0]
        print(f"{path.name}: {sum(info.counts.values()):,} records, {size_gb:.2f} GB")
        span = await store.find(Query("g_variants", (dataset,), None, 0, 1))
        first = span[0]["variation"]["location"]["interval"]["start"]["value"]
        cases = {
            "sequence count": lambda p: VariantParams(referenceName="1", start=(p,), alternateBases="N"),
            "1 Mb range count": lambda p: VariantParams(referenceName="1", start=(p,), end=(p + 1_000_000,)),
            "10 Mb range count": lambda p: VariantParams(referenceName="1", start=(p,), end=(p + 10_000_000,)),
        }
        for name, make in cases.items():
            times = []
            for _ in range(200):
                query = Query("g_variants", (dataset,), variant_condition(make(rng.randint(first, first + 80_000_000))))
                start = time.perf_counter()
                await store.count_by_dataset(query)
                times.append(time.perf_counter() - start)
            times.sort()
            print(f"{name:20} median {statistics.median(times) * 1e3:8.2f} ms   p95 {times[189] * 1e3:8.2f} ms")
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2]))
