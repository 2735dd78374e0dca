"""Store backends behind one protocol; `open_store(uri)` picks the backend by URI scheme."""

from __future__ import annotations

from beacon.errors import StoreUnavailable
from beacon.store.base import Store

ACCEPTED = "sqlite:///relative/path.db, sqlite:////absolute/path.db, mongodb://host[:port]/database"


def open_store(uri: str) -> Store:
    """A backend for `uri` (not yet opened: call `await store.open()`).

    :raise StoreUnavailable: the scheme is not one of the accepted forms.
    """
    if uri.startswith("sqlite://"):
        from beacon.store.sqlite import SqliteStore, sqlite_path

        return SqliteStore(sqlite_path(uri))
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        msg = "the MongoDB backend is not available in this version; use " + ACCEPTED.split(", mongodb")[0]
        raise StoreUnavailable(msg)
    msg = f"unsupported store URI {uri!r}; accepted forms: {ACCEPTED}"
    raise StoreUnavailable(msg)
