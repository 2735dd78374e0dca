"""Bytes per stored record, measured from the real loaders, for docs/scaling.md.

    .venv/bin/python bench/store_sizes.py

Runs the BFF and VCF loaders on the shared test data. MongoDB: each record goes through the
MongoDB backend's own `to_document` and is BSON-encoded (the size MongoDB stores before
compression), and the keys of every index definition are counted and sized (uncompressed; an upper
bound of what WiredTiger's prefix-compressed indexes take). SQLite: the same loads into a file,
whose size per record is measured.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson

from beacon.store.base import DatasetInfo, DatasetLoad, LoadSummary, LoadTally
from beacon.store.bulk import BatchRecord
from beacon.store.mongo import to_document
from beacon.store.mongo_schema import indexes_for
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.vcf.load import VcfOptions, load_vcf

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
VCF37 = DATA / "vcf" / "1000g_grch37"


def _get(document: dict[str, Any], path: str) -> list[Any]:
    """Values of a dotted path, arrays flattened (how MongoDB builds multikey index entries)."""
    nodes: list[Any] = [document]
    for part in path.split("."):
        nxt: list[Any] = []
        for node in nodes:
            items = node if isinstance(node, list) else [node]
            nxt.extend(item[part] for item in items if isinstance(item, dict) and part in item)
        nodes = nxt
    flat: list[Any] = []
    for node in nodes:
        flat.extend(node if isinstance(node, list) else [node])
    return flat


@dataclass
class Sizes:
    documents: list[int] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    carriers: list[int] = field(default_factory=list)
    index_entries: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    index_bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class SizingStore:
    """Looks like a store to the loaders; sizes what the MongoDB backend would write."""

    name = "sizing"

    def __init__(self) -> None:
        self.by_collection: dict[str, Sizes] = defaultdict(Sizes)

    async def replace_dataset(self, load: DatasetLoad) -> LoadSummary:
        tally = LoadTally()
        position = 0
        for batch in load.batches:
            tally.merge(batch.tally)
            for rec in batch.per_record():
                self._size(rec, to_document(rec, 1, position))
                position += 1
        return LoadSummary(load.dataset_id, tally.counts)

    def _size(self, rec: BatchRecord, document: dict[str, Any]) -> None:
        sizes = self.by_collection[rec.collection]
        sizes.documents.append(len(bson.encode(document)))
        sizes.records.append(len(bson.encode(rec.doc)))
        sizes.carriers.append(sum(1 for kind, _ in rec.keys if kind == "biosample"))
        for spec in indexes_for(rec.collection):
            fields = [k for k, _ in spec["keys"]]
            # A compound multikey index has one entry per element of its array field.
            entries = max(len(_get(document, f)) for f in fields) or 1
            sizes.index_entries[spec["name"]] += entries
            sizes.index_bytes[spec["name"]] += (
                sum(len(bson.encode({"k": v})) - 5 for f in fields for v in _get(document, f)) + 8 * entries
            )

    async def datasets(self) -> list[DatasetInfo]:
        return []

    async def find(self, query: Any) -> list[Any]:
        return []

    async def record_keys(self, collection: str, dataset_id: str, kind: str) -> dict[str, list[str]]:
        return {}


async def _sqlite_bytes_per_record(load: Any) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.db"
        store = SqliteStore(path)
        await store.open()
        try:
            await load(store)
            records = sum((await store.datasets())[0].counts.values())
        finally:
            await store.close()
        return _files_bytes(Path(tmp)) / records, records


def _files_bytes(folder: Path) -> int:
    """Bytes of the store file and any WAL/SHM beside it, once the store is closed."""
    return sum(p.stat().st_size for p in folder.glob("s.db*"))


async def measure() -> None:
    loads = {
        "CINECA BFF (2,504 individuals)": lambda s: load_bff(DATA / "cineca", "cineca", s, assembly="GRCh37"),
        "chr22 20-21 Mb, 99 samples, carriers": lambda s: load_vcf(
            [VCF37 / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"], VcfOptions("v", "GRCh37"), s
        ),
        "chr22 20-21 Mb, sites only": lambda s: load_vcf(
            [VCF37 / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"], VcfOptions("v", "GRCh37", sites_only=True), s
        ),
        "chr1 slice, 2,504 samples, carriers": lambda s: load_vcf(
            [VCF37 / "1000G_phase3_chr1_10000-200000_2504samples.vcf.gz"], VcfOptions("v", "GRCh37"), s
        ),
        "chr1 slice, 2,504 samples, sites only": lambda s: load_vcf(
            [VCF37 / "1000G_phase3_chr1_10000-200000_2504samples.vcf.gz"], VcfOptions("v", "GRCh37", sites_only=True), s
        ),
    }
    for name, load in loads.items():
        sizing = SizingStore()
        await load(sizing)
        sqlite_per_record, n = await _sqlite_bytes_per_record(load)
        print(f"\n## {name}: SQLite file {sqlite_per_record:,.0f} B per record over {n:,} records")
        print(f"{'collection':12} {'docs':>7} {'BSON B/doc':>10} {'record B':>9} {'carriers/doc':>12}")
        for collection, s in sorted(sizing.by_collection.items()):
            print(
                f"{collection:12} {len(s.documents):7} {statistics.mean(s.documents):10,.0f} "
                f"{statistics.mean(s.records):9,.0f} {statistics.mean(s.carriers):12.1f}"
            )
            for index, entries in sorted(s.index_entries.items()):
                per_doc = s.index_bytes[index] / len(s.documents)
                print(f"    index {index:16} {entries / len(s.documents):8.1f} entries/doc {per_doc:9,.0f} key B/doc")


if __name__ == "__main__":
    sys.exit(asyncio.run(measure()))
