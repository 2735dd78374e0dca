"""Copy-number alleles count copies per haplotype: <CN0> a loss, <CN1> the reference, <CN2> and more gains."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import Compare, Field, Query
from beacon.store.sqlite import SqliteStore
from ingest.vcf.load import VcfOptions, load_vcf
from ingest.vcf.structural import Unrepresentable, structural

SLICE = Path(__file__).resolve().parents[1] / "data" / "vcf" / "g1k_phase3_chr22_copy_number_alleles_per_haplotype.vcf"


@pytest.mark.parametrize(
    ("alt", "kind"),
    [("<CN0>", "DEL"), ("<CN2>", "DUP"), ("<CN3>", "DUP"), ("<CN12>", "DUP")],
)
def test_copy_numbers_per_haplotype_are_losses_below_one_and_gains_above(alt: str, kind: str) -> None:
    assert structural(100, alt, 200, None, "CNV").variant_type == kind


def test_one_copy_is_the_reference_state_of_a_haplotype() -> None:
    with pytest.raises(Unrepresentable, match="reference copy number"):
        structural(100, "<CN1>", 200, None, "CNV")


async def _docs(tmp_path: Path) -> tuple[Any, list[dict[str, Any]], dict[str, int]]:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        report = await load_vcf([SLICE], VcfOptions("cn", "GRCh37"), store, parse_in_child=False)
        docs = await store.find(Query("g_variants", ("cn",)))
        gains = await store.count_by_dataset(Query("g_variants", ("cn",), Compare(Field.TYPE, "=", "DUP")))
    finally:
        await store.close()
    return report, docs, gains


async def test_the_1000_genomes_gain_alleles_are_stored_with_their_carriers(tmp_path: Path) -> None:
    report, docs, gains = await _docs(tmp_path)
    assert report.skipped == {}
    assert report.problems == []
    by_alt = {}
    for doc in docs:
        alt = doc["variantInternalId"].split(":")[2]
        by_alt.setdefault(alt, []).append(doc)
    assert {alt: len(found) for alt, found in by_alt.items()} == {"CN0": 2, "CN2": 3, "CN3": 2, "CN4": 1}
    assert gains == {"cn": 6}
    gain = next(d for d in by_alt["CN2"] if d["variantInternalId"].startswith("22:16877183:"))
    # The record's span: POS is the padding base, END from INFO.
    assert gain["variation"]["location"]["interval"]["start"]["value"] == 16877183
    assert gain["variation"]["location"]["interval"]["end"]["value"] == 16965103
    # One of the 99 samples carries one extra copy on one haplotype (0|1).
    assert [c["zygosity"]["label"] for c in gain["caseLevelData"]] == ["heterozygous"]
    assert gain["frequencyInPopulations"][0]["frequencies"][0]["alleleCount"] == 1


def _caller_counting_per_sample(tmp_path: Path) -> Path:
    path = tmp_path / "per_sample_copies.vcf"
    path.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
        '##ALT=<ID=CN2,Description="Copy number 2 (normal)">\n'
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "1\t1000\t.\tA\t<CN1>,<CN2>,<CN3>\t.\tPASS\tEND=5000\n"
    )
    return path


async def test_a_header_that_makes_two_copies_normal_is_read_so(tmp_path: Path) -> None:
    path = await asyncio.to_thread(_caller_counting_per_sample, tmp_path)
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        report = await load_vcf([path], VcfOptions("cn", "GRCh37"), store, parse_in_child=False)
        docs = await store.find(Query("g_variants", ("cn",)))
    finally:
        await store.close()
    kinds = {d["variantInternalId"].split(":")[2]: d["variation"]["variantType"] for d in docs}
    assert kinds == {"CN1": "DEL", "CN3": "DUP"}
    assert report.skipped == {"reference copy number <CN2> (the header's ##ALT makes it the normal state)": 1}
