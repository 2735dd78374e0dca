"""Loaders reach the store only through the store-neutral bulk type, and both backends store what it carries alike.

The import contract in pyproject.toml forbids ingest every backend module; the first test keeps that
list complete as backend modules come and go. The others load VCFs (plain alleles built straight
into the bulk columns, carriers as key lists, annotated alleles through documents) into SQLite and
into MongoDB (or its stand-in) and compare everything a reader can ask of the two.
"""

from __future__ import annotations

import ast
import asyncio
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.plan import And, Compare, Field, HasTerm, Query, Related
from beacon.store.base import Store
from beacon.store.carriers import HOMOZYGOUS
from beacon.store.sqlite import SqliteStore
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import MongoSource, load_into, new_mongo_source

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "vcf"
CONTRACT = "ingest hands loads to the store-neutral bulk type, never to a backend's connection module"


def _backend_modules() -> set[str]:
    store = ROOT / "beacon" / "store"
    found = [p for p in store.glob("*.py") if p.stem.startswith(("sqlite", "mongo"))]
    found += [p for p in store.glob("*/__init__.py") if p.parent.name.startswith(("sqlite", "mongo"))]
    return {f"beacon.store.{p.stem if p.name != '__init__.py' else p.parent.name}" for p in found}


def test_the_contract_forbids_ingest_every_backend_module() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT]
    assert contract["source_modules"] == ["ingest"]
    backend = _backend_modules()
    assert {"beacon.store.sqlite", "beacon.store.sqlite_load", "beacon.store.mongo"} <= backend
    assert backend - set(contract["forbidden_modules"]) == set()


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_no_loader_module_imports_a_backend_module_even_lazily() -> None:
    # lint-imports sees function-level imports too; this names the file when one appears.
    backend = _backend_modules()
    offenders = {
        str(path.relative_to(ROOT)): name
        for path in (ROOT / "ingest").rglob("*.py")
        for name in _imports(path)
        if name in backend
    }
    # ingest/cli.py opens stores through beacon.store.open_store only.
    assert offenders == {}


SAMPLES = "sample\tindividual\tpopulation\tsex\nS1\tI1\tEUR\tfemale\nS2\tI2\tAFR\tmale\nS3\tI3\tEUR\tf\n"
LOADS = {
    # Genotypes and a sample table: carriers (biosample and individual key lists), GENO terms, populations.
    "geno": ["haploid_x_and_missing_calls.vcf", "multiallelic_indel_needs_trim.vcf"],
    # ANN annotations: the document path, beside plain alleles.
    "annotated": ["brca2_c5946del_annotated.vcf"],
}


async def _load(store: Store, samples: Path) -> None:
    for dataset, names in LOADS.items():
        options = VcfOptions(dataset, "GRCh37", samples_table=samples if dataset == "geno" else None)
        await load_vcf([FIXTURES / n for n in names], options, store, parse_in_child=False)


async def _read(store: Store) -> dict[str, Any]:
    """Everything a reader gets from the store, in a form to compare."""
    datasets = tuple(LOADS)
    out: dict[str, Any] = {}
    for coll in DEFAULT_TABLE.collections():
        found = await store.find(Query(coll, datasets, limit=1000))
        # A dataset record is stamped with the wall clock at its load: the two loads may straddle a second.
        out[f"{coll} find"] = [{k: v for k, v in r.items() if not k.endswith("DateTime")} for r in found]
        out[f"{coll} counts"] = await store.count_by_dataset(Query(coll, datasets))
        for kind in ("biosample", "individual", "cohort", "hgvs"):
            for dataset in datasets:
                # MongoDB's key range also matches records that have no key of this kind (a range over
                # an array, element by element): they come back with no values.
                found = await store.record_keys(coll, dataset, kind)
                out[f"{coll} {dataset} {kind}"] = {rid: values for rid, values in found.items() if values}
        out[f"{coll} terms"] = await store.terms((coll,), datasets)
    # Carriers are sample sets: read through lookups both ways, zygosity picking the set, and key reads.
    out["carrier individuals"] = await store.distinct_keys(Query("g_variants", datasets), "individual")
    for doc in out["g_variants find"]:
        vid = doc["variantInternalId"]
        of_variant = Related("g_variants", "individual", Compare(Field.ID, "=", vid))
        out[f"individuals of {vid}"] = await store.count_by_dataset(Query("individuals", datasets, of_variant))
        homozygous = Related(
            "g_variants", "biosample", And((Compare(Field.ID, "=", vid), HasTerm((HOMOZYGOUS["id"],))))
        )
        out[f"homozygous biosamples of {vid}"] = await store.find(Query("biosamples", datasets, homozygous))
        out[f"keys of {vid}"] = await store.keys_of("g_variants", vid, "biosample", datasets)
    for person in out["carrier individuals"]:
        carried = Related("individuals", "individual", Compare(Field.ID, "=", person))
        out[f"variants of {person}"] = await store.find(Query("g_variants", datasets, carried))
    info = await store.datasets()
    out["datasets"] = sorted((d.id, d.assembly, dict(d.counts), d.transcript_annotated_variants) for d in info)
    return out


@pytest.fixture
def mongo() -> Iterator[MongoSource]:
    source = new_mongo_source("bulk")
    yield source
    asyncio.run(source.drop())


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    path = tmp_path / "samples.tsv"
    path.write_text(SAMPLES)
    return path


async def test_a_vcf_load_reads_back_the_same_from_both_backends(
    tmp_path: Path, samples: Path, mongo: MongoSource
) -> None:
    await load_into(SqliteStore(tmp_path / "b.db"), lambda s: _load(s, samples))
    await load_into(mongo.store(), lambda s: _load(s, samples))
    embedded = await load_into(SqliteStore(tmp_path / "b.db"), _read)
    documents = await load_into(mongo.store(), _read)
    assert embedded == documents
    # The comparison is not of two empty stores: carriers, owners, terms and annotated alleles arrived.
    # Carriers are sample sets now, not keys (beacon/store/carriers.py): no variant carries a carrier key.
    assert not embedded["g_variants geno biosample"]
    assert embedded["carrier individuals"] == ["I1", "I2", "I3", "P1", "S4"]
    assert any(d.get("caseLevelData") for d in embedded["g_variants find"])
    assert any(embedded[f"variants of {p}"] for p in ("I1", "I2", "I3"))
    assert any(v for k, v in embedded.items() if k.startswith("homozygous biosamples of"))
    assert any(v for k, v in embedded.items() if k.startswith("individuals of"))
    assert {t.id for t in embedded["g_variants terms"]} >= {"GENO:0000458", "GENO:0000136"}
    assert embedded["g_variants counts"]["annotated"] >= 1
    assert any("molecularAttributes" in d for d in embedded["g_variants find"])
