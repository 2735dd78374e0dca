"""Attacks on SQLite schema 5 (populations rows, own ids read from the id column, bins gathered per batch).

Every attack runs through the real HTTP API on both backends (SQLite, and MongoDB or its stand-in) over
three datasets: an open one answered at record granularity, a floored one (count granularity, floor 5)
and a controlled one nobody here holds a visa for. The controlled dataset shares variant ids with the
open one and adds populations only it holds; its individuals share id prefixes with the open ones.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.model.entry_types import EntryTypeTable
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.store.base import DatasetLoad, Store, Tombstone
from beacon.store.loading import dataset_load
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from tests.backends import LoadedStores, load_into, loaded_stores, new_mongo_source
from tests.conftest import AiohttpClient, fetch, make_config
from tests.documents import snp_variation
from tests.security.issuers import CTL_VISA
from tests.store.test_sqlite_bins import FORGET_STAMP, bins_content, run

OPEN, FLOORED, HIDDEN = "open5", "floor5", "hidden5"
FLOOR = 5
POLICIES = (
    DatasetPolicy(OPEN, SecurityLevel.PUBLIC, granularity={"anonymous": Granularity.RECORD}),
    DatasetPolicy(FLOORED, SecurityLevel.PUBLIC, granularity={"anonymous": Granularity.COUNT}, count_floor=FLOOR),
    DatasetPolicy(HIDDEN, SecurityLevel.CONTROLLED, visas=(CTL_VISA,)),
)
SECRET_POP = "Zzq"  # an ancestry only the controlled dataset's variants were observed in
SHARED = "22:100:A>G"  # a variant id both the open and the controlled dataset hold
# Two ids sharing their first 256 characters (text values are cut there), and one just shorter.
# An individual of each dataset under one id, annotated with a `population:` term (held as a populations row).
SHARED_IND = "shared-ind"
LONG_A = "L" * 256 + "-alpha"
LONG_B = "L" * 256 + "-beta"
ALMOST = "L" * 255
OPEN_IDS = (
    "ind_1",
    "indX1",
    "50%",
    "5000",
    "42",
    "P1D",
    "a\\b",
    "it's",
    SHARED_IND,
    "Élan",
    "\u212a9",  # KELVIN SIGN, which Unicode case folding (not SQLite's LIKE) takes for k
    LONG_A,
    LONG_B,
    ALMOST,
)
HIDDEN_IDS = ("ind_1-hidden", "ind_1-h2", "42-hidden", "P1D", LONG_A + "-hidden", SHARED_IND)


def _frequencies(populations: tuple[str, ...]) -> list[dict[str, Any]]:
    entries = [{"population": p, "alleleFrequency": 0.1, "alleleCount": 5, "alleleNumber": 50} for p in populations]
    return [{"source": "test", "sourceReference": "https://example.org/t", "version": "1", "frequencies": entries}]


def _variant(vid: str, start: int, populations: tuple[str, ...]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "variantInternalId": vid,
        "variation": snp_variation("refseq:NC_000022.11", start, "A", "G"),
    }
    if populations:
        doc["frequencyInPopulations"] = _frequencies(populations)
    return doc


def _individual(iid: str, dataset: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": iid, "sex": {"id": "NCIT:C16576", "label": "female"}}
    if iid == SHARED_IND:
        population = {HIDDEN: SECRET_POP, FLOORED: FLOORED_POP}.get(dataset, "NL")
        doc["ethnicity"] = {"id": f"population:{population}", "label": "annotated"}
    if (iid, dataset) in ((SHARED_IND, HIDDEN), ("indX1", OPEN)):
        # DE is in the open dataset's catalog of individuals too, but not on its record under the shared id.
        doc["geographicOrigin"] = {"id": "population:DE", "label": "annotated"}
    return doc


# dataset -> (variants (id, 0-based start, populations), individual ids)
VARIANTS = {
    OPEN: [(SHARED, 99, ("EUR", "NL")), ("22:200:A>G", 199, ("AFR",)), ("22:300:A>G", 299, ())],
    HIDDEN: [(SHARED, 99, ("EUR", "NL", SECRET_POP, "DE")), ("22:900:A>G", 899, (SECRET_POP,))],
    FLOORED: [(f"22:{1000 + i}:A>G", 999 + i, ("EUR",) if i < 3 else ("AFR",)) for i in range(10)],
}
INDIVIDUALS = {OPEN: OPEN_IDS, HIDDEN: HIDDEN_IDS, FLOORED: (*(f"f{i}" for i in range(7)), SHARED_IND)}
# The floored dataset's individual under the shared id holds a population no one else holds, and carries nothing.
FLOORED_POP = "Yyq"


HET = {"id": "GENO:0000458", "label": "heterozygous"}
# dataset -> variant id -> its caseLevelData. Sets where the list takes that form (biosample, zygosity), keys
# where it does not. The hidden dataset's carriers are individuals whose ids the open dataset also holds.
CARRIERS: dict[str, dict[str, list[dict[str, Any]]]] = {
    OPEN: {SHARED: [{"biosampleId": "bs-ind_1", "zygosity": HET}, {"biosampleId": "bs-shared", "zygosity": HET}]},
    HIDDEN: {
        SHARED: [{"biosampleId": "bs-indX1", "zygosity": HET}],
        "22:900:A>G": [
            {"biosampleId": "bs-indX1", "individualId": "indX1", "zygosity": HET},
            {"biosampleId": "bs-shared", "individualId": SHARED_IND, "zygosity": HET},
        ],
    },
}
BIOSAMPLES = {
    OPEN: [("bs-ind_1", "ind_1"), ("bs-shared", SHARED_IND)],
    HIDDEN: [("bs-indX1", "indX1"), ("bs-shared", SHARED_IND)],
}


def write_bff(folder: Path, dataset: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    variants = [_variant(v, s, p) for v, s, p in VARIANTS[dataset]]
    for doc in variants:
        if doc["variantInternalId"] in CARRIERS.get(dataset, {}):
            doc["caseLevelData"] = CARRIERS[dataset][doc["variantInternalId"]]
    biosamples = [
        {
            "id": b,
            "individualId": i,
            "biosampleStatus": {"id": "EFO:0009654", "label": "reference sample"},
            "sampleOriginType": {"id": "OBI:0001479", "label": "specimen from organism"},
        }
        for b, i in BIOSAMPLES.get(dataset, [])
    ]
    (folder / "biosamples.json").write_text(json.dumps(biosamples))
    (folder / "genomicVariations.json").write_text(json.dumps(variants))
    (folder / "individuals.json").write_text(json.dumps([_individual(i, dataset) for i in INDIVIDUALS[dataset]]))
    return folder


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    folder = tmp_path_factory.mktemp("schema5")
    sources = {d: write_bff(folder / d, d) for d in (OPEN, FLOORED, HIDDEN)}

    async def load(store: Store) -> None:
        for dataset, source in sources.items():
            await load_bff(source, dataset, store, assembly="GRCh38")

    yield from loaded_stores("schema5", folder, load)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, loaded: LoadedStores, backend: str) -> TestClient[Any, Any]:
    config = make_config(loaded.sqlite_uri, *POLICIES)
    config = type(config)(**{**config.__dict__, "datasets_default": None})
    return await aiohttp_client(create_app(config, store=loaded.store_for(backend)))


async def _post(
    client: TestClient[Any, Any],
    path: str,
    filters: list[Any],
    *,
    datasets: list[str] | None = None,
    granularity: str = "record",
    params: dict[str, Any] | None = None,
    groups: list[Any] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    request: dict[str, Any] = dict(params or {})
    if datasets is not None:
        request["datasets"] = {"datasetIds": datasets}
    query: dict[str, Any] = {
        "requestParameters": request,
        "filters": filters,
        "requestedGranularity": granularity,
        "pagination": {"skip": 0, "limit": 100},
    }
    if groups is not None:
        query["filterGroups"] = groups
    resp = await client.post(path, json={"meta": {"apiVersion": "v2.0.0"}, "query": query})
    text = await resp.text()
    assert resp.status == status, text
    document: dict[str, Any] = json.loads(text)
    return document


def _ids(document: dict[str, Any], field: str = "id") -> dict[str, list[str]]:
    """Result-set dataset -> the ids of its records."""
    return {
        rs["id"]: sorted(str(r[field]) for r in rs.get("results", []))
        for rs in document["response"].get("resultSets", [])
        if rs.get("results")
    }


def _id_filter(value: str, operator: str = "=") -> dict[str, str]:
    return {"id": "id", "operator": operator, "value": value}


def _vid_filter(value: str, operator: str = "=") -> dict[str, str]:
    return {"id": "variantInternalId", "operator": operator, "value": value}


def _population(ancestry: str) -> dict[str, str]:
    return {"id": "ancestryFilter", "operator": "=", "value": ancestry, "scope": "population"}


# --- dataset isolation -------------------------------------------------------------------------


async def test_a_population_only_a_hidden_dataset_holds_finds_nothing(client: TestClient[Any, Any]) -> None:
    for filters in ([_population(SECRET_POP)], [{"id": f"population:{SECRET_POP}"}]):
        for granularity in ("record", "count", "boolean"):
            doc = await _post(client, "/api/g_variants", filters, granularity=granularity)
            assert doc["responseSummary"]["exists"] is False, (filters, granularity, doc)
            assert doc["responseSummary"].get("numTotalResults", 0) == 0
        # Aimed at the hidden dataset by name: refused or empty, never its variant.
        resp = await client.post(
            "/api/g_variants",
            json={"query": {"requestParameters": {"datasets": {"datasetIds": [HIDDEN]}}, "filters": filters}},
        )
        body = await resp.json()
        assert resp.status in (200, 400, 403, 404), body
        if resp.status == 200:
            assert body["responseSummary"]["exists"] is False, body


async def test_a_population_filter_on_a_shared_variant_answers_from_visible_datasets_only(
    client: TestClient[Any, Any],
) -> None:
    """The shared variant is in population DE only in the hidden dataset."""
    doc = await _post(client, "/api/g_variants", [{"id": "population:DE"}])
    assert doc["responseSummary"]["exists"] is False, doc
    doc = await _post(client, "/api/g_variants", [{"id": "population:NL"}], datasets=[OPEN])
    assert _ids(doc, "variantInternalId") == {OPEN: [SHARED]}
    # Across entry types: individuals linked to variants of the population (none, no carriers) stay in-dataset.
    doc = await _post(client, "/api/individuals", [_population(SECRET_POP)], granularity="count")
    assert doc["responseSummary"]["exists"] is False, doc


async def test_a_population_filter_on_individuals_follows_carriers_within_their_dataset(
    client: TestClient[Any, Any],
) -> None:
    """Individuals carrying a variant of the population: the hidden dataset's carriers are indX1 (by set and
    by key), an id the open dataset holds too; the open dataset's carrier of the shared variant is ind_1."""
    for filters in ([_population(SECRET_POP)], [{"id": f"population:{SECRET_POP}", "scope": "genomicVariation"}]):
        doc = await _post(client, "/api/individuals", filters, datasets=[OPEN])
        assert _ids(doc) == {}, (filters, doc["response"])
        doc = await _post(client, "/api/individuals", filters, granularity="count")
        assert doc["responseSummary"]["exists"] is False, (filters, doc)
    doc = await _post(client, "/api/individuals", [_population("NL")], datasets=[OPEN])
    assert _ids(doc) == {OPEN: ["ind_1", SHARED_IND]}


