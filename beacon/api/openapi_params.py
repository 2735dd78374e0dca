"""The request side of the OpenAPI document: query parameters as `api/parse.py` takes them, and example bodies.

Names come from the parser itself (`GET_PARAMS`, `VARIANT_PARAMS`, `VARIANT_ALIASES`); this module
adds what a reader needs for each: the type, enum and limits the parser enforces, a description
and an example value.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import Any

from beacon.api.parse import GET_PARAMS, VARIANT_ALIASES, VARIANT_PARAMS
from beacon.config import Config
from beacon.model.entry_types import EntryType
from beacon.model.granularity import Granularity, IncludeResultsets
from beacon.model.request import API_VERSION, VariantParams

PAGING_PARAMS = ("skip", "limit", "datasetIds", "testMode")

# Example values valid on the CINECA synthetic cohort (GRCh37, chromosome 22): its first variant.
_VARIANT_EXAMPLE: dict[str, Any] = {
    "assemblyId": "GRCh37",
    "referenceName": "22",
    "start": [16050074],
    "referenceBases": "G",
    "alternateBases": "A",
}
_FILTER_EXAMPLE = "NCIT:C16576"  # female (NCI Thesaurus), a term of the CINECA individuals
_BASES_PATTERN = "^[ACGTUNRYSWKMBDHVacgtunryswkmbdhv.-]+$"


def _list(item: dict[str, Any], max_items: int | None = None, min_items: int = 1) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "items": item, "minItems": min_items}
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def _parameter_docs(config: Config, target: EntryType | None) -> dict[str, tuple[dict[str, Any], str, Any]]:
    """Every GET parameter the parser takes: (schema, description, example), for one returned entry type.

    Without an entry type (the filtering terms of all of them) the requested schemas are left out.
    """
    q = config.query
    text = {"type": "string", "minLength": 1}
    position = _list({"type": "integer", "minimum": 0}, max_items=2)
    length = {"type": "integer", "minimum": 0}
    bases = {"type": "string", "pattern": _BASES_PATTERN}
    datasets = [d.id for d in config.datasets if not d.test] or ["my-dataset"]
    docs: dict[str, tuple[dict[str, Any], str, Any]] = {
        "assemblyId": (text, "Assembly of the coordinates (GRCh37, GRCh38, hg19 … and synonyms).", "GRCh37"),
        "referenceName": (
            text,
            "Chromosome or sequence accession (`22`, `chr22`, `NC_000022.10`); needs `start`, `geneId` or `mateName`.",
            "22",
        ),
        "start": (
            position,
            "0-based start; two values give a bracket (min,max). Needs `referenceName`, and `end` (range or "
            "bracket) or `alternateBases`/`variantType` (sequence query).",
            _VARIANT_EXAMPLE["start"],
        ),
        "end": (
            position,
            "0-based exclusive end; two values give a bracket (min,max). Needs `referenceName` and `start`.",
            [16050075],
        ),
        "referenceBases": (bases, "Reference bases (IUPAC codes, case-insensitive).", "G"),
        "alternateBases": (bases, "Alternate bases (IUPAC codes, case-insensitive).", "A"),
        "variantType": (text, "Variant type: VCF, SO or EFO term (`docs/variant-types.md`).", "SNP"),
        "variantMinLength": (length, "Minimum variant length in bases.", 1),
        "variantMaxLength": (length, "Maximum variant length in bases.", 100),
        "mateName": (text, "Chromosome of the mate of a breakend.", "22"),
        "geneId": (text, "Gene symbol the variants are annotated with or overlap.", "BRCA2"),
        "aminoacidChange": (text, "Protein change in any notation (V600E, p.Val600Glu).", "V600E"),
        "genomicAlleleShortForm": (text, "HGVS expression of the allele.", "NC_000022.10:g.16050075G>A"),
        "skip": ({"type": "integer", "minimum": 0, "default": 0}, "Pages to skip (skip × limit records).", 0),
        "limit": (
            {"type": "integer", "minimum": 0, "default": q.default_limit},
            f"Records per page; 0 or more than {q.max_limit} means {q.max_limit}.",
            q.default_limit,
        ),
        "includeResultsetResponses": (
            {"type": "string", "enum": [m.value for m in IncludeResultsets], "default": IncludeResultsets.HIT.value},
            "Which per-dataset result sets to list.",
            IncludeResultsets.ALL.value,
        ),
        "filters": (
            _list(text, q.max_filters),
            "Ontology or custom filter term ids, all of which must match; an alphanumeric filter is written "
            "`ID:OPERATORVALUE`, e.g. `PATO_0000011:>P70Y` or `age:>=P45Y6M` (docs/filters.md).",
            [_FILTER_EXAMPLE],
        ),
        "filterGroup": (
            {"type": "string", "pattern": "^(anyOf|noneOf):[^,]+(,[^,]+)*$"},
            "Extension of this beacon (docs/filters.md): `anyOf:ID1,ID2` matches records with any of the terms, "
            "`noneOf:ID1,ID2` records with none of them; repeat the parameter for more groups, "
            "all ANDed with `filters`.",
            f"anyOf:{_FILTER_EXAMPLE},NCIT:C20197",
        ),
        "requestedGranularity": (
            {"type": "string", "enum": [m.value for m in Granularity], "default": q.default_granularity.value},
            "Level of detail asked for; the answer is never finer than the datasets allow.",
            Granularity.COUNT.value,
        ),
        "testMode": ({"type": "boolean", "default": False}, "Search the test datasets instead.", False),
        "datasetIds": (_list(text, q.max_values), "Restrict the search to these datasets.", datasets[:1]),
        "apiVersion": (text, "Beacon API version of the request.", API_VERSION),
    }
    if target is not None:
        schemas = _list({"type": "string", "enum": [target.schema_id, target.id]}, q.max_values)
        docs["requestedSchema"] = (schemas, "Schemas of the returned records (the default only).", [target.schema_id])
        docs["requestedSchemas"] = (schemas, "Same as `requestedSchema`.", [target.schema_id])
    for alias, name in VARIANT_ALIASES.items():
        schema, _, example = docs[name]
        docs[alias] = (schema, f"Alias of `{name}`.", example)
    return docs


def entry_params() -> tuple[str, ...]:
    """The parser's names: variant parameters in model order, then aliases, then the others."""
    variant = tuple(f.name for f in fields(VariantParams) if f.name in VARIANT_PARAMS)
    return variant + tuple(sorted(VARIANT_ALIASES)) + tuple(sorted(GET_PARAMS))


