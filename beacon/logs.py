"""Log output of the server processes: one JSON object per line (default) or plain text for developers.

A JSON line has `time` (UTC, ISO 8601), `level`, `logger` and `message`, then the record's extra
fields (an access line: `request_id`, `method`, `endpoint`, `status`, `duration_ms`) and
`exception` when there is a traceback. Whatever reaches a formatter, bearer tokens and
Authorization values are masked: a log line must never be a credential.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal, TextIO

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_SECRET_KEYS = frozenset({"authorization", "token", "access_token", "password", "secret"})
# Credentials are long runs of token characters; "basic auth" in prose is not one.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_MASK = r"\1 [redacted]"


def redact(text: str) -> str:
    """`text` with any `Bearer <token>` or `Basic <credentials>` masked."""
    return _BEARER.sub(_MASK, text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: "[redacted]" if key.lower() in _SECRET_KEYS else value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    }


# default=str: an extra that is not JSON (a Path, a datetime) is written as its text, never dropped.
# One encoder for every line (json.dumps builds a new one per call when given options).
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)

try:
    import orjson
except ImportError:  # pragma: no cover - the `fast` extra is not installed
    orjson = None  # type: ignore[assignment]


def _encode(line: dict[str, Any]) -> str:
    # An access line is written per request: orjson (when installed) encodes it about 5x faster.
    if orjson is not None:
        try:
            return orjson.dumps(line, default=str).decode()
        except TypeError:  # e.g. an integer beyond 64 bits: the standard encoder writes anything
            pass
    return _ENCODER.encode(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    # The timestamp up to the second, reused for every record of that second: an access line is
    # written per request, and formatting a datetime each time was a tenth of the line's cost.
    _second: tuple[int, str] = (-1, "")

    def timestamp(self, created: float) -> str:
        second = int(created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        line.update(_extras(record))
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return _encode(line)


class TextFormatter(logging.Formatter):
    """`time level logger message`, then the request id of access lines; masked like the JSON lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            text += f" request_id={request_id}"
        return redact(text)


class _ConfiguredHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs; `write_access` writes through it directly."""

    def write_line(self, line: str) -> None:
        with self.lock:  # type: ignore[union-attr]
            self.stream.write(line + self.terminator)
            self.stream.flush()  # what self.flush() does, without taking the lock a second time


_ACCESS_MESSAGE = "%s %s %d %.1f ms"


def write_access(
    logger: logging.Logger,
    level: int,
    request_id: str | None,
    method: str,
    endpoint: str,
    status: int,
    duration_ms: float,
) -> None:
    """One access line: `message` plus request_id, method, endpoint, status and duration_ms fields.

    When the line would reach only the handler `configure_logging` installed, in the JSON format,
    it is written here as exactly the line JsonFormatter makes of the record (tested), without a
    LogRecord and the logging machinery (two thirds of a point query's logging cost). Any other
    set-up (handlers or filters added, tests capturing records, the text format) gets the record.
    """
    if not logger.isEnabledFor(level):
        return
    handler = _direct_handler(logger, level)
    if handler is None:
        logger.log(
            level,
            _ACCESS_MESSAGE,
            method,
            endpoint,
            status,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": method,
                "endpoint": endpoint,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
        return
    formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]
    line = {
        "time": formatter.timestamp(time.time()),
        "level": logging.getLevelName(level),
        "logger": logger.name,
        "message": f"{_access_head(method, endpoint, status)}{duration_ms:.1f} ms",
        "request_id": request_id,
        "method": method,
        "endpoint": endpoint,
        "status": status,
        "duration_ms": duration_ms,
    }
    handler.write_line(_encode(line))


_PLAIN_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


@lru_cache(maxsize=1024)
def _access_head(method: str, endpoint: str, status: int) -> str:
    """The access message up to the duration, masked like the whole message (the duration holds no token).

    Endpoints are route templates and statuses few, so the heads repeat: made once each (the bound
    keeps methods a client makes up from growing it).
    """
    head = f"{method} {endpoint} {status} "
    # Endpoints are route templates: only a method the client made up could spell a credential.
    return head if method in _PLAIN_METHODS else redact(head)


def _direct_handler(logger: logging.Logger, level: int) -> _ConfiguredHandler | None:
    """The configured JSON handler, when it is the only place a record of `logger` at `level` would go."""
    if logger.handlers or logger.filters or not logger.propagate:
        return None
    parent = logger.parent
    while parent is not None and parent.parent is not None:  # loggers between `logger` and the root
        if parent.handlers or parent.filters or not parent.propagate:
            return None
        parent = parent.parent
    root = logging.getLogger()
    if len(root.handlers) != 1 or root.filters:
        return None
    (handler,) = root.handlers
    if type(handler) is not _ConfiguredHandler or handler.filters or handler.level > level:
        return None
    return handler if type(handler.formatter) is JsonFormatter else None


def configure_logging(log_format: LogFormat = "json", level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send every log record of the process to `stream` (stderr) in `log_format`, replacing other handlers."""
    handler = _ConfiguredHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Neither format shows the source file and line, thread or process, so do not collect them for
    # every record (the logging HOWTO's "Optimization" section): a third of an access line's cost.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