async def test_variants_of_individuals_with_a_population_term_stay_in_their_dataset(
    client: TestClient[Any, Any],
) -> None:
    """The individual under the shared id holds population:Zzq in the hidden dataset only, where it carries a
    variant; in the open dataset it carries the shared variant. Asking for variants carried by Zzq individuals
    must not return the open one (which would say that the hidden dataset has such a person)."""
    for datasets in ([OPEN], None):
        doc = await _post(
            client, "/api/g_variants", [{"id": f"population:{SECRET_POP}", "scope": "individual"}], datasets=datasets
        )
        assert doc["responseSummary"]["exists"] is False, doc["response"]
    doc = await _post(client, "/api/g_variants", [{"id": "population:NL", "scope": "individual"}], datasets=[OPEN])
    assert _ids(doc, "variantInternalId") == {OPEN: [SHARED]}
    # Across two datasets the caller may query: the floored dataset's Yyq individual carries nothing there, and its
    # id must not pick the open dataset's carrier of the same id.
    doc = await _post(
        client,
        "/api/g_variants",
        [{"id": f"population:{FLOORED_POP}", "scope": "individual"}],
        datasets=[OPEN, FLOORED],
        granularity="count",
    )
    assert doc["responseSummary"]["exists"] is False, doc["response"]
    assert doc["responseSummary"]["numTotalResults"] == 0
    doc = await _post(client, "/api/individuals", [{"id": "population:DE", "scope": "genomicVariation"}])
    assert doc["responseSummary"]["exists"] is False, doc


