"""The demo cohort: deterministic, internally consistent, valid against the official model, and loadable."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from beacon.api.app import create_app
from beacon.cli import main as beacon_main
from beacon.spec import spec_dir
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.demo import DATASET_ID, GRCH38_REFSEQ, generate_demo
from tests.conftest import AiohttpClient, fetch, make_config
from tests.hpo_reference import read_reference_hpo

ROOT = Path(__file__).resolve().parents[2]
SPEC = spec_dir()
RAW_GITHUB = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"
VRS = "https://w3id.org/ga4gh/schema/vrs/1.3/vrs.json"
COLLECTIONS = ("datasets", "cohorts", "individuals", "biosamples", "runs", "analyses", "genomicVariations")
PEOPLE = 120


def read(directory: Path, name: str) -> list[dict[str, Any]]:
    with gzip.open(directory / f"{name}.json.gz") as handle:
        records: list[dict[str, Any]] = json.load(handle)
    return records


def _retrieve(uri: str) -> Resource[Any]:
    # The spec README's offline mapping: raw-GitHub refs to this folder, VRS to the bundled draft-07 copy.
    if uri == VRS:
        return DRAFT7.create_resource(json.loads((SPEC / "external/ga4gh-vrs-1.3/vrs.json").read_text()))
    if uri.startswith(RAW_GITHUB):
        path = SPEC / uri.removeprefix(RAW_GITHUB)
    elif uri.startswith("file://"):
        path = Path(uri.removeprefix("file://"))
    else:
        raise LookupError(uri)
    if not path.exists() and path.name == "info.json":  # the model's common/info.json is missing upstream
        path = SPEC / "framework/json/common/info.json"
    return DRAFT202012.create_resource(json.loads(path.read_text()))


def record_validator(collection: str) -> Draft202012Validator:
    schema = SPEC / "models/json/beacon-v2-default-model" / collection / "defaultSchema.json"
    assert schema.is_file(), f"{schema} not found"
    return Draft202012Validator(
        {"$ref": schema.as_uri()},
        registry=Registry(retrieve=_retrieve),  # type: ignore[call-arg]
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    counts = generate_demo(out, individuals=PEOPLE)
    assert counts == {"datasets": 1, "cohorts": 1, "individuals": PEOPLE, "biosamples": PEOPLE, "runs": PEOPLE,
                      "analyses": PEOPLE, "genomicVariations": 150}  # fmt: skip
    return out


def test_same_seed_gives_byte_identical_files(demo_dir: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path, individuals=PEOPLE)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{c}.json.gz" for c in COLLECTIONS)
    for path in sorted(demo_dir.iterdir()):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_another_seed_gives_another_cohort(demo_dir: Path, tmp_path: Path) -> None:
    generate_demo(tmp_path, individuals=PEOPLE, seed=1)
    assert read(tmp_path, "individuals") != read(demo_dir, "individuals")


def test_default_size_is_400_individuals(tmp_path: Path) -> None:
    counts = generate_demo(tmp_path)
    assert counts == {name: len(read(tmp_path, name)) for name in COLLECTIONS}
    assert counts["individuals"] == counts["biosamples"] == counts["runs"] == counts["analyses"] == 400


def test_fewer_than_one_individual_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="individuals must be at least 1, got 0"):
        generate_demo(tmp_path, individuals=0)


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_every_record_is_valid_against_the_official_default_schema(demo_dir: Path, collection: str) -> None:
    validator = record_validator(collection)
    problems = [
        f"{collection}[{n}] {error.json_path}: {error.message}"
        for n, record in enumerate(read(demo_dir, collection))
        for error in validator.iter_errors(record)
    ]
    assert problems == []


def test_records_reference_each_other(demo_dir: Path) -> None:
    people = {i["id"] for i in read(demo_dir, "individuals")}
    samples = {b["id"]: b["individualId"] for b in read(demo_dir, "biosamples")}
    runs = {r["id"]: r for r in read(demo_dir, "runs")}
    assert len(people) == len(samples) == len(runs) == PEOPLE
    assert set(samples.values()) == people
    for run in runs.values():
        assert samples[run["biosampleId"]] == run["individualId"]
    for analysis in read(demo_dir, "analyses"):
        run = runs[analysis["runId"]]
        assert (analysis["biosampleId"], analysis["individualId"]) == (run["biosampleId"], run["individualId"])
    for variant in read(demo_dir, "genomicVariations"):
        assert variant["caseLevelData"], variant["variantInternalId"]
        assert {c["biosampleId"] for c in variant["caseLevelData"]} <= set(samples)


def test_individuals_are_adults_with_plausible_onsets(demo_dir: Path) -> None:
    ages = {b["individualId"]: int(b["collectionMoment"][1:-1]) for b in read(demo_dir, "biosamples")}
    assert all(18 <= age <= 90 for age in ages.values())
    for person in read(demo_dir, "individuals"):
        onsets = [f["onset"] for f in person["phenotypicFeatures"] if "onset" in f]
        onsets += [d["ageOfOnset"] for d in person.get("diseases", [])]
        assert all(int(o["iso8601duration"][1:-1]) <= ages[person["id"]] for o in onsets), person["id"]
        assert 1 <= len(person["phenotypicFeatures"]) <= 4
        assert len(person.get("diseases", [])) <= 2
        assert [m["assayCode"]["id"] for m in person["measures"]] == ["LOINC:35925-4"]


def test_variant_mix_and_coordinates(demo_dir: Path) -> None:
    variants = read(demo_dir, "genomicVariations")
    assert len({v["variantInternalId"] for v in variants}) == len(variants) == 150
    kinds = Counter(v["variation"]["variantType"] for v in variants)
    assert kinds["SNP"] > len(variants) / 2
    assert kinds["INDEL"] > 0
    assert 3 <= kinds["DEL"] + kinds["DUP"] <= 4
    for v in variants:
        variation, ident = v["variation"], v["variantInternalId"]
        interval = variation["location"]["interval"]
        accession = GRCH38_REFSEQ[ident.split(":")[0]]
        assert variation["location"]["sequence_id"] == f"refseq:{accession}", ident
        assert v["identifiers"]["genomicHGVSId"].startswith(f"{accession}:g."), ident
        ref, alt = variation["referenceBases"], variation["alternateBases"]
        if variation["variantType"] in ("DEL", "DUP"):
            assert (ref, alt) == ("N", "N")
            assert interval["end"]["value"] - interval["start"]["value"] >= 1000, ident
        else:
            assert interval["end"]["value"] == interval["start"]["value"] + len(ref), ident
        if variation["variantType"] == "INDEL":
            assert ref[0] == alt[0], ident
            assert len(ref) != len(alt), ident


def test_allele_frequencies_are_computed_from_carriers(demo_dir: Path) -> None:
    for v in read(demo_dir, "genomicVariations"):
        zygosities = Counter(c["zygosity"]["label"] for c in v["caseLevelData"])
        assert set(zygosities) <= {"heterozygous", "homozygous"}
        expected = (zygosities["heterozygous"] + 2 * zygosities["homozygous"]) / (2 * PEOPLE)
        frequency = v["frequencyInPopulations"][0]["frequencies"][0]["alleleFrequency"]
        assert frequency == pytest.approx(expected), v["variantInternalId"]


async def test_every_record_loads_without_rejection(demo_dir: Path) -> None:
    report = await load_bff(demo_dir, DATASET_ID, None)
    assert report.problems == []
    assert report.counts == {
        "datasets": 1,
        "cohorts": 1,
        "individuals": PEOPLE,
        "biosamples": PEOPLE,
        "runs": PEOPLE,
        "analyses": PEOPLE,
        "g_variants": 150,
    }


async def test_the_demo_beacon_answers_clinical_questions(
    demo_dir: Path, tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    store = SqliteStore(tmp_path / "demo.db")
    await store.open()
    await load_bff(demo_dir, DATASET_ID, store, assembly="GRCh38")
    await store.close()
    client: TestClient[Any, Any] = await aiohttp_client(create_app(make_config(f"sqlite:///{tmp_path / 'demo.db'}")))
    variants = read(demo_dir, "genomicVariations")
    brca2 = sum(1 for v in variants if "BRCA2" in v["molecularAttributes"]["geneIds"])
    doc = await fetch(client, "GET", "/api/g_variants", params={"geneId": "BRCA2", "requestedGranularity": "count"})
    assert doc["responseSummary"]["numTotalResults"] == brca2 > 0
    # Seizure or any kind of seizure (descendant terms are included by default), never an excluded one.
    hpo = await asyncio.to_thread(read_reference_hpo)
    seizure_terms = {"HP:0001250", *hpo.descendants("HP:0001250")}
    seizures = sum(
        1
        for i in read(demo_dir, "individuals")
        if any(f["featureType"]["id"] in seizure_terms and not f.get("excluded") for f in i["phenotypicFeatures"])
    )
    doc = await fetch(
        client, "GET", "/api/individuals", params={"filters": "HP:0001250", "requestedGranularity": "count"}
    )
    assert doc["responseSummary"]["numTotalResults"] == seizures > 0


def test_beacon_demo_command_loads_once_then_is_a_no_op(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["demo", "--store", f"sqlite:///{tmp_path / 'b.db'}", "--out", str(tmp_path / "bff"), "--individuals", "30"]
    assert beacon_main(args) == 0
    assert "demo dataset demo-cohort loaded" in capsys.readouterr().out
    assert beacon_main(args) == 0
    assert "demo dataset demo-cohort unchanged" in capsys.readouterr().out


def test_beacon_demo_keeps_an_outdated_store_aside_and_makes_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After an upgrade that changed the store layout, `make run` (beacon demo) still works and the old
    file is kept, with its contents, beside the new one; opening it still refuses in one line."""
    monkeypatch.chdir(ROOT)
    store = tmp_path / "b.db"
    with sqlite3.connect(store) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    conn.close()
    args = ["demo", "--store", f"sqlite:///{store}", "--out", str(tmp_path / "bff"), "--individuals", "30"]
    assert beacon_main(args) == 0
    out = capsys.readouterr().out
    assert f"kept as {store}.old-1" in out
    assert "demo dataset demo-cohort loaded" in out
    with sqlite3.connect(tmp_path / "b.db.old-1") as conn:
        assert conn.execute("SELECT * FROM meta").fetchall() == [("schema_version", "3")]
    conn.close()
    assert beacon_main(["check-config", "--store", f"sqlite:///{tmp_path / 'b.db.old-1'}"]) != 0
    assert "schema version 3" in capsys.readouterr().err
