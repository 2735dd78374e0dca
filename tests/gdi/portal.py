"""The GDI user portal's requests, as it sends them, and what it reads from the answers.

Facts from the portal's public material (the issue quotes them): the allele-frequency request is
`POST /g_variants` with the demo variant "3-45864731-T-C" (0-based start; VCF POS 45864732), optionally
`sexFilter`/`countryFilter` filters scoped `population`; the portal keeps result sets with
`setType == "dataset"` and `resultsCount > 0` and reads `results[].frequencyInPopulations[].frequencies[]`.
The individuals request is `POST /individuals` at record granularity with HIT result sets and
individual-scoped filters; the answer is read as counts.
"""

from __future__ import annotations

from typing import Any

DEMO_VARIANT = {
    "assemblyId": "GRCh37",
    "referenceName": "3",
    "start": [45864731],
    "referenceBases": "T",
    "alternateBases": "C",
}
RARE_FI_FEMALE_VARIANT = {**DEMO_VARIANT, "start": [45869999], "referenceBases": "G", "alternateBases": "A"}
ABSENT_VARIANT = {**DEMO_VARIANT, "alternateBases": "G"}


def allele_request(variant: dict[str, Any], *filters: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": {"apiVersion": "2.0"},
        "query": {
            "requestParameters": variant,
            "filters": list(filters),
            "includeResultsetResponses": "HIT",
            "pagination": {"skip": 0, "limit": 10},
            "testMode": False,
            "requestedGranularity": "record",
        },
    }


def sex_filter(sex: str) -> dict[str, Any]:
    return {"id": "sexFilter", "operator": "=", "value": sex, "scope": "population"}


def country_filter(country: str) -> dict[str, Any]:
    return {"id": "countryFilter", "operator": "=", "value": country, "scope": "population"}


def individuals_request(*filters: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": {"apiVersion": "2.0"},
        "query": {
            "filters": list(filters),
            "includeResultsetResponses": "HIT",
            "pagination": {"skip": 0, "limit": 10},
            "testMode": False,
            "requestedGranularity": "record",
        },
    }


# A bona fide researcher's visa as the life-science login issues it (its value names the bona fide definition).
STATUS = {"type": "ResearcherStatus", "source": "https://ga4gh.org/duri/no_org", "by": "system"}
BONA_FIDE = "https://doi.org/10.1038/s41431-018-0219-y"
MALE = {"id": "NCIT:C20197", "scope": "individual"}
DIABETES = {"id": "NCIT:C2985", "scope": "individual"}


def onset(operator: str, value: str) -> dict[str, Any]:
    return {"id": "diseases.ageOfOnset.iso8601duration", "operator": operator, "value": value, "scope": "individual"}


def frequencies_read(document: dict[str, Any]) -> list[dict[str, Any]]:
    """What the portal reads from an allele-frequency answer: every frequency of every kept result set."""
    kept = [
        rs
        for rs in document.get("response", {}).get("resultSets", [])
        if rs.get("setType") == "dataset" and rs.get("resultsCount", 0) > 0
    ]
    return [f for rs in kept for r in rs["results"] for s in r["frequencyInPopulations"] for f in s["frequencies"]]