async def test_one_records_filtering_terms_do_not_list_another_datasets_populations(
    client: TestClient[Any, Any],
) -> None:
    """The individual under the shared id holds population:NL in the open dataset, population:Zzq and DE in the hidden
    one; another individual of the open dataset holds DE, so the open dataset's catalog lists it."""
    # (The floored dataset holds that id too: a per-record listing there is refused, so the open one is named.)
    doc = await fetch(
        client,
        "GET",
        f"/api/individuals/{SHARED_IND}/filtering_terms",
        params={"datasetIds": OPEN},
        endpoint="filtering_terms",
    )
    listed = {t["id"]: t for t in doc["response"]["filteringTerms"]}
    # Its own population term is given back from its populations row, offered as the filter it stands for.
    assert listed["countryFilter"]["values"] == ["NL"], listed
    assert "ancestryFilter" not in listed, listed
    assert SECRET_POP not in json.dumps(doc["response"]), listed
    # Naming the hidden dataset: refused, never its record's terms.
    for params in ({"datasetIds": HIDDEN}, {"datasetIds": f"{OPEN},{HIDDEN}"}):
        resp = await client.get(f"/api/individuals/{SHARED_IND}/filtering_terms", params=params)
        assert resp.status in (400, 403, 404), await resp.text()
        assert SECRET_POP not in await resp.text()
    every = json.dumps((await fetch(client, "GET", "/api/filtering_terms", endpoint="filtering_terms"))["response"])
    assert SECRET_POP not in every, every
    doc = await _post(client, "/api/individuals", [{"id": f"population:{SECRET_POP}"}], granularity="count")
    assert doc["responseSummary"]["exists"] is False, doc
    doc = await _post(client, "/api/individuals", [{"id": "population:NL"}], datasets=[OPEN])
    assert _ids(doc) == {OPEN: [SHARED_IND]}


