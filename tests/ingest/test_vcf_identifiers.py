"""The VCF ID column becomes `identifiers.variantAlternativeIds`, found by an alphanumeric filter on that path."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.model.plan import Query
from beacon.model.request import Filter
from beacon.query.filters import filter_condition
from beacon.store.sqlite import SqliteStore
from ingest.vcf.identifiers import alternative_ids
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import DATA

SLICE = DATA / "vcf" / "1000g_grch37" / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"
PATH = "identifiers.variantAlternativeIds.id"


@pytest.mark.parametrize(
    ("column", "ids"),
    [
        ("rs1807563", ["dbSNP:rs1807563"]),
        ("esv3647175;esv3647176", ["dbVar:esv3647175", "dbVar:esv3647176"]),
        ("nsv123", ["dbVar:nsv123"]),
        ("COSV57014428", ["COSMIC:COSV57014428"]),
        ("ClinVar:12345", ["ClinVar:12345"]),
        ("MantaDEL_0_1", ["MantaDEL_0_1"]),
        ("rs1;rs1", ["dbSNP:rs1"]),
        (".", []),
        (None, []),
    ],
    ids=str,
)
def test_vcf_ids_become_curies(column: str | None, ids: list[str]) -> None:
    assert alternative_ids(column) == ids


@pytest.mark.parametrize("sites_only", [True, False], ids=["sites only", "with carriers"])
async def test_an_rs_number_finds_its_variant_through_an_alphanumeric_filter(tmp_path: Path, sites_only: bool) -> None:
    store = SqliteStore(tmp_path / "s.db")
    await store.open()
    try:
        options = VcfOptions("ids", "GRCh37", sites_only=sites_only)
        await load_vcf([SLICE], options, store, parse_in_child=False)
        where = filter_condition(Filter(PATH, "=", "dbSNP:rs55902548"), "genomicVariation")
        (found,) = await store.find(Query("g_variants", ("ids",), where))
        like = filter_condition(Filter(PATH, "=", "%rs55902548"), "genomicVariation")
        by_pattern = await store.find(Query("g_variants", ("ids",), like))
        structural = filter_condition(Filter(PATH, "=", "dbVar:esv3647284"), "genomicVariation")
        (cnv,) = await store.find(Query("g_variants", ("ids",), structural))
    finally:
        await store.close()
    assert found["variantInternalId"] == "22:20000428:G>T"
    assert found["identifiers"] == {
        "genomicHGVSId": "NC_000022.10:g.20000428G>T",
        "variantAlternativeIds": [{"id": "dbSNP:rs55902548"}],
    }
    assert by_pattern == [found]
    assert cnv["identifiers"] == {"variantAlternativeIds": [{"id": "dbVar:esv3647284"}]}
