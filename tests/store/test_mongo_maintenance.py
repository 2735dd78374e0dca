"""`beacon-ingest init` and `beacon-ingest gc`: indexes built by a job, generations collected by a command.

On MongoDB (the stand-in: the commands' store is swapped for it) and on SQLite, which has nothing to collect.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from beacon.store.base import StoreOptions
from beacon.store.loading import dataset_load
from beacon.store.mongo import MongoStore
from ingest.cli import main
from tests.backends import MongoSource
from tests.store.test_backend_store import variant
from tests.store.test_mongo_store import VARIANTS


def _commands_use(source: MongoSource, monkeypatch: pytest.MonkeyPatch, clock_offset_s: float = 0) -> None:
    def stand_in(uri: str, options: StoreOptions | None = None) -> MongoStore:
        plain = source.store()
        store = MongoStore(plain._client, plain._db.name, StoreOptions(retire_after_s=3600))
        now = time.time() + clock_offset_s
        store.generations.clock = lambda: now
        return store

    monkeypatch.setattr("ingest.maintenance.open_store", stand_in)


async def _two_loads(source: MongoSource) -> None:
    plain = source.store()
    store = MongoStore(plain._client, plain._db.name, StoreOptions(retire_after_s=3600))
    await store.replace_dataset(dataset_load("a", "GRCh38", "d1", [(VARIANTS, variant("v1", 1, 2))]))
    await store.replace_dataset(dataset_load("a", "GRCh38", "d2", [(VARIANTS, variant("v2", 1, 2))]))
    await store._db["g_variants"].insert_one({"gen": 77, "seq": 1})
    await store.close()


async def test_gc_reports_what_it_deleted_what_it_keeps_and_the_orphans_in_one_line(
    source: MongoSource, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await _two_loads(source)
    _commands_use(source, monkeypatch)
    # The command runs its own event loop, as from a shell: run it in a thread.
    import asyncio

    assert await asyncio.to_thread(main, ["gc", "--store", "mongodb://db/beacon"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "mongodb://db/beacon: deleted 1 generation(s), 1 document(s); 1 replaced generation(s) kept for running "
        "queries: [1]; orphans (named by no catalog entry, deleted): [77]\n"
    )
    _commands_use(source, monkeypatch, clock_offset_s=3601)
    assert await asyncio.to_thread(main, ["gc", "--store", "mongodb://db/beacon"]) == 0
    assert capsys.readouterr().out == "mongodb://db/beacon: deleted 1 generation(s), 1 document(s)\n"


async def test_init_creates_the_indexes_the_api_no_longer_creates(
    source: MongoSource, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    api = source.store()
    await api.open()
    assert await api._db["datasets_loaded"].index_information() == {}
    _commands_use(source, monkeypatch)
    assert await asyncio.to_thread(main, ["init", "--store", "mongodb://db/beacon"]) == 0
    assert capsys.readouterr().out == "mongodb://db/beacon: indexes ready\n"
    indexes = await api._db["datasets_loaded"].index_information()
    assert indexes["one_per_part"]["unique"] is True
    assert "by_position_gen" in await api._db["g_variants"].index_information()


def test_gc_on_sqlite_has_nothing_to_collect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["gc", "--store", uri]) == 0
    assert capsys.readouterr().out == f"{uri}: nothing to collect (this store replaces datasets in place)\n"
