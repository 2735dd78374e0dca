"""VCF loading: carriers and counts equal an independent count from cyvcf2, every SV is stored or reported, kill -9 is safe."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cyvcf2 import VCF

from beacon.model.plan import Compare, Field, Query
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.errors import InputError, RejectedRecords
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import CINECA, DATA, PUBLIC, large_data, test_data

G1K = DATA / "vcf/1000g_grch37"
CHR1 = G1K / "1000G_phase3_chr1_10000-200000_2504samples.vcf.gz"
SAMPLES = G1K / "1000G_sample_metadata_candig.json"
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vcf"
SV_FILES = sorted(
    {test_data(str(p.relative_to(root))) for root in (PUBLIC, DATA) for p in root.glob("vcf/sv/**/*.vcf*")}
)


def expected_counts(path: Path, limit: int) -> list[dict[str, Any]]:
    """Per ALT allele of the first records: carriers and counts, from cyvcf2's Python genotype lists."""
    out = []
    for record in list(VCF(str(path)))[:limit]:
        samples = VCF(str(path)).samples if not out else out[0]["samples"]
        for index, _ in enumerate(record.ALT, start=1):
            carriers, ac, an = set(), 0, 0
            for name, call in zip(samples, record.genotypes, strict=True):
                alleles = [a for a in call[:-1] if a >= 0]
                an += len(alleles)
                hits = alleles.count(index)
                ac += hits
                if hits:
                    carriers.add(name)
            out.append(
                {"samples": samples, "pos": record.POS, "index": index, "carriers": carriers, "ac": ac, "an": an}
            )
    return out


async def test_carriers_and_counts_match_an_independent_count(store: SqliteStore) -> None:
    options = VcfOptions("g1k", "GRCh37", samples_table=SAMPLES)
    report = await load_vcf([CHR1], options, store)
    assert report.records_read == 1042
    assert report.variants_written == 1044
    docs = await store.find(Query("g_variants", ("g1k",), Compare(Field.START, "<", 200_000)))
    assert len(docs) == 1044
    by_order = iter(docs)
    for expected in expected_counts(CHR1, 40):
        doc = next(by_order)
        assert doc["variation"]["location"]["interval"]["start"]["value"] <= expected["pos"]
        assert {c["biosampleId"] for c in doc["caseLevelData"]} == expected["carriers"]
        total = doc["frequencyInPopulations"][0]["frequencies"][0]
        assert (total["alleleCount"], total["alleleNumber"]) == (expected["ac"], expected["an"])
        populations = doc["frequencyInPopulations"][0]["frequencies"][1:]
        # Sexes (M, F) and the sheet's free labels (GBR, YRI, …) each partition the samples.
        sexes = [p for p in populations if p["population"] in ("M", "F")]
        labels = [p for p in populations if p["population"] not in ("M", "F")]
        assert sum(p["alleleCount"] for p in labels) == total["alleleCount"]
        assert sum(p["alleleCount"] for p in sexes) == total["alleleCount"]
        assert {p["population"] for p in populations} >= {"GBR", "YRI"}


async def test_counts_only_stores_the_frequencies_without_carriers_or_samples(tmp_path: Path) -> None:
    stores = [SqliteStore(tmp_path / name) for name in ("full.db", "counts.db")]
    docs = []
    try:
        for s, counts_only in zip(stores, (False, True), strict=True):
            await s.open()
            options = VcfOptions("g1k", "GRCh37", samples_table=SAMPLES, counts_only=counts_only)
            report = await load_vcf([CHR1], options, s)
            assert (report.samples, report.variants_written) == (2504, 1044)
            docs.append(await s.find(Query("g_variants", ("g1k",))))
        counts = stores[1]
        assert await counts.find(Query("biosamples", ("g1k",))) == []
        assert await counts.find(Query("individuals", ("g1k",))) == []
        (dataset,) = await counts.datasets()
        assert set(dataset.counts) == {"g_variants", "datasets"}  # the dataset record the load brings
    finally:
        for s in stores:
            await s.close()
    full, only = docs
    assert len(full) == len(only) == 1044
    assert sum(bool(d.get("caseLevelData")) for d in full) > 1000
    for f, o in zip(full, only, strict=True):
        assert "caseLevelData" not in o
        assert o["frequencyInPopulations"] == f["frequencyInPopulations"]
        assert {k: v for k, v in f.items() if k != "caseLevelData"} == o


