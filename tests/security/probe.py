"""Asking the cohort beacon as an attacker would: one helper for GET and POST, and the exact answers to compare with."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from beacon.model.plan import HasTerm, Query
from beacon.store.sqlite import SqliteStore
from tests.security.conftest import Cohort

PROCEDURE = "interventionsOrProcedures.procedureCode.id"


async def ask(
    cohort: Cohort,
    path: str,
    *,
    token: str | None = None,
    params: dict[str, str] | None = None,
    query: dict[str, Any] | None = None,
) -> tuple[int, dict[str, Any]]:
    """GET with `params`, or POST `{"query": query}` when `query` is given; the status and the document."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if query is not None:
        query = dict(query)
        if "datasetIds" in query:
            # POST bodies name datasets inside requestParameters (beaconRequestBody).
            params_in = dict(query.get("requestParameters", {}))
            params_in["datasets"] = {"datasetIds": query.pop("datasetIds")}
            query["requestParameters"] = params_in
        resp = await cohort.client.post(path, json={"meta": {"apiVersion": "v2.0.0"}, "query": query}, headers=headers)
    else:
        resp = await cohort.client.get(path, params=params or {}, headers=headers)
    text = await resp.text()
    assert resp.status < 500, text
    return resp.status, json.loads(text)


def total(document: dict[str, Any]) -> int:
    return int(document["responseSummary"]["numTotalResults"])


async def _exact_counts(db: Path, dataset: str, terms: list[str]) -> dict[str, int]:
    store = SqliteStore(db)
    await store.open()
    try:
        out = {}
        for term in terms:
            counts = await store.count_by_dataset(Query("individuals", (dataset,), HasTerm((term,))))
            out[term] = counts.get(dataset, 0)
        return out
    finally:
        await store.close()


def small_terms(db: Path, dataset: str) -> dict[int, str]:
    """A procedure term held by exactly 1, 2 and 4 individuals of `dataset`, read from the store itself."""
    candidates = ["OPCS4:L46.3", "OPCS4:T89.4", "OPCS4:T77.2", "OPCS4:K06.1", "OPCS4:Z01.4", "OPCS4:X53.3"]
    candidates += ["OPCS4:L87.8", "OPCS4:U10.8", "OPCS4:N03.1", "OPCS4:E42.7", "OPCS4:M45.2"]
    exact = asyncio.run(_exact_counts(db, dataset, candidates))
    found: dict[int, str] = {}
    for term, n in exact.items():
        found.setdefault(n, term)
    return {n: found[n] for n in (1, 2, 4)}
