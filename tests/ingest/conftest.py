"""Fixtures shared by the loader tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from beacon.store.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """An empty embedded store of the test's own, opened."""
    s = SqliteStore(tmp_path / "v.db")
    await s.open()
    yield s
    await s.close()
