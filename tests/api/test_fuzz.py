"""Property-based fuzzing of every route, GET and POST, with hostile values.

A real aiohttp server on the CINECA store runs on its own event loop in a thread (blockbuster still
watches that loop); Hypothesis sends blocking HTTP from the test thread. Every answer must be JSON,
never 5xx, never a traceback, and every error body must validate against the official schema.

`make test` sends BEACON_FUZZ_EXAMPLES (default 60) requests per property; `make fuzz` sends 2,500
per property (10,000 in all) and writes bench/results/fuzz.json.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beacon.api.app import create_app
from beacon.api.openapi import DOCS_PATH
from beacon.api.parse import GET_PARAMS, VARIANT_ALIASES, VARIANT_PARAMS
from beacon.api.routes import route_table
from beacon.config import DatasetPolicy
from beacon.model.entry_types import EntryTypeTable
from beacon.model.granularity import Granularity
from tests.conftest import CINECA_ID, make_config
from tests.spec_check import response_problems

EXAMPLES = int(os.environ.get("BEACON_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Every route answering JSON; /api/docs is a fixed HTML page that reads nothing from the request.
ROUTES = sorted({r.path for r in route_table(EntryTypeTable())} - {DOCS_PATH})  # type: ignore[attr-defined]
STATS: Counter[str] = Counter()

HOSTILE = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "nan",
            "inf",
            "-inf",
            "1e999",
            "-1",
            "0",
            "",
            " ",
            "null",
            "true",
            "[]",
            "{}",
            "%",
            "%%",
            "..",
            "9" * 400,
            "-" + "9" * 40,
            "HP:0000118",
            "NCIT:C16576",
            "sex=female",
            "age>=P40Y",
            "P-1Y",
            "x" * 10_000,
            "22",
            "chr22",
            "16050074",
            "16050074,16050075",
            "1,2,3",
            "A",
            "N",
            "<DEL>",
            "%00",
            "\u0000",
            "💥",
            "' OR 1=1 --",
            "$where",
            '{"$gt": ""}',
            "record",
            "count",
            "boolean",
            "ALL",
            "HIT",
            "MISS",
            "NONE",
        ]
    ),  # fmt: skip
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=40),
)
PARAM_NAMES = st.one_of(
    st.sampled_from(sorted(GET_PARAMS | VARIANT_PARAMS | set(VARIANT_ALIASES))),
    st.text(min_size=1, max_size=12),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False), HOSTILE),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.one_of(PARAM_NAMES, HOSTILE), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def server(cineca_db: Path) -> Iterator[tuple[str, int]]:
    """A real server on its own loop in a thread: ('127.0.0.1', port)."""
    config = make_config(f"sqlite:///{cineca_db}", DatasetPolicy(CINECA_ID, max_granularity=Granularity.RECORD))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(config))
    ready = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(runner.addresses[0][1])
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    yield "127.0.0.1", port[0]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    if os.environ.get("BEACON_FUZZ_REPORT"):
        summary = {"requests": sum(STATS.values()), "by_status": dict(sorted(STATS.items())), "5xx": _server_errors()}
        Path(os.environ["BEACON_FUZZ_REPORT"]).write_text(json.dumps(summary, indent=1) + "\n")


def _server_errors() -> int:
    return sum(n for status, n in STATS.items() if status.startswith("5"))


def _send(address: tuple[str, int], method: str, target: str, body: bytes | None = None) -> None:
    conn = http.client.HTTPConnection(*address, timeout=60)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    STATS[str(resp.status)] += 1
    text = raw.decode("utf-8", errors="replace")
    assert resp.status < 500, (method, target[:300], body[:300] if body else None, text[:500])
    assert "Traceback" not in text
    if len(target) > 8190:
        # aiohttp's HTTP parser refuses request lines over 8 KiB before the application sees them
        # (plain-text 400, docs/decisions.md); everything shorter reaches the Beacon error handling.
        assert resp.status == 400
        return
    assert resp.getheader("Content-Type", "").startswith("application/json"), (target[:300], text[:300])
    document: dict[str, Any] = json.loads(raw)
    if resp.status >= 400:
        assert document["error"]["errorCode"] == resp.status
        assert response_problems(document, None) == [], (target[:300], document)


def _fill(route: str, ident: str) -> str:
    return route.replace("{id}", quote(ident, safe="")) if "{id}" in route else route


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    ident=st.one_of(st.sampled_from(["HG00096", "chr22_16050075_A_G", CINECA_ID]), st.text(min_size=1, max_size=300)),
    params=st.lists(st.tuples(PARAM_NAMES, HOSTILE), max_size=8),
)
def test_get_with_hostile_parameters_never_fails_the_server(
    server: tuple[str, int], route: str, ident: str, params: list[tuple[str, str]]
) -> None:
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe=',')}" for k, v in params)
    _send(server, "GET", _fill(route, ident) + ("?" + query if query else ""))


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries(
            {},
            optional={
                "meta": JSON_VALUES,
                "query": st.fixed_dictionaries(
                    {},
                    optional={
                        "requestParameters": st.dictionaries(PARAM_NAMES, JSON_VALUES, max_size=6),
                        "filters": st.lists(
                            st.dictionaries(
                                st.sampled_from(
                                    ["id", "operator", "value", "scope", "includeDescendantTerms", "similarity"]
                                ),
                                JSON_VALUES,
                            ),
                            max_size=4,
                        ),
                        "requestedGranularity": JSON_VALUES,
                        "pagination": st.dictionaries(st.sampled_from(["skip", "limit"]), JSON_VALUES),
                        "testMode": JSON_VALUES,
                        "includeResultsetResponses": JSON_VALUES,
                    },
                ),
            },
        ),
    ),
)
def test_post_with_hostile_json_never_fails_the_server(server: tuple[str, int], route: str, body: object) -> None:
    _send(server, "POST", _fill(route, "HG00096"), json.dumps(body).encode())


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(
        st.binary(max_size=300),
        st.integers(1, 200_000).map(lambda depth: b"[" * depth + b"]" * depth),
        st.integers(1, 200_000).map(lambda depth: b'{"query":' * depth + b"1" + b"}" * depth),
        st.sampled_from([b"\xff\xfe{}", b'{"query": {"filters": [{"id": "\xc3\x28"}]}}', b"NaN", b"1e999999", b"-0"]),
    ),
)
def test_post_with_malformed_bodies_never_fails_the_server(server: tuple[str, int], route: str, body: bytes) -> None:
    _send(server, "POST", _fill(route, "HG00096"), body)


@FUZZ
@given(route=st.sampled_from(ROUTES), raw=st.binary(min_size=1, max_size=60))
def test_percent_encoded_invalid_utf8_in_paths_and_queries_never_fails_the_server(
    server: tuple[str, int], route: str, raw: bytes
) -> None:
    encoded = "".join(f"%{b:02X}" for b in raw)
    target = route.replace("{id}", encoded) + f"?filters={encoded}&{encoded}={encoded}&start={encoded}"
    _send(server, "GET", target)
