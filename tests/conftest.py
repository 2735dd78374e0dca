"""Shared fixtures: real stores loaded from real data, and real aiohttp servers on them."""

from __future__ import annotations

import asyncio
import gc
import os
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from blockbuster import BlockBuster, blockbuster_ctx

from beacon.api.app import create_app
from beacon.config import BeaconInfo, Config, DatasetPolicy, Organization
from beacon.model.granularity import Granularity
from beacon.store.base import Store
from ingest.bff import load_bff
from tests.backends import BACKENDS, Loading, MongoSource, mongo_loaded, report_header, sqlite_loaded
from tests.spec_check import response_problems

ROOT = Path(__file__).resolve().parent.parent
# Small public files the core suite needs, in the repository (provenance and licences: tests/data/README.md).
PUBLIC = ROOT / "tests" / "data" / "public"
# The large public files (190k-record chr22 VCF, the 10,580-phenopacket corpus, the 2,504-sample slices): tests
# that need them skip, saying what to set, when this folder is absent (see pytest_runtest_makereport below).
DATA = Path(os.environ.get("BEACON_TEST_DATA", ROOT.parent / "shared" / "data")).resolve()
CINECA = PUBLIC / "cineca"
CINECA_ID = "CINECA_synthetic_cohort_EUROPE_UK1"
PI_TEST = PUBLIC / "pi-test-fixtures"


def test_data(relative: str) -> Path:
    """`relative` (a path as in shared/data) in the repository's public copy if it is there, else in DATA."""
    public = PUBLIC / relative
    return public if public.exists() else DATA / relative


test_data.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, despite its name


def large_data(relative: str) -> Path:
    """`relative` in DATA; the calling test skips, saying what to set, when it is not there."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"needs {relative} of the large public test data: set BEACON_TEST_DATA (not found in {DATA})")
    return path


def missing_large_data(exc: BaseException) -> str | None:
    """The skip reason when `exc` (or an exception it chains) is a missing file under an absent DATA; else None.

    Only when BEACON_TEST_DATA is not set: where it is set (as CI sets it) a missing file stays a failure.
    """
    if "BEACON_TEST_DATA" in os.environ or DATA.is_dir():
        return None
    seen: BaseException | None = exc
    while seen is not None:
        text = f"{seen} {getattr(seen, 'filename', '') or ''}"
        if str(DATA) in text:
            return f"needs the large public test data: set BEACON_TEST_DATA to a copy of shared/data ({DATA} is absent)"
        seen = seen.__cause__ or seen.__context__
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """A test (or its fixture) that fails only because the large data is absent is reported as skipped."""
    report = yield
    if call.excinfo is not None and report.failed:
        reason = missing_large_data(call.excinfo.value)
        if reason is not None:
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {reason}")
    return report


AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


# `make test-fast` leaves out the tests marked slow; the full suite (`make test`, `make check`, CI) runs them all.
# Chosen by measuring `--durations` on 2 cores; a key matches a substring of the test id.
SLOW: dict[str, str] = {
    # The same API, store and ingest tests run on SQLite in the fast tier; the stand-in roughly doubles their time.
    "mongomock-stand-in": "the mongomock-motor stand-in copy of every backend-parametrised test",
    "tests/web/": "drives Debian's chromium against real servers",
    "tests/test_bench_smoke.py": "runs the benchmark suite at toy scale (~35 s)",
    "tests/store/test_differential.py": "random plans against a reference implementation (12-24 s per entry type)",
    "test_direct_rows_equal_the_document_path[CINECA": "the 2,504-sample annotated CINECA VCF twice (25-85 s)",
    "test_direct_rows_equal_the_document_path[2504": "the 2,504-sample chr1 slice twice (~6 s)",
    "test_backends_that_store_documents_read_the_rows_as_the_indexer_made_them": "every backend's rows (~30 s)",
    "test_the_child_reports_progress_and_counts": "a child parser over a large VCF (~11 s)",
    "test_vcf_variants_join_bff_metadata_in_one_dataset": "CINECA BFF plus its 2,504-sample VCF (~22 s)",
    "test_the_whole_corpus_answers_cohort_counts_computed_from_the_files": "loads 10,580 phenopackets (~22 s)",
    "test_a_page_never_exceeds_the_configured_maximum": "pages through every record type (~14 s)",
    # Lookups from one record to CINECA's variants at record granularity: thousands of carriers each (6-8 s).
    "SRR00000002/g_variants answers at record": "a lookup to every variant at record granularity",
    "HG00097/g_variants answers at record": "a lookup to every variant at record granularity",
    "UK1_analysisId_2/g_variants answers at record": "a lookup to every variant at record granularity",
    "tests/packaging/test_wheel.py": "builds and installs the wheel (~45 s)",
    "tests/packaging/test_bare_clone.py": "make run and make test-fast on a fresh clone (minutes)",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow what SLOW names, so `-m "not slow"` (make test-fast) leaves it out."""
    for item in items:
        if any(key in item.nodeid for key in SLOW):
            item.add_marker(pytest.mark.slow)


def make_config(store_uri: str, *policies: DatasetPolicy) -> Config:
    return Config(
        beacon=BeaconInfo(
            id="org.example.beacon.test",
            name="Test Beacon",
            organization=Organization(id="org.example", name="Example"),
            base_url="http://testserver/api",
        ),
        store_uri=store_uri,
        datasets=policies,
        # Tests load datasets they do not list; production conf fails closed instead (docs/security.md).
        datasets_default=DatasetPolicy("*"),
    )


