"""The SQLite store's hold on its file: one generation of connections, and the file's identity to check it by.

A file can be deleted, replaced (a rename over it) or overwritten under a running server. SQLite does not
notice: its open connections keep reading the deleted inode, and in WAL mode they keep answering from
their page caches while the bytes under them change. So the store keeps, with each generation of
connections, the identity the file had when they were opened (device, inode, size, modification time),
compares it with the file's at most every check interval, and replaces the generation when they differ
(`sqlite.py`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# (st_dev, st_ino, st_size, st_mtime_ns)
FileIdentity = tuple[int, int, int, int]


def file_identity(path: Path) -> FileIdentity | None:
    """The file's identity, or None when there is no file (blocking: call it off the event loop)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def same_inode(a: FileIdentity | None, b: FileIdentity | None) -> bool:
    """True when both name the same file (its content may differ): its WAL and shared memory are still its own."""
    return a is not None and b is not None and a[:2] == b[:2]


class Generation:
    """The worker pool and connections opened on one version of the file, closed together.

    `inline` is the event loop's connection (set once the generation is open); the workers' connections
    are made on first use, one per thread, by `connect`, which must never create the file: the file they
    find may not be the one the generation opened, and the next check will say so.
    """

    def __init__(
        self, number: int, pool: ThreadPoolExecutor, connect: Callable[[Generation], sqlite3.Connection]
    ) -> None:
        self.number = number
        self.pool = pool
        self.identity: FileIdentity | None = None
        self.inline: sqlite3.Connection | None = None
        self.local = threading.local()
        self._connect = connect
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def adopt(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """`conn` becomes one of this generation's connections (closed with it)."""
        with self._lock:
            self._connections.append(conn)
        return conn

    def thread_conn(self) -> sqlite3.Connection:
        """The calling worker thread's connection."""
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.adopt(self._connect(self))
            self.local.conn = conn
        return conn

    def shutdown(self) -> None:
        """Wait for the calls in flight, then close every connection (blocking: call it off the event loop)."""
        self.pool.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()


def set_aside(path: Path) -> Path:
    """Rename an outdated store file (and its WAL companions) to the first free `NAME.old-N`."""
    n = 1
    while (kept := path.with_name(f"{path.name}.old-{n}")).exists():
        n += 1
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(kept.with_name(kept.name + suffix))
    path.rename(kept)
    return kept
