"""Withdrawal: a withdrawn dataset is gone from /datasets and every g_variants answer, on both backends.

Soft keeps the records (hidden), hard deletes them; both leave a tombstone and an audit line; a later
load of the same id is refused unless it says --republish.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from blockbuster import BlockBuster

from beacon.api.app import create_app
from beacon.model.plan import Query
from beacon.store.base import Store
from beacon.store.sqlite import SqliteStore
from ingest import withdraw
from ingest.cli import main
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import new_mongo_source, stored_dataset_ids
from tests.conftest import AiohttpClient, fetch, make_config

VCF = Path(__file__).resolve().parents[1] / "data" / "vcf" / "multiallelic_indel_needs_trim.vcf"
ALLELE = {"referenceName": "1", "start": "66380", "referenceBases": "T", "alternateBases": "A"}


async def _load(store: Store, dataset: str, blockbuster: BlockBuster) -> None:
    # Loading is not what is tested here: on MongoDB the loader reads the file on the loop.
    blockbuster.deactivate()
    try:
        await load_vcf([VCF], VcfOptions(dataset, "GRCh37"), store)
    finally:
        blockbuster.activate()


@pytest.fixture
async def store(backend: str, tmp_path: Path, blockbuster: BlockBuster) -> Any:
    s: Store = SqliteStore(tmp_path / "w.db") if backend == "sqlite" else new_mongo_source("withdraw").store()
    await s.open()
    for dataset in ("gone", "kept"):
        await _load(s, dataset, blockbuster)
    yield s
    await s.close()


async def _answer(aiohttp_client: AiohttpClient, store: Store, tmp_path: Path) -> tuple[set[str], set[str]]:
    """The datasets /datasets lists and those g_variants finds the allele in."""
    config = make_config(f"sqlite:///{tmp_path / 'unused.db'}")
    client = await aiohttp_client(create_app(config, store=store))
    listed = await fetch(client, "GET", "/api/datasets", params={"requestedGranularity": "record"})
    found = await fetch(client, "GET", "/api/g_variants", params={**ALLELE, "requestedGranularity": "count"})
    return (
        {d["id"] for d in listed["response"]["collections"]},
        {s["id"] for s in found["response"]["resultSets"] if s["resultsCount"] > 0},
    )


@pytest.mark.parametrize("hard", [False, True], ids=["soft", "hard"])
async def test_a_withdrawn_dataset_is_gone_from_listings_and_answers(
    aiohttp_client: AiohttpClient, store: Store, tmp_path: Path, hard: bool, blockbuster: BlockBuster
) -> None:
    assert await _answer(aiohttp_client, store, tmp_path) == ({"gone", "kept"}, {"gone", "kept"})
    tombstone = await withdraw.withdraw(store, withdraw.Withdrawal("gone", hard, "consent withdrawn", "steward"))
    assert await _answer(aiohttp_client, store, tmp_path) == ({"kept"}, {"kept"})
    assert [d.id for d in await store.datasets()] == ["kept"]
    assert await store.tombstones() == [tombstone]
    assert (tombstone.operator, tombstone.reason, tombstone.hard) == ("steward", "consent withdrawn", hard)
    left = await store.find(Query("g_variants", ("gone",)))
    assert (len(left) == 0) is hard  # soft keeps the records, hidden
    # Withdrawing again (e.g. soft, then hard) is allowed; an unknown id is an error.
    await withdraw.withdraw(store, withdraw.Withdrawal("gone", True, "completed", "steward"))
    assert await store.find(Query("g_variants", ("gone",))) == []
    with pytest.raises(withdraw.InputError, match="dataset 'nope' is not in the store"):
        await withdraw.withdraw(store, withdraw.Withdrawal("nope", False, "x", "steward"))
    # A re-load is refused without --republish, and publishes the dataset again with it.
    with pytest.raises(withdraw.LoadRefused, match=r"withdrawn \(hard\) .* by steward: completed; .*--republish"):
        await withdraw.refuse_withdrawn(store, "gone", republish=False)
    found = await withdraw.refuse_withdrawn(store, "gone", republish=True)
    await _load(store, "gone", blockbuster)
    assert [d.id for d in await store.datasets()] == ["kept"]  # loaded, still withdrawn until republished
    blockbuster.deactivate()  # the audit line is appended on a thread; pytest's tmp_path is not
    await withdraw.republished(store, found, "mongodb://unused", tmp_path / "audit.jsonl")
    blockbuster.activate()
    assert await store.tombstones() == []
    assert await _answer(aiohttp_client, store, tmp_path) == ({"gone", "kept"}, {"gone", "kept"})


def test_the_command_withdraws_audits_and_refuses_a_silent_reload(tmp_path: Path, capsys: Any) -> None:
    db = tmp_path / "beacon.db"
    uri = f"sqlite:///{db}"
    for dataset in ("gone", "kept"):
        assert main(["vcf", str(VCF), "--dataset", dataset, "--assembly", "GRCh37", "--store", uri]) == 0
    argv = ["withdraw", "gone", "--soft", "--reason", "consent withdrawn", "--operator", "steward", "--store", uri]
    assert main(argv) == 0
    assert "withdrew dataset gone (soft: records kept, hidden)" in capsys.readouterr().out
    (line,) = (tmp_path / "beacon.db.withdrawals.jsonl").read_text().splitlines()
    audit = json.loads(line)
    assert {k: audit[k] for k in ("event", "datasetId", "operator", "reason", "mode")} == {
        "event": "dataset-withdrawn",
        "datasetId": "gone",
        "operator": "steward",
        "reason": "consent withdrawn",
        "mode": "soft",
    }
    reload = ["vcf", str(VCF), "--dataset", "gone", "--assembly", "GRCh37", "--store", uri]
    assert main(reload) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: dataset 'gone' was withdrawn (soft) at ")
    assert err[0].endswith("by steward: consent withdrawn; load it with --republish to publish it again")
    assert main([*reload, "--republish"]) == 0
    events = [json.loads(x)["event"] for x in (tmp_path / "beacon.db.withdrawals.jsonl").read_text().splitlines()]
    assert events == ["dataset-withdrawn", "dataset-republished"]
    assert stored_dataset_ids(db) == ["gone", "kept"]
    assert main(["withdraw", "nope", "--hard", "--reason", "x", "--store", uri]) == 2
    assert capsys.readouterr().err.strip() == "error: withdraw: dataset 'nope' is not in the store (nothing withdrawn)"
