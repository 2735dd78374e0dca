"""A member answering in the GDI reference node's dialect (gdi-mini-node 0.9.1), for the aggregator's tolerance tests.

Its answers deviate from the official schemas the way the reference node's do: the request echo is flat
(`requestParameters.start` a string, where the schema wants `{"g_variant": {...}}`) and frequencies sit
under `populations[]` instead of `frequencies[]`. Its one variant is the portal's demo variant.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.documents import snp_variation, variant_answer_meta

DATASET = "goe-nl-demo"
DEMO = {"assemblyId": "GRCh37", "referenceName": "3", "start": "45864731", "referenceBases": "T", "alternateBases": "C"}
AC, AN = 410, 5008


def _record() -> dict[str, Any]:
    return {
        "variantInternalId": "3:45864731:T:C",
        "variation": snp_variation("refseq:NC_000003.11", 45864731, "T", "C"),
        "frequencyInPopulations": [
            {
                "source": "The Genome of Europe",
                "sourceReference": "https://example.org/goe",
                "version": "demo",
                "numberOfPopulations": 1,
                "populations": [
                    {
                        "population": "NL",
                        "alleleFrequency": AC / AN,
                        "alleleCount": AC,
                        "alleleNumber": AN,
                        "alleleCountHomozygous": 12,
                        "alleleCountHeterozygous": 386,
                        "alleleCountHemizygous": 0,
                    }
                ],
            }
        ],
    }


def _answer(params: dict[str, Any], found: bool) -> dict[str, Any]:
    return {
        # The request parameters echoed flat, as the reference node echoes them.
        "meta": variant_answer_meta("org.example.gdi-mini-node", requestParameters=params),
        "responseSummary": {"exists": found, "numTotalResults": 1 if found else 0},
        "response": {
            "resultSets": [
                {
                    "id": DATASET,
                    "setType": "dataset",
                    "exists": found,
                    "resultsCount": 1 if found else 0,
                    "results": [_record()] if found else [],
                }
            ]
            if found
            else []
        },
    }


def gdi_node_app(asked: list[dict[str, Any]]) -> web.Application:
    """The reference node's g_variants answers (bodies it was sent are appended to `asked`)."""

    async def map_(request: web.Request) -> web.Response:
        root = str(request.url.with_path("/api/g_variants").with_query(None))
        sets = {"genomicVariant": {"entryType": "genomicVariant", "rootUrl": root}}
        return web.json_response(
            {"meta": {"beaconId": "org.example.gdi-mini-node"}, "response": {"endpointSets": sets}}
        )

    async def g_variants(request: web.Request) -> web.Response:
        body = json.loads(await request.text() or "{}")
        asked.append(body)
        params = body.get("query", {}).get("requestParameters", {})
        start = params.get("start")
        start = start[0] if isinstance(start, list) else start
        found = str(start) == DEMO["start"] and params.get("alternateBases") == DEMO["alternateBases"]
        return web.json_response(_answer({**params, "start": str(start)}, found))

    app = web.Application()
    app.router.add_get("/api/map", map_)
    app.router.add_post("/api/g_variants", g_variants)
    return app
