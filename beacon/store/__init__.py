"""Store backends behind one protocol; `open_store(uri)` picks the backend by URI scheme."""

from __future__ import annotations

from beacon.errors import StoreUnavailable
from beacon.store.base import Store, StoreOptions

ACCEPTED = "sqlite:///relative/path.db, sqlite:////absolute/path.db, mongodb://host[:port]/database"


def redacted(uri: str) -> str:
    """The URI without its password, for messages and logs (`mongodb://user:***@host/db`)."""
    scheme, sep, rest = uri.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return uri
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def open_store(uri: str, options: StoreOptions | None = None) -> Store:
    """A backend for `uri` (not yet opened: call `await store.open()`).

    :raise StoreUnavailable: the scheme is not one of the accepted forms.
    """
    if uri.startswith("sqlite://"):
        from beacon.store.sqlite import SqliteStore, sqlite_path

        return SqliteStore(sqlite_path(uri), options=options)
    if uri.startswith(("mongodb://", "mongodb+srv://")):
        from beacon.store.mongo import MongoStore

        return MongoStore.from_uri(uri, options)
    msg = f"unsupported store URI {uri!r}; accepted forms: {ACCEPTED}"
    raise StoreUnavailable(msg)
