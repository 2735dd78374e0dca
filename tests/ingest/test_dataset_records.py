"""Every load leaves a dataset record: VCF and phenopacket loads make or update theirs, never a steward's."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster

from beacon.model.plan import Query
from beacon.store.base import Store
from beacon.store.sqlite import SqliteStore
from ingest.bff import BffReport, load_bff
from ingest.phenopackets.load import PhenopacketOptions, load_phenopackets
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import new_mongo_source

DATA = Path(__file__).resolve().parents[1] / "data"
VCF = DATA / "vcf" / "multiallelic_indel_needs_trim.vcf"
PACKET = DATA / "phenopackets" / "demo__P1.json"
STEWARD = {"id": "ds", "name": "Steward's name", "description": "Written by the steward", "version": "v2"}


@pytest.fixture(autouse=True)
def blockbuster(blockbuster: BlockBuster) -> None:
    """Loads run in the ingest CLI, where the MongoDB backend reads the stream on the event loop."""
    blockbuster.deactivate()


async def opened(backend: str, tmp_path: Path) -> Store:
    store: Store = SqliteStore(tmp_path / "s.db") if backend == "sqlite" else new_mongo_source("dsr").store()
    await store.open()
    return store


async def records(store: Store) -> list[dict[str, Any]]:
    return await store.find(Query("datasets", ("ds",)))


async def test_a_vcf_load_makes_the_dataset_record_and_a_reload_updates_it(backend: str, tmp_path: Path) -> None:
    store = await opened(backend, tmp_path)
    try:
        await load_vcf([VCF], VcfOptions("ds", "GRCh37"), store, parse_in_child=False)
        (first,) = await records(store)
        options = VcfOptions("ds", "GRCh37", name="Trim cases", description="Two records")
        await asyncio.sleep(1.1)  # a later second for updateDateTime
        await load_vcf([VCF], options, store, parse_in_child=False)
        (second,) = await records(store)
    finally:
        await store.close()
    assert first["name"] == "ds"
    assert first["description"] == "Variants of multiallelic_indel_needs_trim.vcf"
    assert first["info"] == {
        "madeBy": {"loader": "beacon-ingest vcf", "part": "vcf"},
        "assembly": "GRCh37",
        "counts": {"g_variants": 3},
    }
    assert (second["name"], second["description"]) == ("Trim cases", "Two records")
    assert second["createDateTime"] == first["createDateTime"]
    assert second["updateDateTime"] > first["updateDateTime"]


async def test_a_phenopacket_load_makes_the_dataset_record_with_its_counts(backend: str, tmp_path: Path) -> None:
    store = await opened(backend, tmp_path)
    try:
        await load_phenopackets([PACKET], PhenopacketOptions("ds", assembly="GRCh38"), store)
        (record,) = await records(store)
    finally:
        await store.close()
    assert record["description"] == "1 phenopacket(s) from demo__P1.json"
    assert record["info"]["madeBy"] == {"loader": "beacon-ingest phenopackets", "part": "phenopackets"}
    assert record["info"]["counts"]["individuals"] == 1


def _steward_folder(tmp_path: Path, dataset_id: str = "ds") -> Path:
    folder = tmp_path / "bff"
    shutil.copytree(DATA / "bff" / "two_individuals", folder)
    (folder / "datasets.json").write_text(json.dumps([{**STEWARD, "id": dataset_id}]))
    return folder


async def test_a_stewards_dataset_record_stays_when_other_parts_load(backend: str, tmp_path: Path) -> None:
    folder = await asyncio.to_thread(_steward_folder, tmp_path)
    store = await opened(backend, tmp_path)
    try:
        await load_bff(folder, "ds", store)
        await load_vcf([VCF], VcfOptions("ds", "GRCh37"), store, parse_in_child=False)
        await load_phenopackets([PACKET], PhenopacketOptions("ds", assembly="GRCh37"), store)
        found = await records(store)
    finally:
        await store.close()
    assert found == [STEWARD]


async def bff_loaded(folder: Path, tmp_path: Path) -> tuple[BffReport, list[dict[str, Any]]]:
    """Load `folder` as dataset ds into a fresh SQLite store: the load's report and the dataset records then."""
    store = await opened("sqlite", tmp_path)
    try:
        report = await load_bff(folder, "ds", store)
        return report, await records(store)
    finally:
        await store.close()


async def test_the_only_dataset_record_of_a_bff_folder_is_taken_whatever_its_id(tmp_path: Path) -> None:
    folder = await asyncio.to_thread(_steward_folder, tmp_path, "written-for-another-id")
    report, found = await bff_loaded(folder, tmp_path)
    assert found == [STEWARD]
    assert report.other_datasets == 0
    assert report.notes == [
        "datasets.json: record 0: the only dataset record, id 'written-for-another-id', "
        "is taken as the record of dataset 'ds'"
    ]


async def test_dataset_records_of_other_ids_among_several_are_skipped(tmp_path: Path) -> None:
    folder = await asyncio.to_thread(_steward_folder, tmp_path)
    two = [{**STEWARD, "id": "a"}, {**STEWARD, "id": "b"}]
    await asyncio.to_thread((folder / "datasets.json").write_text, json.dumps(two))
    report, found = await bff_loaded(folder, tmp_path)
    assert found == [{"id": "ds", "name": "ds"}]
    assert (report.other_datasets, report.notes) == (2, [])
