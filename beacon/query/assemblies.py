"""Which assembly a coordinate query is in, checked against the assemblies of the datasets it searches.

A coordinate means nothing without its assembly. One assembly in scope: a query without
`assemblyId` is taken to be in it. Several: the query must say (a 400 otherwise). Datasets of
another assembly than the query's are named in the answer's warnings, never silently empty
(docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from beacon.errors import InvalidRequest
from beacon.genome.assemblies import canonical_assembly, refseq_chromosome
from beacon.model.request import VariantParams


def has_coordinates(params: VariantParams) -> bool:
    return bool(params.start) or (params.genomicAlleleShortForm or "").find(":g.") > 0


def query_assembly(params: VariantParams) -> str | None:
    """The assembly the request names, by assemblyId or by a versioned RefSeq accession."""
    if params.assemblyId:
        return canonical_assembly(params.assemblyId)
    for name in (params.referenceName, (params.genomicAlleleShortForm or "").split(":")[0]):
        found = refseq_chromosome(name) if name else None
        if found and found[1]:
            return found[1]
    return None


def assembly_warnings(params: VariantParams, dataset_assemblies: Mapping[str, str | None]) -> list[str]:
    """Warnings for datasets the query cannot match because of their assembly.

    :raise InvalidRequest: coordinates without an assembly while datasets of several assemblies are in scope.
    """
    if not has_coordinates(params):
        return []
    known = {a for a in dataset_assemblies.values() if a}
    asked = query_assembly(params)
    if asked is None:
        if len(known) > 1:
            msg = (
                f"assemblyId is required: the datasets searched are in {', '.join(sorted(known))}; "
                "coordinates differ between assemblies"
            )
            raise InvalidRequest(msg)
        return []
    return [
        f"dataset {dataset} is on {assembly}, the query on {asked}: not searched (no liftover configured)"
        for dataset, assembly in sorted(dataset_assemblies.items())
        if assembly and assembly != asked
    ]
