"""The VRS 1.3 allele shape Beacon genomicVariations carry in `variation`, built in one place.

The VCF loader writes it and the embedded store rebuilds it from its columns: both must produce the
same document, key order included.
"""

from __future__ import annotations

from typing import Any

from beacon.genome.assemblies import sequence_id


def sequence_variation(
    variant_type: str, ref: str, alt: str, chrom: str, assembly: str, start: int, end: int
) -> dict[str, Any]:
    """`variation` of an allele at 0-based interbase `start`..`end` on `chrom` of `assembly`."""
    return {
        "variantType": variant_type,
        "referenceBases": ref,
        "alternateBases": alt,
        "location": {
            "type": "SequenceLocation",
            "sequence_id": sequence_id(chrom, assembly),
            "interval": {
                "type": "SequenceInterval",
                "start": {"type": "Number", "value": start},
                "end": {"type": "Number", "value": end},
            },
        },
    }
