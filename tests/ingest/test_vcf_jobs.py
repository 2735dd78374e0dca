"""`beacon-ingest vcf --jobs N`: parsers over regions of an indexed VCF store exactly what one parser stores.

Every table row for row (record numbers included), the report (counts, skips, problems on the file's
lines), progress, on small fixtures cut into many regions and on the 190k-record chr22 file; the
fallback to one parser, with one line saying why; every parser ends when the ingest is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import Query
from beacon.store.base import Store
from beacon.store.sqlite import SqliteStore
from ingest import entry
from ingest.errors import InputError, RejectedRecords
from ingest.vcf import load as vcf_load
from ingest.vcf import parallel, regions
from ingest.vcf.load import VcfOptions, load_vcf
from ingest.vcf.parallel import _relined, default_jobs
from ingest.vcf.parse import VcfReport
from ingest.vcf.regions import CONTIG_END, NotSplittable, Region, split
from tests.backends import load_into, new_mongo_source
from tests.conftest import large_data
from tests.ingest.htslib_files import bgzip, index
from tests.ingest.test_vcf_rows import rows_of

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vcf"
SLICE = FIXTURES / "g1k_chr22_20.0-20.3Mb_5samples.vcf.gz"
CHR22 = "vcf/1000g_grch37/1000G_phase3_chr22_99samples.vcf.gz"
_HEADER = """##fileformat=VCFv4.2
##contig=<ID=1>
##contig=<ID=2>
##contig=<ID=chrUn_weird>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""


def _fixture() -> str:
    """Records over three 16 kb windows of two contigs, with problems and duplicates where regions are cut.

    The indel at 16383 trims to 16385 G>T, which is also the next record, across the cut at 16384: the
    second is a duplicate only if the region after the cut reads what came before it. The contig
    `chrUn_weird` is unknown: its records are problems, with their lines.
    """
    rows = [("1", 100, "A", "G"), ("1", 16383, "CAG", "CAT"), ("1", 16385, "G", "T"), ("1", 16390, "A", "C,AT")]
    rows += [("1", 16500 + 7 * i, "C", "T") for i in range(40)]
    rows += [("1", 40000, "T", "TA"), ("1", 40000, "T", "TA"), ("1", 50000, "G", "<DEL>")]
    rows += [("2", 5, "C", "A"), ("2", 20000, "A", "AAA")]
    rows += [("chrUn_weird", 10, "A", "C"), ("chrUn_weird", 30000, "G", "A")]
    body = "".join(f"{c}\t{p}\t.\t{r}\t{a}\t50\tPASS\t.\n" for c, p, r, a in rows)
    return _HEADER + body


def _written(path: Path) -> Path:
    path.write_text(_fixture())
    return path


def _indexed(tmp_path: Path, text: str, *, csi: bool = False) -> Path:
    path = bgzip(text, tmp_path / "f.vcf.gz")
    index(path, csi=csi)
    return path


async def _load(
    path: Path, db: Path, jobs: int, *, sites_only: bool = False, on_error: str = "skip", **kwargs: Any
) -> VcfReport:
    store = SqliteStore(db)
    await store.open()
    try:
        options = VcfOptions("d", "GRCh37", sites_only=sites_only, on_error=on_error, jobs=jobs)
        return await load_vcf([path], options, store, parse_in_child=True, **kwargs)
    finally:
        await store.close()


def _same(one: VcfReport, many: VcfReport) -> None:
    assert (many.records_read, many.variants_written, many.samples) == (
        one.records_read,
        one.variants_written,
        one.samples,
    )
    assert many.skipped == one.skipped
    assert [str(p) for p in many.problems] == [str(p) for p in one.problems]


