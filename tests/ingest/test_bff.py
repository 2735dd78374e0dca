"""BFF loading on real data in both layouts and on tiny fixtures named for what they pin."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import Compare, Field, Query
from beacon.store.base import DatasetInfo
from beacon.store.sqlite import SqliteStore
from ingest.bff import BffReport, load_bff
from ingest.errors import InputError, RejectedRecords
from tests.conftest import CINECA, CINECA_ID, PI_TEST

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "bff"
PI_FORMAT = CINECA / "pi-format"
FILE_OF = {"datasets": "datasets", "cohorts": "cohorts", "individuals": "individuals", "biosamples": "biosamples",
           "runs": "runs", "analyses": "analyses", "g_variants": "genomicVariations"}  # fmt: skip
ZYGOSITY = {"01": "GENO:0000458", "10": "GENO:0000458", "11": "GENO:0000136"}
SUFFIXES = pytest.mark.parametrize("suffix", [".json", ".json.gz"], ids=["plain JSON", "gzipped JSON"])

Genotypes = dict[str, dict[str, str]]


def read_array(path: Path) -> list[Any]:
    with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as handle:
        data: list[Any] = json.load(handle)
    return data


def materialise(fixture: str, suffix: str, into: Path) -> Path:
    """A copy of a fixture folder whose files end in `suffix` (gzipped for `.json.gz`)."""
    target = into / fixture
    target.mkdir()
    for source in (FIXTURES / fixture).iterdir():
        data = source.read_bytes()
        if suffix == ".json.gz":
            (target / f"{source.name}.gz").write_bytes(gzip.compress(data))
        else:
            (target / source.name).write_bytes(data)
    return target


@asynccontextmanager
async def opened(path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(path)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def counts(store: SqliteStore, dataset: str) -> dict[str, int]:
    out = {}
    for collection in FILE_OF:
        found = await store.count_by_dataset(Query(collection, (dataset,)))
        out[collection] = found.get(dataset, 0)
    return out


async def ids(store: SqliteStore, collection: str, dataset: str) -> list[str]:
    key = "variantInternalId" if collection == "g_variants" else "id"
    return [doc[key] for doc in await store.find(Query(collection, (dataset,)))]


async def info(store: SqliteStore, dataset: str) -> DatasetInfo:
    (found,) = [d for d in await store.datasets() if d.id == dataset]
    return found


@dataclass(frozen=True)
class Loaded:
    """A store file loaded once per module, and the report of each load by dataset id."""

    path: Path
    reports: dict[str, BffReport]


def load_once(path: Path, loads: list[tuple[Path, str, str | None]], on_error: str = "repair") -> Loaded:
    async def run() -> dict[str, BffReport]:
        async with opened(path) as store:
            return {
                dataset: await load_bff(folder, dataset, store, assembly=assembly, on_error=on_error)
                for folder, dataset, assembly in loads
            }

    return Loaded(path, asyncio.run(run()))


@pytest.fixture(scope="module")
def classic(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    return load_once(tmp_path_factory.mktemp("classic") / "b.db", [(CINECA, CINECA_ID, "GRCh37")])


@pytest.fixture(scope="module")
def pi(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    loads = [(PI_FORMAT, CINECA_ID, "GRCh37"), (PI_TEST / "test", "test", None), (PI_TEST / "test2", "test2", None)]
    return load_once(tmp_path_factory.mktemp("pi") / "b.db", loads)


@pytest.fixture(scope="module")
def pi_skip(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """The PI test fixtures loaded with `--on-error skip`: invalid records rejected whole."""
    loads: list[tuple[Path, str, str | None]] = [(PI_TEST / "test", "test", None), (PI_TEST / "test2", "test2", None)]
    return load_once(tmp_path_factory.mktemp("pi_skip") / "b.db", loads, on_error="skip")


@pytest.fixture(scope="module")
def cineca_variants() -> list[dict[str, Any]]:
    return read_array(CINECA / "genomicVariations.json.gz")


@pytest.fixture(scope="module")
def cineca_counts(cineca_variants: list[dict[str, Any]]) -> dict[str, int]:
    """Records per collection straight from the classic files; a repeated variant id counts once."""
    found = {c: len(read_array(CINECA / f"{name}.json.gz")) for c, name in FILE_OF.items() if c != "g_variants"}
    return found | {"g_variants": len({v["variantInternalId"] for v in cineca_variants})}


@pytest.fixture(scope="module")
def pi_genotypes() -> Genotypes:
    """PI layout carriers straight from the files: variant id -> biosample id -> genotype code."""
    (target,) = read_array(PI_FORMAT / "targets.json.gz")
    columns = target["biosampleIds"]
    rows = read_array(PI_FORMAT / "caseLevelData.json.gz")
    return {row["_id"]: {columns[int(k)]: code for k, code in row.items() if k.isdigit()} for row in rows}


@pytest.fixture(scope="module")
def pi_individual_of() -> dict[str, str]:
    return {b["id"]: b["individualId"] for b in read_array(PI_FORMAT / "biosamples.json.gz")}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with opened(tmp_path / "b.db") as s:
        yield s


def test_cineca_variants_repeat_exactly_one_record_identically(cineca_variants: list[dict[str, Any]]) -> None:
    texts: dict[str, list[str]] = {}
    for variant in cineca_variants:
        texts.setdefault(variant["variantInternalId"], []).append(json.dumps(variant))
    repeated = {vid: copies for vid, copies in texts.items() if len(copies) > 1}
    assert len(cineca_variants) == 1005
    assert list(repeated) == ["chr22_16139876_C_T"]
    assert len(repeated["chr22_16139876_C_T"]) == 2
    assert len(set(repeated["chr22_16139876_C_T"])) == 1


async def test_classic_cineca_stores_every_record_once(
    classic: Loaded, cineca_counts: dict[str, int], cineca_variants: list[dict[str, Any]]
) -> None:
    report = classic.reports[CINECA_ID]
    async with opened(classic.path) as store:
        stored = await counts(store, CINECA_ID)
        repeated = await store.find(Query("g_variants", (CINECA_ID,), Compare(Field.ID, "=", "chr22_16139876_C_T")))
        loaded = await info(store, CINECA_ID)
    assert cineca_counts["individuals"] == 2504
    assert cineca_counts["g_variants"] == 1004
    assert stored == cineca_counts
    assert report.counts == cineca_counts
    assert repeated == [v for v in cineca_variants if v["variantInternalId"] == "chr22_16139876_C_T"][:1]
    assert (report.exact_duplicates, report.problems, report.other_datasets) == (1, [], 0)
    assert loaded.assembly == "GRCh37"


async def test_pi_layout_stores_every_record_of_its_files(pi: Loaded) -> None:
    expected = {
        c: len(read_array(PI_FORMAT / f"{name}.json.gz")) for c, name in FILE_OF.items() if c != "individuals"
    } | {"individuals": 0}
    report = pi.reports[CINECA_ID]
    async with opened(pi.path) as store:
        assert await counts(store, CINECA_ID) == expected
    assert report.problems == []
    assert report.counts == {c: n for c, n in expected.items() if n}


PICKS: dict[str, Callable[[Genotypes], str]] = {
    "the first variant of the file": lambda g: next(iter(g)),
    "the last variant of the file": lambda g: list(g)[-1],
    "the variant with the most carriers": lambda g: max(g, key=lambda v: len(g[v])),
    "a variant with a single carrier": lambda g: next(v for v in g if len(g[v]) == 1),
    "a variant without carriers": lambda g: next(v for v in g if not g[v]),
    "a variant with genotypes 01, 10 and 11": lambda g: next(v for v in g if set(g[v].values()) == set(ZYGOSITY)),
}


@pytest.mark.parametrize("pick", PICKS)
async def test_pi_layout_carriers_are_the_targets_columns_of_case_level_data(
    pi: Loaded, pi_genotypes: Genotypes, pi_individual_of: dict[str, str], pick: str
) -> None:
    vid = PICKS[pick](pi_genotypes)
    genotypes = pi_genotypes[vid]
    query = Query("g_variants", (CINECA_ID,), Compare(Field.ID, "=", vid))
    async with opened(pi.path) as store:
        (doc,) = await store.find(query)
        individuals = await store.distinct_keys(query, "individual")
    carriers = doc.get("caseLevelData", [])
    assert sorted(c["biosampleId"] for c in carriers) == sorted(genotypes)
    assert {c["biosampleId"]: c["zygosity"]["id"] for c in carriers} == {
        sample: ZYGOSITY[code] for sample, code in genotypes.items()
    }
    assert sorted(individuals) == sorted({pi_individual_of[sample] for sample in genotypes})


@pytest.mark.parametrize(
    ("code", "zygosity"),
    [("11", "GENO:0000136"), ("01", "GENO:0000458"), ("10", "GENO:0000458")],
    ids=["genotype 11 is homozygous", "genotype 01 is heterozygous", "genotype 10 is heterozygous"],
)
async def test_pi_layout_genotype_codes_become_zygosity_terms(
    pi: Loaded, pi_genotypes: Genotypes, code: str, zygosity: str
) -> None:
    vid, sample = next((v, s) for v, row in pi_genotypes.items() for s, c in row.items() if c == code)
    async with opened(pi.path) as store:
        (doc,) = await store.find(Query("g_variants", (CINECA_ID,), Compare(Field.ID, "=", vid)))
    assert [c["zygosity"]["id"] for c in doc["caseLevelData"] if c["biosampleId"] == sample] == [zygosity]


async def test_pi_layout_takes_the_chromosome_from_the_refseq_accession(pi: Loaded) -> None:
    async with opened(pi.path) as store:
        on_22 = await store.count_by_dataset(Query("g_variants", (CINECA_ID,), Compare(Field.CHROM, "=", "22")))
        everywhere = await store.count_by_dataset(Query("g_variants", (CINECA_ID,)))
    assert on_22 == everywhere == {CINECA_ID: 999}


async def test_pi_test_fixture_under_skip_rejects_every_individual_and_biosample_with_its_location(
    pi_skip: Loaded,
) -> None:
    report = pi_skip.reports["test"]
    async with opened(pi_skip.path) as store:
        stored = await counts(store, "test")
        loaded = await info(store, "test")
    assert [(p.file, p.record) for p in report.problems] == [
        *(("individuals.json.gz", n) for n in range(20)),
        *(("biosamples.json.gz", n) for n in range(20)),
    ]
    assert [p.message[p.message.rindex(" (id ") :] for p in report.problems] == [
        f" (id SAMPLE{n})" for n in range(1, 21)
    ] * 2
    assert all(p.path.startswith("$") for p in report.problems)
    assert str(report.problems[0]).startswith("individuals.json.gz: record 0: $.measures[0].procedure.ageAtProcedure: ")
    assert stored == {
        "datasets": 1, "cohorts": 1, "individuals": 0, "biosamples": 0, "runs": 1, "analyses": 1, "g_variants": 41,
    }  # fmt: skip
    assert loaded.assembly == "GRCh37"


async def test_pi_test2_fixture_under_skip_rejects_its_one_individual_for_a_list_measurement_value(
    pi_skip: Loaded,
) -> None:
    (problem,) = pi_skip.reports["test2"].problems
    async with opened(pi_skip.path) as store:
        stored = await counts(store, "test2")
    assert (problem.file, problem.record, problem.path) == ("individuals.json.gz", 0, "$.measures[0].measurementValue")
    assert problem.message.endswith("is not valid under any of the schemas listed in the 'oneOf' keyword (id NONE)")
    assert stored == {c: int(c == "datasets") for c in FILE_OF}


async def test_pi_layout_carriers_name_individuals_through_their_biosamples(store: SqliteStore) -> None:
    report = await load_bff(FIXTURES / "pi_layout_biosamples_name_their_individuals", "x", store)
    docs = {doc["variantInternalId"]: doc for doc in await store.find(Query("g_variants", ("x",)))}
    carriers = {vid: {c["biosampleId"]: c["zygosity"]["id"] for c in doc["caseLevelData"]} for vid, doc in docs.items()}
    individuals = {
        vid: await store.distinct_keys(Query("g_variants", ("x",), Compare(Field.ID, "=", vid)), "individual")
        for vid in docs
    }
    assert report.problems == []
    assert carriers == {"V1": {"S1": "GENO:0000136", "S3": "GENO:0000458"}, "V2": {"S2": "GENO:0000134"}}
    assert individuals == {"V1": ["P1"], "V2": ["P2"]}
    assert (await info(store, "x")).assembly == "GRCh37"
    assert await store.count_by_dataset(Query("g_variants", ("x",), Compare(Field.CHROM, "=", "X"))) == {"x": 1}


@SUFFIXES
@pytest.mark.parametrize(
    ("fixture", "rejected", "kept"),
    [
        pytest.param("record_without_id", ["individuals{}: record 0: $.id: missing or not a non-empty string"], ["P2"],
                     id="a record without id is rejected at $.id"),
        pytest.param("item_not_an_object", ["individuals{}: record 0: $: expected an object, got str"], ["P2"],
                     id="an item that is not an object is rejected"),
        pytest.param("duplicate_id_different_content",
                     ["individuals{}: record 1: $.id: duplicate id 'P1' with different content"], ["P1"],
                     id="a second record with the same id and other content is rejected"),
        pytest.param("one_individual_without_sex",
                     ['individuals{}: record 1: $: "sex" is a required property (id P2)'], ["P1", "P3"],
                     id="a record missing a required property is rejected"),
        pytest.param("invalid_individual_sex_not_object",
                     ['individuals{}: record 1: $.sex: "male" is not of type "object" (id P2)'], ["P1"],
                     id="a record with a wrongly typed property is rejected at its path"),
        pytest.param("invalid_biosample_after_valid_individuals",
                     ['biosamples{}: record 1: $: "sampleOriginType" is a required property (id S2)'],
                     ["P1", "P2", "P3"],
                     id="an invalid biosample is rejected and the individuals are kept"),
    ],
)  # fmt: skip
async def test_rejections_name_file_record_path_and_reason(
    store: SqliteStore, tmp_path: Path, suffix: str, fixture: str, rejected: list[str], kept: list[str]
) -> None:
    folder = await asyncio.to_thread(materialise, fixture, suffix, tmp_path)
    report = await load_bff(folder, "x", store)
    assert [str(p) for p in report.problems] == [line.format(suffix) for line in rejected]
    assert await ids(store, "individuals", "x") == kept


@SUFFIXES
async def test_a_file_that_is_not_json_is_an_input_error_naming_it(
    store: SqliteStore, tmp_path: Path, suffix: str
) -> None:
    folder = await asyncio.to_thread(materialise, "not_json_individuals", suffix, tmp_path)
    with pytest.raises(InputError, match=rf"/individuals{re.escape(suffix)}: not a readable JSON array"):
        await load_bff(folder, "x", store)
    assert await store.datasets() == []


async def test_a_file_holding_an_object_instead_of_an_array_is_an_input_error(store: SqliteStore) -> None:
    with pytest.raises(InputError, match=r"individuals\.json: .*array"):
        await load_bff(FIXTURES / "individuals_object_not_array", "x", store)


@pytest.mark.parametrize(
    ("folder", "assembly", "message"),
    [
        (
            CINECA,
            None,
            r"genomicVariations\.json\.gz: the assembly cannot be inferred from the variants; pass --assembly",
        ),
        (CINECA, "hg99", r"--assembly: unknown assembly 'hg99' \(use GRCh38, GRCh37 or NCBI36\)"),
        (FIXTURES / "missing", None, r"missing: not a directory"),
        (FIXTURES, None, r"no BFF files found \(expected any of datasets\.json\[\.gz\]"),
    ],
    ids=[
        "classic CINECA without an assembly asks for --assembly",
        "an unknown assembly is refused",
        "a missing directory is refused",
        "a folder of folders has no BFF file",
    ],
)
async def test_unusable_input_is_an_input_error(
    store: SqliteStore, folder: Path, assembly: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        await load_bff(folder, "x", store, assembly=assembly)
    assert await store.datasets() == []


async def test_an_empty_directory_is_an_input_error(store: SqliteStore, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    await asyncio.to_thread(empty.mkdir)
    with pytest.raises(InputError, match=r"empty: no BFF files found"):
        await load_bff(empty, "x", store)
    assert await store.datasets() == []


async def test_records_naming_another_dataset_are_skipped_and_counted(store: SqliteStore) -> None:
    report = await load_bff(FIXTURES / "individuals_of_another_dataset", "x", store)
    assert report.other_datasets == 1
    assert report.problems == []
    assert await ids(store, "individuals", "x") == ["P1", "P3"]
    assert await ids(store, "individuals", "other") == []


async def test_the_same_input_again_is_a_no_op(store: SqliteStore) -> None:
    first = await load_bff(FIXTURES / "two_individuals", "a", store)
    await load_bff(FIXTURES / "one_individual_without_sex", "b", store)
    before = await store.datasets()
    again = await load_bff(FIXTURES / "two_individuals", "a", store)
    assert (first.unchanged, again.unchanged) == (False, True)
    assert again.counts == first.counts
    assert await store.datasets() == before
    assert await ids(store, "individuals", "a") == ["P1", "P2"]
    assert await ids(store, "individuals", "b") == ["P1", "P3"]


async def test_new_input_replaces_the_dataset_and_spares_the_others(store: SqliteStore) -> None:
    await load_bff(FIXTURES / "invalid_biosample_after_valid_individuals", "a", store)
    await load_bff(FIXTURES / "two_individuals", "b", store)
    other = await info(store, "b")
    assert (await ids(store, "individuals", "a"), await ids(store, "biosamples", "a")) == (["P1", "P2", "P3"], ["S1"])
    # The new input has no biosamples: dropping the previous one is asked for (tests/ingest/test_safeguard.py).
    report = await load_bff(FIXTURES / "one_individual_without_sex", "a", store, allow_empty=True)
    assert report.unchanged is False
    assert (await ids(store, "individuals", "a"), await ids(store, "biosamples", "a")) == (["P1", "P3"], [])
    assert (await counts(store, "a"))["individuals"] == 2
    assert await info(store, "b") == other
    assert await ids(store, "individuals", "b") == ["P1", "P2"]


async def test_fail_mode_raises_and_keeps_the_previous_version_whole(store: SqliteStore) -> None:
    await load_bff(FIXTURES / "two_individuals", "a", store)
    before = (await store.datasets(), await counts(store, "a"), await ids(store, "individuals", "a"))
    message = (
        r'^biosamples\.json: record 1: \$: "sampleOriginType" is a required property \(id S2\); nothing was loaded$'
    )
    with pytest.raises(RejectedRecords, match=message) as raised:
        await load_bff(FIXTURES / "invalid_biosample_after_valid_individuals", "a", store, on_error="fail")
    assert len(raised.value.problems) == 1
    assert (await store.datasets(), await counts(store, "a"), await ids(store, "individuals", "a")) == before


async def test_fail_mode_on_a_new_dataset_stores_nothing(store: SqliteStore) -> None:
    with pytest.raises(RejectedRecords, match=r"individuals\.json: record 1: \$\.sex: "):
        await load_bff(FIXTURES / "invalid_individual_sex_not_object", "a", store, on_error="fail")
    assert await store.datasets() == []
    assert await counts(store, "a") == dict.fromkeys(FILE_OF, 0)


async def test_fail_mode_rejects_input_that_was_loaded_before_in_skip_mode(store: SqliteStore) -> None:
    await load_bff(FIXTURES / "one_individual_without_sex", "a", store)
    with pytest.raises(RejectedRecords, match=r'"sex" is a required property \(id P2\)'):
        await load_bff(FIXTURES / "one_individual_without_sex", "a", store, on_error="fail")
