"""Server logs: one JSON object per line, access lines joined to errors by request id, never a token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beacon.api.app import create_app
from beacon.cli import main
from beacon.config import Config
from beacon.logs import JsonFormatter, TextFormatter, configure_logging
from beacon.store.base import DatasetInfo
from beacon.store.sqlite import SqliteStore
from tests.conftest import AiohttpClient, fetch

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl"


def _capture(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("beacon")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything the `beacon.*` loggers write during the test, formatted as in production."""
    yield from _capture(JsonFormatter())


@pytest.fixture
def text_log() -> Iterator[io.StringIO]:
    yield from _capture(TextFormatter())


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_each_request_is_one_json_access_line_with_its_request_id_and_no_token(
    aiohttp_client: AiohttpClient, cineca_config: Config, json_log: io.StringIO
) -> None:
    client = await aiohttp_client(create_app(cineca_config))
    ok = await client.get("/api/individuals/HG00097", params={"requestedGranularity": "count"})
    assert ok.status == 200
    refused = await client.get("/api/individuals", headers={"Authorization": f"Bearer {TOKEN}"})
    assert refused.status == 401

    access = [line for line in lines(json_log) if line["logger"] == "beacon.access"]
    requests = [(ok, "/api/individuals/{id}"), (refused, "/api/individuals")]
    assert len(access) == len(requests)
    assert [{k: v for k, v in line.items() if k not in ("time", "duration_ms")} for line in access] == [
        {
            "level": "INFO",
            "logger": "beacon.access",
            "message": line["message"],
            "request_id": resp.headers["X-Request-Id"],
            "method": "GET",
            "endpoint": endpoint,
            "status": resp.status,
        }
        for line, (resp, endpoint) in zip(access, requests, strict=True)
    ]
    assert access[0]["message"].startswith("GET /api/individuals/{id} 200 ")
    assert all(isinstance(line["duration_ms"], float) and line["duration_ms"] > 0 for line in access)
    assert all(line["time"].endswith("+00:00") for line in access)
    text = json_log.getvalue()
    assert TOKEN not in text
    assert "HG00097" not in text
    assert "authorization" not in text.lower()


class _BrokenStore(SqliteStore):
    async def datasets(self) -> list[DatasetInfo]:
        msg = f"upstream refused header Authorization: Bearer {TOKEN}"
        raise RuntimeError(msg)


async def test_an_unhandled_error_is_logged_with_the_request_id_of_its_access_line_and_no_token(
    aiohttp_client: AiohttpClient, cineca_config: Config, cineca_db: Path, json_log: io.StringIO
) -> None:
    client = await aiohttp_client(create_app(cineca_config, store=_BrokenStore(cineca_db)))
    resp = await client.get("/api/individuals")
    assert resp.status == 500
    request_id = resp.headers["X-Request-Id"]

    by_logger = {line["logger"]: line for line in lines(json_log)}
    error = by_logger["beacon.api"]
    assert error["level"] == "ERROR"
    assert error["request_id"] == request_id
    assert "RuntimeError: upstream refused header Authorization: Bearer [redacted]" in error["exception"]
    assert by_logger["beacon.access"]["request_id"] == request_id
    assert by_logger["beacon.access"]["status"] == 500
    assert TOKEN not in json_log.getvalue()


async def test_probes_and_scrapes_are_logged_at_debug(
    aiohttp_client: AiohttpClient, cineca_config: Config, json_log: io.StringIO
) -> None:
    client = await aiohttp_client(create_app(cineca_config))
    await client.get("/health/live")
    await client.get("/metrics")
    await fetch(client, "GET", "/api/info", endpoint="info")
    levels = [(line["endpoint"], line["level"]) for line in lines(json_log) if line["logger"] == "beacon.access"]
    assert levels == [("/health/live", "DEBUG"), ("/metrics", "DEBUG"), ("/api/info", "INFO")]


async def test_text_format_is_one_plain_line_with_the_request_id(
    aiohttp_client: AiohttpClient, cineca_config: Config, text_log: io.StringIO
) -> None:
    client = await aiohttp_client(create_app(cineca_config))
    resp = await client.get("/api/info")
    (line,) = [line for line in text_log.getvalue().splitlines() if " beacon.access " in line]
    assert line.endswith(
        f" INFO beacon.access GET /api/info 200 {line.split()[-3]} ms request_id={resp.headers['X-Request-Id']}"
    )


@pytest.mark.parametrize(
    ("message", "extra", "expected"),
    [
        ("calling with Bearer abc.def-ghi_jkl", {}, "calling with Bearer [redacted]"),
        ("basic auth Basic dXNlcjpwYXNz= used", {}, "basic auth Basic [redacted] used"),
        ("no secret here", {"authorization": "Bearer abc"}, "no secret here"),
    ],
    ids=["a bearer token in a message", "basic credentials in a message", "an authorization extra field"],
)
def test_credentials_are_masked_whatever_logs_them(message: str, extra: dict[str, str], expected: str) -> None:
    record = logging.makeLogRecord({"name": "x", "levelname": "WARNING", "msg": message, **extra})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == expected
    assert "abc" not in json.dumps(line)
    assert "dXNlcjpwYXNz" not in TextFormatter().format(record)


def test_configure_logging_replaces_handlers_and_writes_json_lines() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    try:
        configure_logging("json", stream=stream)
        logging.getLogger("beacon.store.guard").info("store %s open", "sqlite")
        assert root.handlers[0].stream is stream  # type: ignore[attr-defined]
        assert len(root.handlers) == 1
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    (line,) = lines(stream)
    assert {k: v for k, v in line.items() if k != "time"} == {
        "level": "INFO",
        "logger": "beacon.store.guard",
        "message": "store sqlite open",
    }


def test_an_unknown_log_format_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEACON_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "beacon serve: error: argument --log-format: expected one of json, text, got 'xml'"
    )


@pytest.fixture
def configured_stream() -> Iterator[io.StringIO]:
    """The process logging as `beacon serve` configures it, into a buffer; the test runner's handlers restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_access_lines_written_directly_equal_the_json_formatters_lines(configured_stream: io.StringIO) -> None:
    from beacon.logs import write_access

    access = logging.getLogger("beacon.access")
    write_access(access, logging.INFO, "ab12", "GET", "/api/g_variants", 200, 0.412)
    write_access(access, logging.INFO, None, "BEARER", "unmatched", 404, 1.0)  # masked like any line
    write_access(access, logging.DEBUG, "cd34", "GET", "/health", 200, 0.1)  # below INFO: not written
    direct = [json.loads(line) for line in configured_stream.getvalue().splitlines()]
    # The same lines through a record and the formatter (a handler on the logger turns the direct path off).
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access.addHandler(handler)
    access.propagate = False
    try:
        write_access(access, logging.INFO, "ab12", "GET", "/api/g_variants", 200, 0.412)
        write_access(access, logging.INFO, None, "BEARER", "unmatched", 404, 1.0)
    finally:
        access.removeHandler(handler)
        access.propagate = True
    via_record = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(direct) == 2
    for ours, theirs in zip(direct, via_record, strict=True):
        assert list(ours) == list(theirs)  # same fields, same order
        assert {k: v for k, v in ours.items() if k != "time"} == {k: v for k, v in theirs.items() if k != "time"}
        assert ours["time"][:16] == theirs["time"][:16]
    assert direct[0]["message"] == "GET /api/g_variants 200 0.4 ms"
    assert "BEARER [redacted]" in direct[1]["message"]
    assert configured_stream.getvalue().count("\n") == 2
