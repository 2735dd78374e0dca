"""Request ids and deadlines: what the error middleware gives every request of an app.

Ids are unique per process run and cheap to make (they tie a request's log lines and error answers
together); deadlines share one timer (beacon/api/deadlines.py).
"""

from __future__ import annotations

import itertools
import secrets

from beacon.api.deadlines import Deadlines


class RequestIds:
    """32 hex digits: 80 random bits fixed for this app, then a 48-bit counter; and the app's deadlines.

    `uuid4()` reads the operating system's random source for every request (a system call, about
    1.5 µs); ids only need to be unique and unguessable across processes, which the random prefix gives.
    """

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(10)
        self._counter = itertools.count()
        self.deadlines = Deadlines()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFF:012x}"
