"""Which assembly a coordinate query is in, checked against the assemblies of the datasets it searches.

A coordinate means nothing without its assembly. One assembly in scope: a query without
`assemblyId` is taken to be in it. Several: the query must say (a 400 otherwise). Datasets of
another assembly are searched with lifted coordinates when a chain file is configured, and
otherwise named in the answer's warnings, never silently empty (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from beacon.errors import InvalidRequest
from beacon.genome.assemblies import ASSEMBLY_SYNONYMS, canonical_assembly, refseq_chromosome
from beacon.genome.liftover import Lifter, NotLiftable
from beacon.model.request import VariantParams


def unknown_assembly_message(name: str) -> str:
    known = ", ".join(f"{k} ({', '.join(v)})" for k, v in ASSEMBLY_SYNONYMS.items())
    return f"assemblyId: unknown assembly {name!r}; known: {known}"


def has_coordinates(params: VariantParams) -> bool:
    return bool(params.start) or (params.genomicAlleleShortForm or "").find(":g.") > 0


def query_assembly(params: VariantParams) -> str | None:
    """The assembly the request names, by assemblyId or by a versioned RefSeq accession.

    :raise InvalidRequest: an assemblyId that names no known assembly (the message lists them).
    """
    if params.assemblyId:
        canonical = canonical_assembly(params.assemblyId)
        if canonical is None:
            raise InvalidRequest(unknown_assembly_message(params.assemblyId))
        return canonical
    for name in (params.referenceName, (params.genomicAlleleShortForm or "").split(":")[0]):
        found = refseq_chromosome(name) if name else None
        if found and found[1]:
            return found[1]
    return None


@dataclass(frozen=True)
class SearchGroup:
    """Datasets searched with the same variant parameters (the query's own, or lifted to their assembly)."""

    datasets: tuple[str, ...]
    params: VariantParams
    assembly: str | None = None
    lifted_to: str | None = None


def assembly_groups(
    params: VariantParams,
    dataset_assemblies: Mapping[str, str | None],
    lifters: Mapping[tuple[str, str], Lifter],
) -> tuple[list[SearchGroup], list[str]]:
    """How each dataset is searched, and warnings for datasets that cannot be.

    Datasets on the query's assembly (or of unknown assembly) get the query as is; datasets on
    another assembly get it lifted when a chain file is configured, else they are left out with a
    warning, as are positions that do not lift.

    :raise InvalidRequest: coordinates without an assembly while datasets of several assemblies are in scope.
    """
    datasets = tuple(dataset_assemblies)
    known = {a for a in dataset_assemblies.values() if a}
    if not has_coordinates(params):
        # Coordinate-free queries search every dataset; grouped by assembly for gene regions.
        by_assembly: dict[str | None, list[str]] = {}
        for dataset, assembly in dataset_assemblies.items():
            by_assembly.setdefault(assembly, []).append(dataset)
        return [SearchGroup(tuple(ds), params, a) for a, ds in by_assembly.items()] or [SearchGroup((), params)], []
    asked = query_assembly(params)
    if asked is None:
        if len(known) > 1:
            msg = (
                f"assemblyId is required: the datasets searched are in {', '.join(sorted(known))}; "
                "coordinates differ between assemblies"
            )
            raise InvalidRequest(msg)
        return [SearchGroup(datasets, params, next(iter(known), None))], []
    same = tuple(d for d, a in dataset_assemblies.items() if not a or a == asked)
    groups = [SearchGroup(same, params, asked)]
    warnings: list[str] = []
    for target in sorted(known - {asked}):
        members = tuple(d for d, a in dataset_assemblies.items() if a == target)
        lifter = lifters.get((asked, target))
        if lifter is None or params.referenceName is None:
            warnings += [
                f"dataset {d} is on {target}, the query on {asked}: not searched (no liftover configured)"
                for d in members
            ]
            continue
        try:
            groups.append(SearchGroup(members, lifter.params(params), target, lifted_to=target))
        except NotLiftable as exc:
            warnings += [f"dataset {d} is on {target}: not searched ({exc})" for d in members]
    return groups, warnings