async def test_haploid_and_missing_calls(store: SqliteStore) -> None:
    await load_vcf([FIXTURES / "haploid_x_and_missing_calls.vcf"], VcfOptions("t", "GRCh38"), store)
    docs = {d["variantInternalId"]: d for d in await store.find(Query("g_variants", ("t",)))}
    assert set(docs) == {"1:1000:A>G", "1:1000:A>T", "X:5000:C>T"}
    g = docs["1:1000:A>G"]["frequencyInPopulations"][0]["frequencies"][0]
    assert (g["alleleCount"], g["alleleNumber"], g["alleleCountHomozygous"], g["alleleCountHeterozygous"]) == (
        4,
        6,
        1,
        2,
    )
    x = docs["X:5000:C>T"]
    assert {c["biosampleId"]: c["zygosity"]["label"] for c in x["caseLevelData"]} == {
        "S1": "hemizygous",
        "S3": "heterozygous",
    }
    xf = x["frequencyInPopulations"][0]["frequencies"][0]
    assert (xf["alleleCount"], xf["alleleNumber"], xf["alleleCountHemizygous"]) == (2, 4, 1)


async def test_trimmed_alleles_and_skip_reasons(store: SqliteStore) -> None:
    report = await load_vcf([FIXTURES / "multiallelic_indel_needs_trim.vcf"], VcfOptions("t", "GRCh37"), store)
    ids = [d["variantInternalId"] for d in await store.find(Query("g_variants", ("t",)))]
    assert ids == ["1:66381:T>A", "1:66381:TATATA>T", "1:70000:GT>G"]
    assert report.skipped == {"spanning deletion allele '*'": 1, "ALT equals REF": 1}
    (doc,) = await store.find(Query("g_variants", ("t",), Compare(Field.ID, "=", "1:66381:TATATA>T")))
    assert doc["identifiers"]["genomicHGVSId"] == "NC_000001.10:g.66382_66386del"
    assert doc["frequencyInPopulations"][0]["frequencies"][0]["alleleFrequency"] == pytest.approx(0.2)


async def test_bad_records_are_reported_with_file_line_and_field(store: SqliteStore) -> None:
    report = await load_vcf([FIXTURES / "unknown_contig_and_bad_ref.vcf"], VcfOptions("t", "GRCh37"), store)
    assert [str(p) for p in report.problems] == [
        "unknown_contig_and_bad_ref.vcf:5: CHROM: unknown contig 'GL000192.1'",
        "unknown_contig_and_bad_ref.vcf:6: ALT: <DEL> without INFO/END or INFO/SVLEN: its span is unknown",
    ]
    assert report.variants_written == 1
    with pytest.raises(RejectedRecords, match="unknown_contig_and_bad_ref.vcf:5: CHROM"):
        await load_vcf([FIXTURES / "unknown_contig_and_bad_ref.vcf"], VcfOptions("u", "GRCh37", on_error="fail"), store)
    assert await store.count_by_dataset(Query("g_variants", ("u",))) == {}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            G1K / "per_sample_raw_no_fileformat/HG00096.vcf.gz",
            "HG00096.vcf.gz:1: the file does not start with ##fileformat=VCF",
        ),
        (test_data("vcf/1000g_grch37/per_sample_raw_no_fileformat/HG00099.vcf.gz"), "HG00099.vcf.gz: empty file"),
        (DATA / "vcf/sv/StructuralVariantAnnotation/manta-0.29.6.vcf", "manta-0.29.6.vcf:141: malformed record"),
    ],
    ids=["no fileformat line", "empty file", "record htslib cannot parse"],
)
async def test_unreadable_files_are_input_errors(store: SqliteStore, path: Path, message: str) -> None:
    with pytest.raises(InputError, match=message):
        await load_vcf([path], VcfOptions("t", "GRCh37"), store)
    assert await store.datasets() == []


@pytest.mark.parametrize("path", SV_FILES, ids=lambda p: p.name)
async def test_every_structural_variant_is_stored_or_reported(path: Path) -> None:
    if path.name == "manta-0.29.6.vcf":
        pytest.skip("its last record cannot be parsed by htslib: covered by test_unreadable_files_are_input_errors")
    report = await load_vcf([path], VcfOptions("sv", "GRCh37"), None)
    alts = sum(len(r.ALT) for r in VCF(str(path)))
    accounted = report.variants_written + len(report.problems) + sum(report.skipped.values())
    # A rejected record may carry several ALT alleles; every allele is written, skipped or in a rejected record.
    assert (
        report.variants_written + sum(report.skipped.values())
        <= alts
        <= accounted + sum(len(r.ALT) - 1 for r in VCF(str(path)))
    )
    assert report.records_read == sum(1 for _ in VCF(str(path)))


