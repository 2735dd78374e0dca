"""The VCF loader's direct rows equal what the general document path stores, in this process and in a child one.

The general path (every allele through `site_document`, the store's indexer and `encode`) is what
the loader did before it built rows directly; here it is the reference the rows are held to, table
by table, on public files: genotypes with populations, annotations, dataset metadata loaded first,
haploid calls, left-alignment, liftover, structural variants.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import Query
from beacon.store.base import DatasetLoad
from beacon.store.indexing import index_record
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from ingest import entry
from ingest.bff import load_bff
from ingest.errors import InputError, RejectedRecords
from ingest.vcf import load as vcf_load
from ingest.vcf import parser_start, worker
from ingest.vcf.batches import Job, documents, row_batches
from ingest.vcf.fasta import Reference
from ingest.vcf.load import VcfOptions, _checked, _existing, digest_of, load_vcf
from ingest.vcf.parse import VcfReport
from ingest.vcf.samples import read_samples
from tests.conftest import CINECA, DATA

G1K = DATA / "vcf/1000g_grch37"
CHR1 = G1K / "1000G_phase3_chr1_10000-200000_2504samples.vcf.gz"
CINECA_VCF = G1K / "cineca_uk1_chr22_annotated_2504samples.vcf.gz"
SAMPLES = G1K / "1000G_sample_metadata_candig.json"
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vcf"
SV = DATA / "vcf/sv/StructuralVariantAnnotation/manta-1.1.1.vcf"
# The dataset record a load brings (ingest/dataset_record.py) is the load's, not a path's, and carries the
# time of its load: left out of the comparisons.
_VARIANTS_AND_SAMPLES = "rid NOT IN (SELECT rid FROM records WHERE coll = 'datasets')"
TABLES = {
    "records": "SELECT * FROM records WHERE coll != 'datasets' ORDER BY rid",
    "keys": f"SELECT * FROM keys WHERE {_VARIANTS_AND_SAMPLES} ORDER BY rid, kind, value",
    "terms": f"SELECT * FROM terms WHERE {_VARIANTS_AND_SAMPLES} ORDER BY rid, term",
    "populations": f"SELECT * FROM populations WHERE {_VARIANTS_AND_SAMPLES} ORDER BY rid",
    "vals": f"SELECT * FROM vals WHERE {_VARIANTS_AND_SAMPLES} ORDER BY rid, rowid",
    "term_catalog": "SELECT * FROM term_catalog WHERE coll != 'datasets' ORDER BY 1, 2, 3, 4, 5",
    # Carriers are sample sets over each part's sample indexes (beacon/store/carriers.py).
    "carriers": f"SELECT * FROM carriers WHERE {_VARIANTS_AND_SAMPLES} ORDER BY rid",
    "samples": "SELECT * FROM samples ORDER BY dataset, part, idx",
    "datasets_loaded": (
        "SELECT dataset, part, assembly, digest, json_remove(counts, '$.datasets') FROM datasets_loaded ORDER BY 1, 2"
    ),
    "max_span": "SELECT value FROM meta WHERE key = 'max_span'",
}


def rows_of(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in TABLES.items()}


async def open_store(path: Path) -> SqliteStore:
    store = SqliteStore(path)
    await store.open()
    return store


def general_load(
    paths: list[Path], options: VcfOptions, job: Job, report: VcfReport
) -> tuple[DatasetLoad, Reference | None]:
    lifter, reference = job.aids()
    parser = job.parser(report, None, lifter, reference)
    pairs = documents(parser, EntryTypeTable())
    digest = digest_of(paths, options)
    load = dataset_load(
        options.dataset_id, options.stored_assembly, digest, pairs, part=options.part, context=job.context()
    )
    return load, reference


async def load_by_documents(paths: list[Path], options: VcfOptions, store: SqliteStore) -> VcfReport:
    """The general path: documents, the store's indexer, the store's encoder."""
    options = _checked(options)
    owners, cohorts = await _existing(store, options.dataset_id)
    samples = await asyncio.to_thread(read_samples, options.samples_table) if options.samples_table else {}
    job = Job(paths, options, samples, owners, cohorts)
    report = VcfReport(options.dataset_id)
    load, reference = await asyncio.to_thread(general_load, paths, options, job, report)
    try:
        await store.replace_dataset(load)
    finally:
        if reference is not None:
            reference.close()
    return report


# Sample indexes follow the first file: the second file's carriers ascend without being its positions,
# the third's do not ascend (their carriers stay a list).
ORDERS = (
    "haploid_x_and_missing_calls",
    "samples_a_subset_of_the_first_files",
    "samples_in_another_order_than_the_first_files",
)

CASES = [
    pytest.param([CHR1], VcfOptions("g1k", "GRCh37", samples_table=SAMPLES), False, id="2504 samples with populations"),
    pytest.param([CHR1], VcfOptions("g1k", "GRCh37", sites_only=True), False, id="2504 samples read sites-only"),
    pytest.param(
        [CHR1], VcfOptions("g1k", "GRCh37", samples_table=SAMPLES, counts_only=True), False, id="2504 counts only"
    ),
    pytest.param([CINECA_VCF], VcfOptions("cin", "GRCh37", counts_only=True), True, id="CINECA counts only"),
    pytest.param([CINECA_VCF], VcfOptions("cin", "GRCh37"), True, id="CINECA annotated, after its metadata"),
    pytest.param([CINECA_VCF], VcfOptions("cin", "GRCh37", sites_only=True), False, id="CINECA annotated sites-only"),
    pytest.param([FIXTURES / "haploid_x_and_missing_calls.vcf"], VcfOptions("t", "GRCh38"), False, id="haploid X"),
    pytest.param(
        [FIXTURES / "haploid_x_and_missing_calls.vcf"],
        VcfOptions("t", "GRCh38", counts_only=True),
        False,
        id="haploid X counts only",
    ),
    pytest.param(
        [FIXTURES / "deletion_right_of_a_repeat.vcf"],
        VcfOptions("norm", "GRCh37", fasta=FIXTURES / "repeat_reference.fa"),
        False,
        id="left-aligned against a FASTA",
    ),
    pytest.param(
        [FIXTURES / "chr1_and_chr2_for_liftover.vcf"],
        VcfOptions(
            "lifted", "GRCh37", chain=FIXTURES / "grch37_to_grch38_chr1_shift_100.chain", target_assembly="hg38"
        ),
        False,
        id="lifted to GRCh38",
    ),
    pytest.param([SV, FIXTURES / "multiallelic_indel_needs_trim.vcf"], VcfOptions("sv", "GRCh37"), False, id="SVs"),
    pytest.param(
        [FIXTURES / f"{name}.vcf" for name in ORDERS],
        VcfOptions("order", "GRCh38"),
        False,
        id="later files with a subset of the samples, then another order",
    ),
]


@pytest.mark.parametrize(("paths", "options", "with_metadata"), CASES)
async def test_direct_rows_equal_the_document_path(
    tmp_path: Path, paths: list[Path], options: VcfOptions, with_metadata: bool
) -> None:
    direct, general = await open_store(tmp_path / "direct.db"), await open_store(tmp_path / "general.db")
    try:
        if with_metadata:
            for store in (direct, general):
                await load_bff(CINECA, options.dataset_id, store, assembly="GRCh37")
        ours = await load_vcf(paths, options, direct, parse_in_child=False)
        reference = await load_by_documents(paths, options, general)
    finally:
        await direct.close()
        await general.close()
    assert (ours.records_read, ours.variants_written, ours.skipped) == (
        reference.records_read,
        reference.variants_written,
        reference.skipped,
    )
    assert ours.problems == reference.problems
    expected = await asyncio.to_thread(rows_of, tmp_path / "general.db")
    found = await asyncio.to_thread(rows_of, tmp_path / "direct.db")
    for table in TABLES:
        assert found[table] == expected[table], table
    assert found["records"]


async def test_a_child_parser_stores_the_same_rows(tmp_path: Path) -> None:
    options = VcfOptions("g1k", "GRCh37", samples_table=SAMPLES)
    reports = []
    for name, in_child in (("here.db", False), ("child.db", True)):
        store = await open_store(tmp_path / name)
        try:
            reports.append(await load_vcf([CHR1], options, store, parse_in_child=in_child))
        finally:
            await store.close()
    assert reports[0] == reports[1]
    here, child = [await asyncio.to_thread(rows_of, tmp_path / name) for name in ("here.db", "child.db")]
    assert here == child


def test_backends_that_store_documents_read_the_rows_as_the_indexer_made_them() -> None:
    options = _checked(VcfOptions("cin", "GRCh37"))
    job = Job([CINECA_VCF], options)
    ctx = job.context()
    general = documents(job.parser(VcfReport("cin"), None, None, None), job.table)
    batches = row_batches(job.parser(VcfReport("cin"), None, None, None), job)
    expected = [index_record(entry, doc, ctx) for entry, doc in general]
    found = [rec for batch in batches for rec in batch.indexed()]
    assert len(found) == len(expected) == 5008 + 5002  # every record stored, its <CN2> gain among them
    for e, f in zip(expected, found, strict=True):
        # Key order included: MongoDB stores the document as given.
        assert json.dumps(f.doc) == json.dumps(e.doc)
        assert (f.collection, f.scope, f.id, f.variant) == (e.collection, e.scope, e.id, e.variant)
        assert set(f.keys) == set(e.keys)
        assert dict(f.terms) == dict(e.terms)
        assert f.values == e.values


async def test_a_rejected_record_in_the_child_stores_nothing(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        await load_vcf([FIXTURES / "multiallelic_indel_needs_trim.vcf"], VcfOptions("u", "GRCh37"), store)
        options = VcfOptions("u", "GRCh37", on_error="fail")
        with pytest.raises(RejectedRecords, match="unknown_contig_and_bad_ref.vcf:5: CHROM: unknown contig"):
            await load_vcf([FIXTURES / "unknown_contig_and_bad_ref.vcf"], options, store, parse_in_child=True)
        ids = [d["variantInternalId"] for d in await store.find(Query("g_variants", ("u",)))]
    finally:
        await store.close()
    assert len(ids) == 3  # the previous load, whole


async def test_a_malformed_record_in_the_child_names_its_line(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        manta = DATA / "vcf/sv/StructuralVariantAnnotation/manta-0.29.6.vcf"
        with pytest.raises(InputError, match=r"manta-0.29.6.vcf:141: malformed record"):
            await load_vcf([manta], VcfOptions("m", "GRCh37"), store, parse_in_child=True)
        assert await store.datasets() == []
    finally:
        await store.close()


async def test_an_unchanged_input_ends_the_child_without_reading_it(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        options = VcfOptions("g1k", "GRCh37", sites_only=True)
        first = await load_vcf([CHR1], options, store, parse_in_child=True)
        again = await load_vcf([CHR1], replace(options), store, parse_in_child=True)
    finally:
        await store.close()
    assert not first.unchanged
    assert first.variants_written == 1044
    assert again.unchanged


async def test_the_child_reports_progress_and_counts(tmp_path: Path) -> None:
    seen: list[int] = []
    store = await open_store(tmp_path / "s.db")
    try:
        path = G1K / "1000G_phase3_chr22_99samples.vcf.gz"
        options = VcfOptions("c22", "GRCh37", sites_only=True)
        report = await load_vcf([path], options, store, progress=seen.append, parse_in_child=True)
        counts = await store.count_by_dataset(Query("g_variants", ("c22",)))
    finally:
        await store.close()
    assert seen == list(range(10_000, 190_001, 10_000))
    # Every allele is stored, the 45 <CN2> gains (per haplotype) among them.
    assert (report.records_read, report.variants_written) == (190_371, 193_863)
    assert report.skipped == {}
    assert counts == {"c22": 193_863}


def test_the_child_ends_when_the_ingest_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    big = G1K / "1000G_phase3_chr22_99samples.vcf.gz"
    argv = [
        sys.executable,
        "-m",
        "ingest",
        "vcf",
        "--dataset",
        "d",
        "--assembly",
        "GRCh37",
        "--store",
        f"sqlite:///{db}",
    ]
    parent = subprocess.Popen([*argv, str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.monotonic() + 30
    while not children and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.05)
        # The parser is a child of whichever thread started it (the main one, when started early).
        for task in Path(f"/proc/{parent.pid}/task").iterdir():
            children += [int(c) for c in (task / "children").read_text().split()]
    assert children, "no parser process was started"
    time.sleep(1.0)  # parsing and writing
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{children[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    status = Path(f"/proc/{children[0]}/status")
    assert not status.exists() or "zombie" in status.read_text(), "the parser outlived its ingest"


def test_beacon_ingest_starts_the_parser_first_and_the_load_adopts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[subprocess.Popen[bytes]] = []

    def recording() -> subprocess.Popen[bytes]:
        process = real_start()
        started.append(process)
        return process

    real_start = parser_start.start_parser
    for module in (parser_start, worker):
        monkeypatch.setattr(module, "start_parser", recording)
    vcf = FIXTURES / "haploid_x_and_missing_calls.vcf"
    argv = ["vcf", str(vcf), "--assembly", "GRCh38", "--store", f"sqlite:///{tmp_path / 's.db'}", "--dataset"]
    monkeypatch.setattr(vcf_load, "CHILD_FROM_BYTES", 0)  # this small file is parsed in a child
    assert entry.main([*argv, "adopted"]) == 0
    assert len(started) == 1, "the load started a parser of its own"
    assert started[0].poll() is not None
    monkeypatch.setattr(vcf_load, "CHILD_FROM_BYTES", 10**12)  # parsed here: the early parser is not needed
    assert entry.main([*argv, "here"]) == 0
    assert len(started) == 2
    assert started[1].returncode == -signal.SIGKILL, "the unused parser was not ended"
    assert parser_start.take_early() is None
    assert entry.main(["vcf", str(vcf), "--assembly", "GRCh38", "--dataset", "v", "--validate-only"]) == 0
    assert len(started) == 2, "validation never stores: no parser is started"
    with sqlite3.connect(tmp_path / "s.db") as conn:
        loaded = conn.execute("SELECT dataset, count(*) FROM records GROUP BY dataset ORDER BY dataset").fetchall()
    assert loaded == [("adopted", 12), ("here", 12)]  # 3 variants, 4 biosamples, 4 individuals, the dataset record


def _kill_children(_: int) -> None:
    """Kill this process's child processes (the parser): as if htslib crashed."""
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for child in (task / "children").read_text().split():
            os.kill(int(child), signal.SIGKILL)


async def test_a_parser_that_dies_fails_the_load_and_stores_nothing(tmp_path: Path) -> None:
    store = await open_store(tmp_path / "s.db")
    try:
        path = G1K / "1000G_phase3_chr22_99samples.vcf.gz"
        options = VcfOptions("c22", "GRCh37", sites_only=True)
        with pytest.raises(InputError, match=r"parser process ended unexpectedly after \d+ records \(exit status -9\)"):
            await load_vcf([path], options, store, progress=_kill_children, parse_in_child=True)
        assert await store.datasets() == []
    finally:
        await store.close()