async def test_an_id_filter_never_reaches_a_hidden_datasets_records(client: TestClient[Any, Any]) -> None:
    for f in (
        _id_filter("ind\\_1-hidden"),
        _id_filter("ind_1-h%"),
        _id_filter("42-hidden"),
        _id_filter(LONG_A + "-hidden"),
        _id_filter(HIDDEN_IDS[-1][:256]),
    ):
        doc = await _post(client, "/api/individuals", [f])
        found = _ids(doc)
        assert HIDDEN not in found, (f, found)
        assert not any(i.endswith("-hidden") or i.endswith("-h2") for ids in found.values() for i in ids), (f, found)
    doc = await _post(client, "/api/g_variants", [_vid_filter("22:900:A>G")], granularity="count")
    assert doc["responseSummary"]["exists"] is False


# --- id filters: the id column, cut at 256 -----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "operator", "expected"),
    [
        ("ind_1", "=", ["ind_1"]),
        # `_` is a literal character in a pattern, not LIKE's any-character: indX1 must not match.
        ("ind_%", "=", ["ind_1"]),
        ("ind%", "=", ["indX1", "ind_1"]),
        # `%` in the value is the wildcard; "50%" matches the ids starting with 50.
        ("50%", "=", ["50%", "5000"]),
        ("a\\b", "=", ["a\\b"]),
        ("a\\%", "=", ["a\\b"]),
        ("it's", "=", ["it's"]),
        ("' OR '1'='1", "=", []),
        # A pattern folds ASCII case only, as SQLite's LIKE does: é% is not É%, k% is not the Kelvin sign.
        ("IND_%", "=", ["ind_1"]),
        ("élan%", "=", []),
        ("Élan%", "=", ["Élan"]),
        ("k%", "=", []),
        ("\u212a%", "=", ["\u212a9"]),
        ("%' OR 1=1 --", "=", []),
        # Text is cut at 256 characters: the 256-character prefix names both long ids, a longer value none.
        ("L" * 256, "=", [LONG_A, LONG_B]),
        (LONG_A, "=", []),
        (ALMOST, "=", [ALMOST]),
        ("L" * 256 + "%", "=", [LONG_A, LONG_B]),
        ("L" * 255 + "%", "=", [LONG_A, LONG_B, ALMOST]),
        # A number or a duration compares as a number: ids are text, a duration id has its days too.
        ("42", "=", []),
        ("P1D", "=", ["P1D"]),
        ("P24H", "=", []),
        # 1 compares as a number: the duration id P1D is one day.
        ("1", "=", ["P1D"]),
    ],
)
async def test_id_filters_answer_alike_on_both_backends(
    client: TestClient[Any, Any], value: str, operator: str, expected: list[str]
) -> None:
    doc = await _post(client, "/api/individuals", [_id_filter(value, operator)], datasets=[OPEN])
    assert _ids(doc).get(OPEN, []) == sorted(expected), value