def loading_bff(loads: Sequence[tuple[Path, str, str | None]]) -> Loading:
    """A load of each (BFF folder, dataset id, assembly) in turn, for `sqlite_loaded` and `mongo_loaded`."""

    async def load(store: Store) -> None:
        for directory, dataset, assembly in loads:
            await load_bff(directory, dataset, store, assembly=assembly)

    return load


CINECA_LOADS = [(CINECA, CINECA_ID, "GRCh37")]
PI_LOADS = [
    (CINECA / "pi-format", CINECA_ID, "GRCh37"),
    (PI_TEST / "test", "test", None),
    (PI_TEST / "test2", "test2", None),
]


def pytest_report_header() -> str:
    return report_header()


@pytest.fixture(scope="session")
def cineca_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The classic-layout CINECA cohort, loaded once per test session."""
    return sqlite_loaded(tmp_path_factory.mktemp("cineca") / "beacon.db", loading_bff(CINECA_LOADS))


@pytest.fixture(scope="session")
def pi_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The PI layout: CINECA as the EGA PI loads it, plus the PI's own test datasets."""
    return sqlite_loaded(tmp_path_factory.mktemp("pi") / "beacon.db", loading_bff(PI_LOADS))


@pytest.fixture(scope="session")
def cineca_mongo() -> Iterator[MongoSource]:
    """The classic-layout CINECA cohort in MongoDB (or its stand-in), loaded once per session."""
    yield from mongo_loaded("cineca", loading_bff(CINECA_LOADS))


@pytest.fixture(scope="session")
def pi_mongo() -> Iterator[MongoSource]:
    yield from mongo_loaded("pi", loading_bff(PI_LOADS))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per store backend; the id names the backend (and the stand-in)."""
    return str(request.param)


@pytest.fixture
def cineca_config(cineca_db: Path) -> Config:
    return make_config(f"sqlite:///{cineca_db}", DatasetPolicy(CINECA_ID, max_granularity=Granularity.RECORD))


ServeOnBackend = Callable[[Config, MongoSource], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def serve_on_backend(aiohttp_client: AiohttpClient, backend: str) -> ServeOnBackend:
    """Starts a server on a configuration's data, once per backend: its SQLite store, or the MongoDB source given."""

    async def serve(config: Config, mongo: MongoSource) -> TestClient[Any, Any]:
        return await aiohttp_client(create_app(config, store=mongo.store() if backend != "sqlite" else None))

    return serve


@pytest.fixture
async def cineca(
    serve_on_backend: ServeOnBackend, cineca_config: Config, cineca_mongo: MongoSource
) -> TestClient[Any, Any]:
    """A server on the CINECA cohort, once per backend."""
    return await serve_on_backend(cineca_config, cineca_mongo)


@pytest.fixture
def pi_config(pi_db: Path) -> Config:
    return make_config(f"sqlite:///{pi_db}")


@pytest.fixture
async def pi(serve_on_backend: ServeOnBackend, pi_config: Config, pi_mongo: MongoSource) -> TestClient[Any, Any]:
    """A server on the PI-layout datasets, once per backend."""
    return await serve_on_backend(pi_config, pi_mongo)


async def fetch(
    client: TestClient[Any, Any],
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: object = None,
    status: int = 200,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """Call the API, assert the status and JSON content type, and validate against the official schema."""
    if method == "GET":
        resp = await client.get(path, params=params)
    else:
        resp = await client.post(path, json=body if body is not None else {})
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    document: dict[str, Any] = await resp.json()
    # Schema files load lazily while validating: keep that file I/O off the event loop.
    assert await asyncio.to_thread(response_problems, document, endpoint) == []
    if status >= 400:
        assert document["error"]["errorCode"] == status
    return document


async def refusal(
    client: TestClient[Any, Any], method: str, path: str, *, params: dict[str, str] | None = None, body: object = None
) -> str:
    """The error message of a request refused as invalid (400, the error document checked as `fetch` checks it)."""
    document = await fetch(client, method, path, params=params, body=body, status=400)
    message: str = document["error"]["errorMessage"]
    return message


__all__ = ["fetch", "make_config", "refusal", "replace"]


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any test whose event loop makes a blocking call (file, socket, sleep) outside named exemptions."""
    with blockbuster_ctx() as bb:
        # pytest and the aiohttp test server log and import on the loop; not our handlers.
        for name in ("os.stat", "os.path.abspath", "io.TextIOWrapper.read", "io.BufferedReader.read"):
            bb.functions[name].can_block_in("importlib/_bootstrap_external.py", "get_data")
        # PyMongo checks for /.dockerenv when it opens a connection pool: one cached stat, not ours to move.
        bb.functions["os.stat"].can_block_in("pymongo/pool_options.py", "get_container_env_info")
        # Indexed point lookups cost less than a thread hand-off and run inline by design.
        for name, function in bb.functions.items():
            if name.startswith("sqlite3."):
                function.can_block_in("beacon/store/sqlite.py", "_run_inline")
        yield bb


@pytest.fixture
def refused_sockets_collected() -> Iterator[None]:
    """PyMongo 4.20 leaves the socket of a refused connection to the garbage collector.

    Its ResourceWarning would surface, as an error, in whichever later test the collector happens
    to run; requested first, this fixture is torn down after the app and collects it here.
    """
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def bff_store(path: Path, source: Path, datasets: Sequence[str], assembly: str | None = None) -> Path:
    """A SQLite store at `path` holding the BFF folder `source` once under each of `datasets`."""
    return sqlite_loaded(path, loading_bff([(source, dataset, assembly) for dataset in datasets]))
