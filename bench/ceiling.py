"""The ceilings: a bare aiohttp app answering small JSON from one raw SQLite statement per request.

No middleware, no request model, no planner, no envelope: what any aiohttp server on this machine
pays to answer the same question from the same store file. Point lookups run on the event loop
(an indexed seek is cheaper than a thread hand-off); scans (range and cohort counts) run on two
worker threads with a connection each, as in the store. uvloop and orjson are used when installed,
exactly when the beacon server would use them.

    .venv/bin/python bench/ceiling.py --variants V.db --cohort C.db --port 8001

Routes (GET reads the query string, POST a Beacon request body):
  /lookup  one variant by referenceName, start, referenceBases, alternateBases -> {"exists", "count"}
  /range   count of variants overlapping [start, end) on referenceName -> {"count"}
  /cohort  count of individuals carrying one of the term set of --term and the --sex term -> {"count"}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

try:
    import orjson

    def dumps(value: object) -> bytes:
        return orjson.dumps(value)

except ImportError:

    def dumps(value: object) -> bytes:
        return json.dumps(value).encode()


LOOKUP = (
    "SELECT count(*) FROM records WHERE coll = 'g_variants' AND v_chr = ? AND v_start = ? AND v_ref = ? "
    "AND v_alt = ? AND dataset = ?"
)
# The same overlap bound the store uses (starts no further left than the longest span loaded).
RANGE = (
    "SELECT count(*) FROM records WHERE coll = 'g_variants' AND v_chr = ? AND v_start < ? AND v_end > ? "
    "AND v_start >= ? - (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_span')"
)
COHORT = (
    "SELECT count(*) FROM terms s WHERE s.term = ? AND s.rid IN "
    "(SELECT t.rid FROM terms t WHERE t.term IN (SELECT value FROM json_each(?)))"
)


def cohort_terms(path: Path, term: str) -> list[str]:
    """`term` and its HPO descendants that the store holds: the set the beacon widens the filter to."""
    from beacon.ontology import BUILTIN_HPO, load_ontologies
    from beacon.ontology.similarity import matching_terms

    hpo = load_ontologies((BUILTIN_HPO,)).for_term(term)
    assert hpo is not None
    wanted = matching_terms(hpo, term, include_descendants=True, similarity="exact")
    with sqlite3.connect(path) as conn:
        present = {t for (t,) in conn.execute("SELECT DISTINCT term FROM term_catalog")}
    return sorted(wanted & present)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA cache_size=-65536")
    return conn


class Ceiling:
    def __init__(self, variants: Path, dataset: str, cohort: Path, term: str, sex: str) -> None:
        self.variants, self.cohort, self.dataset, self.sex = variants, cohort, dataset, sex
        self.inline = _connect(variants)
        self.local = threading.local()
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="sqlite")
        self.terms = json.dumps(cohort_terms(cohort, term))

    def _on_thread(self, path: Path, sql: str, params: tuple[object, ...]) -> int:
        conns: dict[Path, sqlite3.Connection] = self.local.__dict__.setdefault("conns", {})
        if path not in conns:
            conns[path] = _connect(path)
        return int(conns[path].execute(sql, params).fetchone()[0])

    async def scan(self, path: Path, sql: str, params: tuple[object, ...]) -> int:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._on_thread, path, sql, params)

    async def lookup(self, p: dict[str, Any]) -> dict[str, Any]:
        params = (str(p["referenceName"]), int(p["start"]), p["referenceBases"], p["alternateBases"], self.dataset)
        n = int(self.inline.execute(LOOKUP, params).fetchone()[0])
        return {"exists": n > 0, "count": n}

    async def range(self, p: dict[str, Any]) -> dict[str, Any]:
        start, end = int(p["start"]), int(p["end"])
        return {"count": await self.scan(self.variants, RANGE, (str(p["referenceName"]), end, start, start))}

    async def count_cohort(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"count": await self.scan(self.cohort, COHORT, (self.sex, self.terms))}


def _params(body: dict[str, Any]) -> dict[str, Any]:
    params = body.get("query", {}).get("requestParameters", {})
    # Beacon bodies carry start and end as one-element arrays.
    return {k: (v[0] if isinstance(v, list) and v else v) for k, v in params.items()}


def _handler(answer: Callable[[dict[str, Any]], Any], method: str) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        params = dict(request.query) if method == "GET" else _params(await request.json(loads=json.loads))
        return web.Response(body=dumps(await answer(params)), content_type="application/json")

    return handle


def create_app(ceiling: Ceiling) -> web.Application:
    app = web.Application()
    for path, answer in (("/lookup", ceiling.lookup), ("/range", ceiling.range), ("/cohort", ceiling.count_cohort)):
        app.router.add_get(path, _handler(answer, "GET"))
        app.router.add_post(path, _handler(answer, "POST"))
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variants", type=Path, required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--cohort", type=Path, required=True)
    parser.add_argument("--term", required=True, help="HPO term of the cohort filter (widened to descendants)")
    parser.add_argument("--sex", required=True, help="sex term of the cohort filter")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(Ceiling(args.variants, args.dataset, args.cohort, args.term, args.sex))
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, loop=_loop(loop_factory))
    return 0


def _loop(factory: Callable[[], asyncio.AbstractEventLoop] | None) -> asyncio.AbstractEventLoop:
    loop = factory() if factory else asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


if __name__ == "__main__":
    raise SystemExit(main())
