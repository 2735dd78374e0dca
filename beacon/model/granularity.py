"""Closed vocabularies of the request: granularity and which result sets to include."""

from __future__ import annotations

from enum import StrEnum


class Granularity(StrEnum):
    """Level of detail of an answer, coarsest first."""

    BOOLEAN = "boolean"
    COUNT = "count"
    RECORD = "record"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_most(self, *limits: Granularity) -> Granularity:
        """The coarsest of self and every limit: an answer never gets finer than any of them."""
        return min((self, *limits), key=lambda g: g.rank)


_RANK = {Granularity.BOOLEAN: 0, Granularity.COUNT: 1, Granularity.RECORD: 2}


class IncludeResultsets(StrEnum):
    """`includeResultsetResponses`: which per-dataset result sets an answer lists."""

    HIT = "HIT"
    MISS = "MISS"
    ALL = "ALL"
    NONE = "NONE"

    def keeps(self, exists: bool) -> bool:
        if self is IncludeResultsets.ALL:
            return True
        if self is IncludeResultsets.NONE:
            return False
        return exists == (self is IncludeResultsets.HIT)


class SecurityLevel(StrEnum):
    """Who may see a dataset at all (issue: access control refines this)."""

    PUBLIC = "public"
    REGISTERED = "registered"
    CONTROLLED = "controlled"
