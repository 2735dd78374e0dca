"""Beacon v2 documents written out by hand, for tests that play another beacon or judge a document directly.

Written independently of the code under test (beacon/answer/, ingest/vcf/records.py), so that a test comparing
with them does not compare the code with itself.
"""

from __future__ import annotations

from typing import Any


def snp_variation(sequence_id: str, start: int, ref: str, alt: str) -> dict[str, Any]:
    """The `variation` of a single-base substitution at 0-based `start` (a VRS 1.x SequenceLocation)."""
    return {
        "variantType": "SNP",
        "referenceBases": ref,
        "alternateBases": alt,
        "location": {
            "type": "SequenceLocation",
            "sequence_id": sequence_id,
            "interval": {
                "type": "SequenceInterval",
                "start": {"type": "Number", "value": start},
                "end": {"type": "Number", "value": start + 1},
            },
        },
    }


def chr22_snv(vid: str, start: int, case_level_data: list[dict[str, Any]]) -> dict[str, Any]:
    """A genomicVariation record of an A>G substitution on GRCh38 chr22 with the given carriers."""
    variation = snp_variation("refseq:NC_000022.11", start, "A", "G")
    return {"variantInternalId": vid, "variation": variation, "caseLevelData": case_level_data}


def variant_answer_meta(beacon_id: str, **request_summary: Any) -> dict[str, Any]:
    """The `meta` of a record-granularity genomicVariant answer; `request_summary` adds members to the request echo."""
    return {
        "beaconId": beacon_id,
        "apiVersion": "v2.0.0",
        "returnedGranularity": "record",
        "receivedRequestSummary": {
            "apiVersion": "v2.0.0",
            "requestedSchemas": [],
            "pagination": {"skip": 0, "limit": 10},
            "requestedGranularity": "record",
            **request_summary,
        },
        "returnedSchemas": [{"entityType": "genomicVariant", "schema": "ga4gh-beacon-variant-v2.0.0"}],
    }
