"""The audit log: one JSON line per answered request, written off the event loop, never with tokens."""

from __future__ import annotations

import json
import logging
import logging.handlers
import queue
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class AuditLog:
    """Appends JSON lines to a file through a queue drained by a writer thread."""

    def __init__(self, path: Path) -> None:
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._path = path
        self._listener: logging.handlers.QueueListener | None = None
        self._logger = logging.getLogger(f"beacon.audit.{id(self)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)

    def start(self) -> None:
        """Open the file (call off the event loop: it creates folders and opens a file)."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self._path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        self._listener = logging.handlers.QueueListener(self._queue, handler)
        self._listener.start()
        self._logger.addHandler(logging.handlers.QueueHandler(self._queue))

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            for handler in self._listener.handlers:
                handler.close()
            self._listener = None

    def record(self, **fields: Any) -> None:
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
        self._logger.info(json.dumps(entry, separators=(",", ":"), default=str))