_PER_TARGET = ("requestedSchema", "requestedSchemas")


def parameter_key(name: str, target: EntryType | None) -> str:
    """The components/parameters key: parameters that depend on the returned entry type exist once per type."""
    return f"{name}-{target.id}" if name in _PER_TARGET and target is not None else name


def parameter_components(config: Config) -> dict[str, Any]:
    out: dict[str, Any] = {}
    targets: list[EntryType | None] = [None, *config.entry_types.enabled()]
    for target in targets:
        for name, (schema, description, example) in _parameter_docs(config, target).items():
            key = parameter_key(name, target)
            if key in out:
                continue
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": schema,
                "example": example,
            }
            if schema["type"] == "array":
                # Comma-separated; the server also accepts the parameter repeated.
                param.update(style="form", explode=False)
            out[key] = param
    return out


def body_examples(config: Config, target: EntryType | None) -> dict[str, Any]:
    """Example request bodies: an empty one, and per entry type a sequence query and a filter query."""
    meta: dict[str, Any] = {"apiVersion": API_VERSION}
    if target is None:
        return {"minimal": {"summary": "An empty request", "value": {"meta": meta}}}
    meta["requestedSchemas"] = [target.schema_id]
    paging = {"skip": 0, "limit": config.query.default_limit}
    return {
        f"variant-{target.id}": {
            "summary": "A sequence query",
            "value": {
                "meta": meta,
                "query": {
                    "requestParameters": copy.deepcopy(_VARIANT_EXAMPLE),
                    "requestedGranularity": Granularity.COUNT.value,
                    "pagination": paging,
                },
            },
        },
        f"filter-{target.id}": {
            "summary": "An ontology filter",
            "value": {
                "meta": meta,
                "query": {
                    "filters": [{"id": _FILTER_EXAMPLE}],
                    "requestedGranularity": Granularity.COUNT.value,
                    "includeResultsetResponses": IncludeResultsets.HIT.value,
                    "pagination": paging,
                    "testMode": False,
                },
            },
        },
    }


def example_components(config: Config) -> dict[str, Any]:
    out = body_examples(config, None)
    for target in config.entry_types.enabled():
        out.update(body_examples(config, target))
    return out
