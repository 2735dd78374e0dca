"""Every store call of one answer runs inside one snapshot (store/snapshot.py): counts and records of one version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from multidict import MultiDict

from beacon.answer.service import AnswerService, Ask
from beacon.api.parse import from_query_string
from beacon.config import Config
from beacon.security.tokens import NOBODY
from beacon.store.snapshot import current_snapshot
from beacon.store.sqlite import SqliteStore


class _Watched:
    """A store that records, per call, whether it ran inside a snapshot and which one."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self.seen: list[tuple[str, int | None]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            memo = current_snapshot()
            self.seen.append((name, None if memo is None else id(memo)))
            return await attr(*args, **kwargs)

        return call


async def test_counts_records_and_terms_of_one_answer_share_one_snapshot(
    cineca_config: Config, cineca_db: Path
) -> None:
    store = SqliteStore(cineca_db)
    await store.open()
    try:
        watched = _Watched(store)
        service = AnswerService(cineca_config, watched)  # type: ignore[arg-type]
        entry = cineca_config.entry_types.by_path()["individuals"]
        request = from_query_string(
            MultiDict({"requestedGranularity": "record", "filters": "NCIT:C16576"}), cineca_config.query
        )
        answer = await service.answer(Ask(entry, request))
        assert answer.document["responseSummary"]["numTotalResults"] > 0
        calls = {name for name, _ in watched.seen}
        assert {"datasets", "count_by_dataset", "find"} <= calls
        snapshots = {memo for _, memo in watched.seen}
        assert len(snapshots) == 1
        assert None not in snapshots
        watched.seen.clear()
        await service.filtering_terms(request, NOBODY, entry)
        snapshots = {memo for _, memo in watched.seen}
        assert len(snapshots) == 1
        assert None not in snapshots
    finally:
        await store.close()
