"""A parsed Beacon request: frozen values built once per HTTP request by `api/parse.py`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from beacon.model.granularity import Granularity, IncludeResultsets

API_VERSION = "v2.0.0"

# The largest integer a request may carry: positions, lengths, skip and limit. No sequenced chromosome is
# longer than a few Gb, so a position or length beyond 10^10 is outside any genome; and every sum or product
# the query layer makes of these (a page offset is skip × limit ≤ 10^13) stays far inside SQLite's and
# BSON's 64-bit integers, where a larger number would be an OverflowError, not an answer.
MAX_INTEGER = 10_000_000_000


@dataclass(frozen=True)
class VariantParams:
    """The g_variant request parameters (names as in genomicVariations/requestParameters.json)."""

    assemblyId: str | None = None
    referenceName: str | None = None
    start: tuple[int, ...] = ()
    end: tuple[int, ...] = ()
    referenceBases: str | None = None
    alternateBases: str | None = None
    variantType: str | None = None
    variantMinLength: int | None = None
    variantMaxLength: int | None = None
    mateName: str | None = None
    geneId: str | None = None
    aminoacidChange: str | None = None
    genomicAlleleShortForm: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) in (None, ()) for f in fields(self))

    def query_type(self) -> str:
        """The kind of variant query, as metrics name it (`none` when no variant parameter was given).

        The most specific parameter names it: an HGVS form, an amino-acid change or a gene id win over
        coordinates; coordinates make a bracket (two starts or ends), range (start and end) or sequence
        (start only) query; anything else (e.g. variantType or mateName alone) is `other`.
        """
        if self.is_empty():
            return "none"
        for name in ("genomicAlleleShortForm", "aminoacidChange", "geneId"):
            if getattr(self, name) is not None:
                return name
        if len(self.start) == 2 or len(self.end) == 2:
            return "bracket"
        if self.start and self.end:
            return "range"
        if self.start:
            return "sequence"
        return "other"

    def as_echo(self) -> dict[str, Any]:
        """The parameters that were given, in request form (lists for start/end)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, ()):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class Filter:
    """One filter: ontology/custom (id only) or alphanumeric (id, operator, value)."""

    id: str
    operator: str | None = None
    value: str | None = None
    include_descendant_terms: bool = True
    similarity: str = "exact"
    scope: str | None = None

    @property
    def is_alphanumeric(self) -> bool:
        return self.operator is not None

    def as_text(self) -> str:
        """The string form echoed in receivedRequestSummary.filters (the schema wants strings)."""
        if self.operator is not None:
            return f"{self.id}{self.operator}{self.value}"
        return self.id


@dataclass(frozen=True)
class FilterGroup:
    """Extension (docs/filters.md): records matching any (`anyOf`) or none (`noneOf`) of `filters`."""

    kind: Literal["anyOf", "noneOf"]
    filters: tuple[Filter, ...]

    def as_echo(self) -> dict[str, list[str]]:
        """The group as echoed in the response's `info.filterGroups`."""
        return {self.kind: [f.as_text() for f in self.filters]}


@dataclass(frozen=True)
class BeaconRequest:
    """Everything a handler needs from the query string or body, validated."""

    api_version: str = API_VERSION
    requested_schemas: tuple[str, ...] = ()
    variant: VariantParams = field(default_factory=VariantParams)
    dataset_ids: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    # Extension: groups ANDed with `filters`; echoed in `info`, since receivedRequestSummary has no place for them.
    filter_groups: tuple[FilterGroup, ...] = ()
    granularity: Granularity = Granularity.BOOLEAN
    granularity_given: bool = False
    include: IncludeResultsets = IncludeResultsets.HIT
    skip: int = 0
    limit: int = 10
    limit_given: bool = False
    test_mode: bool = False

    def summary(self, entity_type: str) -> dict[str, Any]:
        """`meta.receivedRequestSummary`: the request as interpreted, in its schema-valid form."""
        params: dict[str, Any] = {}
        if not self.variant.is_empty():
            params["g_variant"] = self.variant.as_echo()
        if self.dataset_ids:
            params["datasets"] = {"datasetIds": list(self.dataset_ids)}
        out: dict[str, Any] = {
            "apiVersion": self.api_version,
            "requestedSchemas": [{"entityType": entity_type, "schema": s} for s in self.requested_schemas],
            "pagination": {"skip": self.skip, "limit": self.limit},
            "requestedGranularity": self.granularity.value,
            "includeResultsetResponses": self.include.value,
            "testMode": self.test_mode,
        }
        if self.filters:
            out["filters"] = [f.as_text() for f in self.filters]
        if params:
            out["requestParameters"] = params
        return out