@pytest.fixture
def chr22() -> Path:
    return large_data(CHR22)


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut at every finest index bin, so a small file becomes many regions."""
    monkeypatch.setattr(regions, "PIECE_BYTES", 0)


def test_regions_cover_every_record_once_in_file_order() -> None:
    from cyvcf2 import VCF

    cut = split([SLICE], pieces_of=0)
    assert len(cut) > 5
    assert cut[0].start == 1
    assert cut[-1].end == CONTIG_END
    assert all(a.end + 1 == b.start for a, b in zip(cut, cut[1:], strict=False))
    vcf = VCF(str(SLICE), samples=[])
    whole = [(r.CHROM, r.POS, r.REF) for r in VCF(str(SLICE), samples=[])]
    pieces = [(r.CHROM, r.POS, r.REF) for g in cut for r in vcf(g.query()) if g.start <= r.POS <= g.end]
    assert pieces == whole


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize("csi", [False, True], ids=["with a tabix index", "with a CSI index"])
async def test_many_parsers_store_what_one_stores_problems_duplicates_and_all(tmp_path: Path, csi: bool) -> None:
    path = await asyncio.to_thread(_indexed, tmp_path, _fixture(), csi=csi)
    assert len(await asyncio.to_thread(split, [path])) >= 4
    one = await _load(path, tmp_path / "one.db", 1)
    many = await _load(path, tmp_path / "many.db", 3)
    assert one.skipped.get("exact duplicate") == 2, "the fixture no longer pins duplicates"
    assert [p.record for p in one.problems] == [52, 55, 56]  # <DEL> without END, the chrUn_weird lines
    _same(one, many)
    assert await asyncio.to_thread(rows_of, tmp_path / "many.db") == await asyncio.to_thread(
        rows_of, tmp_path / "one.db"
    )


def _repeat(tmp_path: Path) -> tuple[Path, Path]:
    """A (CA)300 repeat at 16001-16600 in G, and two deletions of one CA: at 16000 (left-aligned already) and
    at 16500, in the next 16 kb window, which left-aligns onto the first: a duplicate 500 bases back."""
    fasta = tmp_path / "r.fa"
    sequence = "G" * 16000 + "CA" * 300 + "G" * 24000
    fasta.write_text(">1\n" + "\n".join(sequence[i : i + 60] for i in range(0, len(sequence), 60)) + "\n")
    rows = [("1", 100, "G", "T"), ("1", 16000, "GCA", "G"), ("1", 16500, "ACA", "A"), ("1", 16600, "A", "T")]
    body = "".join(f"{c}\t{p}\t.\t{r}\t{a}\t50\tPASS\t.\n" for c, p, r, a in rows)
    return _indexed(tmp_path, _HEADER + body), fasta


@pytest.mark.usefixtures("small_pieces")
async def test_a_duplicate_left_aligned_into_the_region_before_is_found(tmp_path: Path) -> None:
    path, fasta = await asyncio.to_thread(_repeat, tmp_path)
    assert len(await asyncio.to_thread(split, [path])) == 2
    reports = []
    for jobs in (1, 2):
        store = SqliteStore(tmp_path / f"{jobs}.db")
        await store.open()
        try:
            options = VcfOptions("d", "GRCh37", fasta=fasta, jobs=jobs)
            reports.append(await load_vcf([path], options, store, parse_in_child=True))
        finally:
            await store.close()
    one, many = reports
    assert one.skipped == {"exact duplicate": 1}
    _same(one, many)
    assert await asyncio.to_thread(rows_of, tmp_path / "2.db") == await asyncio.to_thread(rows_of, tmp_path / "1.db")


@pytest.mark.usefixtures("small_pieces")
async def test_the_first_bad_record_fails_the_load_on_its_line(tmp_path: Path) -> None:
    path = await asyncio.to_thread(_indexed, tmp_path, _fixture())
    for jobs in (1, 3):
        with pytest.raises(RejectedRecords, match=r"^f\.vcf\.gz:52: ALT: <DEL> without INFO/END"):
            await _load(path, tmp_path / f"{jobs}.db", jobs, on_error="fail")


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize("sites_only", [False, True], ids=["with genotypes", "sites only"])
async def test_a_1000_genomes_slice_in_many_regions_loads_identically(tmp_path: Path, sites_only: bool) -> None:
    one = await _load(SLICE, tmp_path / "one.db", 1, sites_only=sites_only)
    many = await _load(SLICE, tmp_path / "many.db", 2, sites_only=sites_only)
    _same(one, many)
    assert many.records_read == 1_663
    assert await asyncio.to_thread(rows_of, tmp_path / "many.db") == await asyncio.to_thread(
        rows_of, tmp_path / "one.db"
    )


async def _read_back(store: Store) -> dict[str, Any]:
    """What readers get: every record of the variant and sample collections in order, their keys and terms."""
    out: dict[str, Any] = {}
    for coll in ("g_variants", "biosamples", "individuals"):
        out[f"{coll} find"] = await store.find(Query(coll, ("d",), limit=5000))
        for kind in ("biosample", "individual", "hgvs"):
            # Carriers are sets (record_keys reads key rows only): the keys a lookup reads, sets included;
            # each variant's own carriers are in its caseLevelData, rebuilt by find.
            out[f"{coll} {kind}"] = await store.distinct_keys(Query(coll, ("d",)), kind)
        out[f"{coll} terms"] = await store.terms((coll,), ("d",))
    out["datasets"] = [(d.id, dict(d.counts)) for d in await store.datasets()]
    return out


@pytest.mark.usefixtures("small_pieces")
async def test_in_mongodb_too_many_parsers_store_what_one_stores() -> None:
    sources = [new_mongo_source("jobs1"), new_mongo_source("jobs3")]
    try:
        for source, jobs in zip(sources, (1, 3), strict=True):
            options = VcfOptions("d", "GRCh37", jobs=jobs)
            await load_into(source.store(), lambda s, o=options: load_vcf([SLICE], o, s, parse_in_child=True))
        one, many = [await load_into(source.store(), _read_back) for source in sources]
    finally:
        for source in sources:
            await source.drop()
    assert len(one["g_variants find"]) == 1_699
    assert one["g_variants biosample"]
    assert many == one


async def test_the_chr22_file_with_two_parsers_equals_one(tmp_path: Path, chr22: Path) -> None:
    path = chr22
    seen: dict[int, list[int]] = {1: [], 2: []}
    one = await _load(path, tmp_path / "one.db", 1, sites_only=True, progress=seen[1].append)
    many = await _load(path, tmp_path / "many.db", 2, sites_only=True, progress=seen[2].append)
    assert len(await asyncio.to_thread(split, [path])) > 2
    _same(one, many)
    assert seen[2] == seen[1] == list(range(10_000, 190_001, 10_000))
    assert await asyncio.to_thread(rows_of, tmp_path / "many.db") == await asyncio.to_thread(
        rows_of, tmp_path / "one.db"
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: _written(d / "f.vcf"), "f.vcf is not compressed, not bgzipped"),
        (lambda d: bgzip(_fixture(), d / "f.vcf.gz"), "f.vcf.gz has no .tbi or .csi index beside it"),
    ],
    ids=["a plain VCF", "a bgzipped VCF without index"],
)
async def test_without_an_index_one_parser_loads_and_one_line_says_why(tmp_path: Path, make: Any, reason: str) -> None:
    path = await asyncio.to_thread(make, tmp_path)
    said: list[str] = []
    report = await _load(path, tmp_path / "s.db", 2, notice=said.append)
    assert said == [
        f"one VCF parser, not 2: {reason}"
        + (" (make one with `tabix -p vcf`)" if "index" in reason else ": regions cannot be read on their own")
    ]
    assert report.variants_written > 40


def test_jobs_must_be_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        entry.main(["vcf", str(SLICE), "--dataset", "d", "--assembly", "GRCh37", "--jobs", "0"])
    assert exited.value.code == 2
    assert "argument --jobs: expected a whole number of 1 or more, got '0'" in capsys.readouterr().err


def test_the_cli_says_in_one_line_why_one_parser_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _written(tmp_path / "f.vcf")
    argv = ["vcf", str(path), "--dataset", "d", "--assembly", "GRCh37", "--jobs", "2", "--store"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vcf_load, "CHILD_FROM_BYTES", 0)
        assert entry.main([*argv, f"sqlite:///{tmp_path / 's.db'}"]) == 0
    err = capsys.readouterr().err
    assert "one VCF parser, not 2: f.vcf is not compressed, not bgzipped: regions cannot be read on their own\n" in err


def test_a_broken_index_is_not_split(tmp_path: Path) -> None:
    path = _indexed(tmp_path, _fixture())
    path.with_name(path.name + ".tbi").write_bytes(b"not an index")
    with pytest.raises(NotSplittable, match=r"^f\.vcf\.gz\.tbi: not a readable index"):
        split([path])


def test_region_messages_name_the_files_lines() -> None:
    assert _relined("f.vcf.gz:12: malformed record (x)", "f.vcf.gz", 100) == "f.vcf.gz:112: malformed record (x)"
    assert _relined("f.vcf.gz: after line 7: not UTF-8", "f.vcf.gz", 3) == "f.vcf.gz: after line 10: not UTF-8"
    assert _relined("f.vcf.gz: the parser process ended after 4 records", "f.vcf.gz", 9).endswith("after 4 records")
    assert Region(0, "22", 2500, 9000).query(1000) == "22:1500-9000"
    assert Region(0, "22", 10, 90).query(1000) == "22:1-90"


def test_the_default_is_one_parser_per_cpu_but_the_writers_capped_by_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_available_memory", lambda: 64 << 30)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: set(range(8)))
    assert default_jobs() == 7
    monkeypatch.setattr(parallel, "_available_memory", lambda: (3 << 30) + (1 << 29))
    assert default_jobs() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0})
    assert default_jobs() == 1
    monkeypatch.setattr(parallel, "_available_memory", lambda: (1 << 30) + (1 << 29))
    assert default_jobs() == 1
    monkeypatch.setattr(parallel, "_available_memory", lambda: 0)
    assert default_jobs() == 1


async def test_a_parser_that_dies_fails_the_load_and_stores_nothing(tmp_path: Path, chr22: Path) -> None:
    def kill_children(_: int) -> None:
        for task in Path(f"/proc/{os.getpid()}/task").iterdir():
            try:  # a thread (the readers of earlier loads) may end while it is looked at
                children = (task / "children").read_text().split()
            except FileNotFoundError:
                continue
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(child), signal.SIGKILL)

    path = chr22
    with pytest.raises(InputError, match=r"parser process ended unexpectedly after \d+ records \(exit status -9\)"):
        await _load(path, tmp_path / "s.db", 2, sites_only=True, progress=kill_children)
    assert (await asyncio.to_thread(rows_of, tmp_path / "s.db"))["records"] == []


def test_every_parser_ends_when_the_ingest_is_killed(tmp_path: Path) -> None:
    path = large_data(CHR22)
    argv = [sys.executable, "-m", "ingest", "vcf", str(path), "--dataset", "d", "--assembly", "GRCh37",
            "--sites-only", "--jobs", "2", "--store", f"sqlite:///{tmp_path / 'k.db'}"]  # fmt: skip
    parent = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    children: set[int] = set()
    deadline = time.monotonic() + 60
    while len(children) < 2 and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.05)
        for task in Path(f"/proc/{parent.pid}/task").iterdir():
            children |= {int(c) for c in (task / "children").read_text().split()}
    assert len(children) == 2, "two parser processes were not started"
    time.sleep(1.0)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    alive = set(children)
    while alive and time.monotonic() < deadline:
        alive = {c for c in alive if Path(f"/proc/{c}").exists() and "zombie" not in _status(c)}
        time.sleep(0.05)
    assert not alive, "a parser outlived its ingest"


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return "zombie"
