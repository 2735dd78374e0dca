"""Fixtures shared by the store tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.backends import MongoSource, new_mongo_source


@pytest.fixture
async def source(request: pytest.FixtureRequest) -> AsyncIterator[MongoSource]:
    """A fresh MongoDB database (the stand-in, or BEACON_TEST_MONGO_URI) named after the test module, dropped after."""
    s = new_mongo_source(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_"))
    yield s
    await s.drop()
