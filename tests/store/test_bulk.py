"""The bulk-load type: records packed into column batches read back as they were indexed, across a pickle too."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from typing import Any

from beacon.model.entry_types import DEFAULT_TABLE
from beacon.store.base import IndexedRecord
from beacon.store.bulk import NO_VARIANT, LoadBatch, LoadPacker
from beacon.store.carriers import bitmap_bytes
from beacon.store.indexing import LoadContext, index_record
from beacon.store.loading import RECORDS_PER_BATCH, dataset_load
from tests.documents import chr22_snv

VARIANTS = DEFAULT_TABLE.variant_type()
INDIVIDUALS = DEFAULT_TABLE.by_id("individual")


def variant(vid: str, start: int, carriers: tuple[str, ...] = ()) -> dict[str, Any]:
    return chr22_snv(
        vid, start, [{"biosampleId": c, "zygosity": {"id": "GENO:0000458", "label": "heterozygous"}} for c in carriers]
    )


def person(pid: str) -> dict[str, Any]:
    return {"id": pid, "sex": {"id": "NCIT:C16576", "label": "female"}, "info": {"note": "kept"}, "age": 41.5}


def indexed() -> list[IndexedRecord]:
    ctx = LoadContext("d", "GRCh38")
    return [
        index_record(INDIVIDUALS, person("p1"), ctx),
        index_record(VARIANTS, variant("v1", 100, ("s1", "s2")), ctx),
        index_record(VARIANTS, variant("v2", 200), ctx),
    ]


def packed(records: list[IndexedRecord]) -> LoadBatch:
    packer = LoadPacker("d", "vcf")
    for rec in records:
        packer.add(rec)
    return packer.take()


def test_a_batch_reads_back_the_records_it_was_packed_from_after_a_pickle() -> None:
    records = indexed()
    batch = pickle.loads(pickle.dumps(packed(records), protocol=pickle.HIGHEST_PROTOCOL))
    found = list(batch.indexed())
    # The load's samples are the batch's (a column), not a record's.
    assert found == [replace(r, samples=()) for r in records]
    assert batch.samples == [(0, "s1", None), (1, "s2", None)]
    # Key order included: document stores keep the document as given.
    assert [json.dumps(r.doc) for r in found] == [json.dumps(r.doc) for r in records]


def test_records_are_numbered_within_the_load_and_rows_name_their_dataset_and_part() -> None:
    packer = LoadPacker("d", "vcf")
    first, second, third = indexed()
    packer.add(first)
    one = packer.take()
    packer.add(second)
    packer.add(third)
    two = packer.take()
    assert [r[:5] for r in one.records] == [(1, "individuals", "d", "vcf", "p1")]
    assert [r[:5] for r in two.records] == [(2, "g_variants", "d", "vcf", "v1"), (3, "g_variants", "d", "vcf", "v2")]
    assert one.records[0][6:] == NO_VARIANT
    assert two.records[0][6:] == ("GRCh38", "22", 100, 101, "A", "G", "SNP", 1)
    # VCF-shaped carriers are sample sets over the load's samples, not keys (beacon/store/carriers.py).
    assert two.keys == []
    assert two.carrier_sets == [(2, bitmap_bytes([0, 1]), None, None)]
    assert two.samples == [(0, "s1", None), (1, "s2", None)]
    assert two.tally.counts == {"g_variants": 2}
    assert two.scopes == {"individuals": INDIVIDUALS.scope, "g_variants": VARIANTS.scope}


def test_per_record_gathers_key_lists_before_keys_and_leaves_unplaced_records_without_columns() -> None:
    batch = LoadBatch(
        records=[(1, "g_variants", "d", "vcf", "v1", '{"variantInternalId":"v1"}', *NO_VARIANT)],
        keys=[("cohort", "c1", 1)],
        key_lists=[("biosample", 1, '["s1","s2"]')],
        terms=[("GENO:0000458", 1)],
        values=[(1, "variantInternalId", "v1", None)],
    )
    (rec,) = batch.per_record()
    assert rec.keys == [("biosample", "s1"), ("biosample", "s2"), ("cohort", "c1")]
    assert (rec.variant, rec.terms, rec.values) == (None, ["GENO:0000458"], [("variantInternalId", "v1", None)])
    assert rec.doc == {"variantInternalId": "v1"}


def test_a_document_load_reaches_the_store_in_batches_of_bounded_records() -> None:
    docs = [(VARIANTS, variant(f"v{i}", 100 + i)) for i in range(2 * RECORDS_PER_BATCH + 1)]
    batches = list(dataset_load("d", "GRCh38", "x", iter(docs)).batches)
    assert [len(b.records) for b in batches] == [RECORDS_PER_BATCH, RECORDS_PER_BATCH, 1]
    assert [r[0] for r in batches[2].records] == [2 * RECORDS_PER_BATCH + 1]


def test_an_empty_load_is_one_empty_batch() -> None:
    (batch,) = dataset_load("d", "GRCh38", "x", iter(())).batches
    assert (batch.records, batch.tally.counts) == ([], {})
