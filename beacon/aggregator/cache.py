"""Answers to identical requests within a time-to-live, keyed without ever holding the caller's token."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from beacon.aggregator.members import Ask


class AnswerCache:
    """Merged answers by request; `ttl_s == 0` keeps nothing. At most `max_entries`, then it starts over."""

    def __init__(self, ttl_s: float = 0.0, max_entries: int = 1000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._answers: dict[str, tuple[float, dict[str, Any]]] = {}

    @staticmethod
    def key(ask: Ask) -> str:
        """Method, path, query, body and a digest of the caller's credential."""
        body = (ask.body or b"").decode("utf-8", "replace")
        # The caller's token is part of the key only as a digest: answers forwarded with it are theirs alone.
        auth = hashlib.sha256(ask.authorization.encode()).hexdigest() if ask.authorization else ""
        return "\x1f".join((ask.method, ask.path, ask.query, body, auth))

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._answers.get(key)
        if found is None or time.monotonic() - found[0] >= self.ttl_s:
            return None
        return found[1]

    def put(self, key: str, document: dict[str, Any]) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._answers) >= self.max_entries:
            self._answers.clear()
        self._answers[key] = (time.monotonic(), document)