async def test_vcf_variants_join_bff_metadata_in_one_dataset(store: SqliteStore) -> None:
    await load_bff(CINECA, "cin", store, assembly="GRCh37")
    vcf = G1K / "cineca_uk1_chr22_annotated_2504samples.vcf.gz"
    report = await load_vcf([vcf], VcfOptions("cin", "GRCh37"), store)
    assert report.samples == 2504
    people = await store.count_by_dataset(Query("individuals", ("cin",)))
    assert people == {"cin": 2504}
    variants = await store.count_by_dataset(Query("g_variants", ("cin",)))
    assert variants["cin"] == 1004 + report.variants_written
    annotated = [d for d in await store.find(Query("g_variants", ("cin",), Compare(Field.ID, "=", "22:16050075:A>G")))]
    assert annotated[0]["molecularAttributes"]["geneIds"] == ["CHR_START-DUXAP8"]
    again = await load_vcf([vcf], VcfOptions("cin", "GRCh37"), store)
    assert again.unchanged


def _count_variants(db: Path, dataset: str) -> int:
    async def count() -> int:
        s = SqliteStore(db)
        await s.open()
        try:
            return (await s.count_by_dataset(Query("g_variants", (dataset,)))).get(dataset, 0)
        finally:
            await s.close()

    return asyncio.run(count())


def test_kill_9_during_ingest_leaves_the_previous_version_intact(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    store = f"sqlite:///{db}"
    ingest = [sys.executable, "-m", "ingest", "vcf", "--dataset", "d", "--assembly", "GRCh37", "--store", store]
    first = subprocess.run(
        [*ingest, str(FIXTURES / "multiallelic_indel_needs_trim.vcf")], capture_output=True, check=False
    )
    assert first.returncode == 0, first.stderr
    assert _count_variants(db, "d") == 3
    big = large_data("vcf/1000g_grch37/1000G_phase3_chr22_99samples.vcf.gz")
    process = subprocess.Popen([*ingest, str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # Kill once the load is writing: the WAL file grows past its first pages.
    while time.monotonic() < deadline and process.poll() is None:
        wal = db.with_name(db.name + "-wal")
        if wal.exists() and wal.stat().st_size > 4_000_000:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the load finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert _count_variants(db, "d") == 3


async def test_liftover_at_ingest_stores_target_coordinates_and_reports_the_rest(store: SqliteStore) -> None:
    options = VcfOptions(
        "lifted", "GRCh37", chain=FIXTURES / "grch37_to_grch38_chr1_shift_100.chain", target_assembly="hg38"
    )
    report = await load_vcf([FIXTURES / "chr1_and_chr2_for_liftover.vcf"], options, store)
    assert [str(p) for p in report.problems] == [
        "chr1_and_chr2_for_liftover.vcf:8: POS: not liftable: 2:5000 on GRCh37 has no unique position on GRCh38"
    ]
    docs = await store.find(Query("g_variants", ("lifted",)))
    assert [d["variantInternalId"] for d in docs] == ["1:66481:TATATA>T", "1:70100:DEL:71100:sv1"]
    assert docs[0]["identifiers"]["genomicHGVSId"] == "NC_000001.11:g.66482_66486del"
    (info,) = await store.datasets()
    assert info.assembly == "GRCh38"


async def test_chain_and_target_assembly_go_together(store: SqliteStore) -> None:
    options = VcfOptions("x", "GRCh37", chain=FIXTURES / "grch37_to_grch38_chr1_shift_100.chain")
    with pytest.raises(InputError, match="--chain and --target-assembly go together"):
        await load_vcf([FIXTURES / "chr1_and_chr2_for_liftover.vcf"], options, store)


async def test_fasta_left_aligns_indels_and_reports_ref_mismatches(store: SqliteStore) -> None:
    options = VcfOptions("norm", "GRCh37", fasta=FIXTURES / "repeat_reference.fa")
    report = await load_vcf([FIXTURES / "deletion_right_of_a_repeat.vcf"], options, store)
    assert [str(p) for p in report.problems] == [
        "deletion_right_of_a_repeat.vcf:7: REF: REF T does not match the reference (G)"
    ]
    ids = [d["variantInternalId"] for d in await store.find(Query("g_variants", ("norm",)))]
    # GGGGG|CACACA|GGGGG: deleting or inserting one CA unit shifts to the G before the repeat; a lone C
    # inserted after the repeat's last A has no other place giving the same sequence, so it stays.
    assert ids == ["1:5:GCA>G", "1:13:A>AC", "1:5:G>GCA", "1:16:G>T"]


def test_reference_reads_across_lines_and_from_gzip(tmp_path: Path) -> None:
    import gzip as gz

    from ingest.vcf.fasta import Reference

    plain = Reference.open(FIXTURES / "repeat_reference.fa")
    assert plain.fetch("1", 9, 5) == "ACACA"
    assert plain.fetch("1", 17, 5) == "GG"
    plain.close()
    packed = tmp_path / "r.fa.gz"
    packed.write_bytes(gz.compress((FIXTURES / "repeat_reference.fa").read_bytes()))
    zipped = Reference.open(packed)
    assert zipped.fetch("1", 9, 5) == "ACACA"