@pytest.mark.parametrize(
    ("value", "excluded"),
    [("ind_1", ["ind_1"]), ("L" * 256, [LONG_A, LONG_B]), (LONG_A, []), ("P1D", ["P1D"]), ("42", [])],
)
async def test_not_equal_on_an_id_is_the_complement_on_both_backends(
    client: TestClient[Any, Any], value: str, excluded: list[str]
) -> None:
    doc = await _post(client, "/api/individuals", [_id_filter(value, "!")], datasets=[OPEN])
    assert _ids(doc).get(OPEN, []) == sorted(set(OPEN_IDS) - set(excluded)), value


async def test_a_variant_id_filter_and_a_population_filter_combine(client: TestClient[Any, Any]) -> None:
    doc = await _post(client, "/api/g_variants", [_vid_filter("22:%"), {"id": "population:EUR"}], datasets=[OPEN])
    assert _ids(doc, "variantInternalId") == {OPEN: [SHARED]}
    doc = await _post(client, "/api/g_variants", [_vid_filter(SHARED, "!"), {"id": "population:AFR"}], datasets=[OPEN])
    assert _ids(doc, "variantInternalId") == {OPEN: ["22:200:A>G"]}
    groups = [{"noneOf": [{"id": "population:EUR"}, {"id": "population:AFR"}]}]
    doc = await _post(client, "/api/g_variants", [], datasets=[OPEN], groups=groups)
    assert _ids(doc, "variantInternalId") == {OPEN: ["22:300:A>G"]}


# --- count floor -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "groups"),
    [
        ([], [{"noneOf": [{"id": "population:EUR"}]}]),
        ([], [{"anyOf": [{"id": "population:EUR"}, _vid_filter("22:1003:A>G")]}]),
        ([_vid_filter("22:1003:A>G", "!")], None),
        ([_population("EUR"), _vid_filter("22:1000:A>G", "!")], None),
    ],
    ids=["noneOf a population", "anyOf a population or an id", "not this id", "population and not this id"],
)
async def test_differencing_with_populations_and_ids_is_refused_on_a_floored_dataset(
    client: TestClient[Any, Any], filters: list[Any], groups: list[Any] | None
) -> None:
    doc = await _post(
        client, "/api/g_variants", filters, datasets=[FLOORED], granularity="count", groups=groups, status=403
    )
    assert doc["error"]["errorCode"] == 403


async def test_a_population_with_an_id_pattern_stays_floored(client: TestClient[Any, Any]) -> None:
    """Three EUR variants: floored to 5; one of them, or none, both read as 0."""
    doc = await _post(client, "/api/g_variants", [_population("EUR")], datasets=[FLOORED], granularity="count")
    assert doc["responseSummary"]["numTotalResults"] == 0
    for vid in ("22:1000:A>G", "22:1009:A>G", "22:100%"):
        doc = await _post(
            client, "/api/g_variants", [_population("EUR"), _vid_filter(vid)], datasets=[FLOORED], granularity="count"
        )
        assert doc["responseSummary"]["numTotalResults"] == 0, vid
        assert doc["responseSummary"]["exists"] is False, vid
    doc = await _post(client, "/api/g_variants", [_population("AFR")], datasets=[FLOORED], granularity="count")
    assert doc["responseSummary"]["numTotalResults"] == 10  # seven, rounded up to the next multiple of 5


# --- range counts (variant bins gathered per batch) after reloads, refusals, failures, withdrawals ------

WINDOW = {"assemblyId": "GRCh38", "referenceName": "22", "start": [0], "end": [10**7]}
VARIANT_TYPE = EntryTypeTable().by_id("genomicVariant")


class _Refused(Exception):
    """What a load's check raises to refuse it (ingest/safeguard.py raises LoadRefused)."""


def _refuse(previous: object, counts: object) -> None:
    raise _Refused


def _snvs(prefix: str, n: int, step: int = 7) -> list[dict[str, Any]]:
    # Starts `step` apart: bins of 300 bp hold several, and a batch of 1,000 records ends inside a bin.
    return [_variant(f"22:{prefix}{i}", 1000 + i * step, ()) for i in range(n)]


def _load(dataset: str, docs: list[dict[str, Any]], *, part: str = "main", check: Any = None) -> DatasetLoad:
    digest = f"{dataset}-{part}-{len(docs)}-{docs[0]['variantInternalId'] if docs else ''}"
    return dataset_load(dataset, "GRCh38", digest, [(VARIANT_TYPE, d) for d in docs], part=part, check=check)


def _failing(docs: list[dict[str, Any]], after: int) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The records of a load whose input breaks after `after` of them (past the first batch of 1,000)."""
    for i, doc in enumerate(docs):
        if i == after:
            raise _Refused
        yield VARIANT_TYPE, doc


async def _history(store: Store) -> None:
    """The same loads, refusals, failures and withdrawals on either backend."""
    await store.replace_dataset(_load("ba", _snvs("a", 1500)))
    await store.replace_dataset(_load("ba", _snvs("x", 40), part="extra"))
    await store.replace_dataset(_load("bb", _snvs("b", 30)))
    # Refused after every record is written (and counted into bins), then rolled back.
    with pytest.raises(_Refused):
        await store.replace_dataset(_load("ba", _snvs("r", 2500, step=3), check=_refuse))
    # The input breaks past the first batch: what that batch gathered must not reach any later load.
    failing = dataset_load("bc", "GRCh38", "bc-broken", _failing(_snvs("c", 2500), after=1700))
    with pytest.raises(_Refused):
        await store.replace_dataset(failing)
    # A part replaced by a smaller one, and a dataset loaded after the failures (on the same connection).
    await store.replace_dataset(_load("ba", _snvs("y", 5), part="extra"))
    await store.replace_dataset(_load("bd", _snvs("d", 12)))
    # Withdrawn: hard (rows deleted) and soft (tombstone only).
    await store.withdraw_dataset(Tombstone("bd", "2026-12-07T00:00:00Z", "test", "attack", hard=True))
    await store.withdraw_dataset(Tombstone("bb", "2026-12-07T00:00:00Z", "test", "attack", hard=False))
    await store.replace_dataset(_load("be", _snvs("e", 9)))


async def test_range_counts_follow_reloads_refusals_failures_and_withdrawals(
    aiohttp_client: AiohttpClient, tmp_path: Path, backend: str
) -> None:
    path = tmp_path / "bins.db"
    source = new_mongo_source("bins")
    try:
        store: Store = SqliteStore(path) if backend == "sqlite" else source.store()
        await load_into(store, _history)
        served = None if backend == "sqlite" else source.store()
        client = await aiohttp_client(create_app(make_config(f"sqlite:///{path}"), store=served))
        doc = await _post(client, "/api/g_variants", [], granularity="count", params=WINDOW)
        counts = {rs["id"]: rs["resultsCount"] for rs in doc["response"]["resultSets"]}
        # ba: its main part (1,500) and its replaced extra part (5); be: 9. Nothing of bb, bc, bd, nor of the refused load.
        assert counts == {"ba": 1505, "be": 9}, counts
        assert doc["responseSummary"]["numTotalResults"] == 1514
        # A narrower window, cut inside bins, counted the same way.
        narrow = {**WINDOW, "start": [1000 + 7 * 100 + 1], "end": [1000 + 7 * 1200 + 150]}
        doc = await _post(client, "/api/g_variants", [], granularity="count", params=narrow)
        counts = {rs["id"]: rs["resultsCount"] for rs in doc["response"]["resultSets"]}
        # ba's main variants i with 1701 < 1000 + 7i + 1 and 1000 + 7i < 9550: i in [101, 1221]; be's all start before.
        assert counts == {"ba": 1121}, counts
        if backend == "sqlite":
            # The bins kept load by load are what a build from the records makes.
            kept = await asyncio.to_thread(bins_content, path)
            await asyncio.to_thread(run, path, FORGET_STAMP)
            await load_into(SqliteStore(path), _nothing)
            assert await asyncio.to_thread(bins_content, path) == kept
    finally:
        await source.drop()


async def _nothing(store: Store) -> None:
    return None


@pytest.mark.parametrize(
    "filters",
    [
        [_id_filter("\ud800")],
        [_id_filter("\ud800%")],
        [_id_filter("x" * 300 + "\udfff")],
        [{"id": "population:\ud800"}],
        [_vid_filter("\ud800", "!")],
    ],
    ids=["id", "id pattern", "long id", "population term", "variant id not equal"],
)
async def test_lone_surrogates_in_id_and_population_filters_are_refused_not_crashed(
    client: TestClient[Any, Any], filters: list[Any]
) -> None:
    """JSON may spell a lone UTF-16 surrogate (\\ud800); no store can bind it and no response can echo it.

    Before the fix each of these was a 500 on both backends (sqlite3's UnicodeEncodeError, orjson's TypeError).
    """
    body = json.dumps({"query": {"filters": filters, "requestParameters": {"datasets": {"datasetIds": [OPEN]}}}})
    for path in ("/api/individuals", "/api/g_variants", f"/api/individuals/{SHARED_IND}/biosamples"):
        resp = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        document = await resp.json()
        assert resp.status == 400, document
        assert "lone UTF-16 surrogate" in document["error"]["errorMessage"], document


async def test_surrogate_pairs_and_percent_encoded_surrogates_are_not_refused_as_such(
    client: TestClient[Any, Any],
) -> None:
    """A proper pair (\\ud83d\\ude00) is one character; invalid UTF-8 in a query string is not a 500 either."""
    body = {"query": {"filters": [_id_filter("\U0001f600")], "requestParameters": {"datasets": {"datasetIds": [OPEN]}}}}
    resp = await client.post("/api/individuals", data=json.dumps(body), headers={"Content-Type": "application/json"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["responseSummary"]["exists"] is False
    for query in ("filters=id:%ED%A0%80", "filters=population:%ED%A0%80", "filters=id:%ED%A0%80%25"):
        resp = await client.get(f"/api/individuals?{query}")
        assert resp.status in (200, 400), await resp.text()


@pytest.mark.parametrize("length", [50_001, 120_000])
async def test_a_very_long_id_pattern_is_refused_not_crashed(client: TestClient[Any, Any], length: int) -> None:
    """SQLite refuses LIKE patterns over 50,000 bytes (SQLITE_MAX_LIKE_PATTERN_LENGTH): that was a 500."""
    for value in ("%" + "a" * length, "a%" * (length // 2)):
        body = {"query": {"filters": [_id_filter(value)], "requestParameters": {"datasets": {"datasetIds": [OPEN]}}}}
        resp = await client.post("/api/individuals", json=body)
        document = await resp.json()
        assert resp.status == 400, str(document)[:500]
        assert "pattern has at most 1000 characters" in document["error"]["errorMessage"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("%" * 60_000, sorted(OPEN_IDS)), ("ind" + "%" * 5_000, ["indX1", "ind_1"]), ("%%%_1", ["ind_1"])],
    ids=["percent alone", "a prefix", "a suffix"],
)
async def test_runs_of_percent_are_one_wildcard(client: TestClient[Any, Any], value: str, expected: list[str]) -> None:
    doc = await _post(client, "/api/individuals", [_id_filter(value)], datasets=[OPEN])
    assert _ids(doc).get(OPEN, []) == expected
