"""Cross-entity pivots are chosen from the entry-type table, not from names in code."""

from __future__ import annotations

import pytest

from beacon.model.entry_types import EntryTypeTable
from beacon.query.planner import pivot, self_kind

TABLE = EntryTypeTable()


@pytest.mark.parametrize(
    ("source", "target", "kind"),
    [
        ("genomicVariant", "individual", "individual"),
        ("genomicVariant", "biosample", "biosample"),
        ("genomicVariant", "run", "biosample"),
        ("biosample", "individual", "individual"),
        ("individual", "biosample", "individual"),
        ("genomicVariant", "cohort", "cohort"),
        ("run", "analysis", "biosample"),
    ],
    ids=lambda v: v,
)
def test_pivot_kind(source: str, target: str, kind: str) -> None:
    assert pivot(TABLE.by_id(source), TABLE.by_id(target)) == kind


def test_every_record_type_has_its_own_key_kind() -> None:
    kinds = {t.id: self_kind(t) for t in TABLE.enabled() if t.id != "genomicVariant"}
    assert kinds == {
        "analysis": "analysis",
        "biosample": "biosample",
        "cohort": "cohort",
        "dataset": "dataset",
        "individual": "individual",
        "run": "run",
    }


def test_every_lookup_target_is_reachable_through_its_via_key() -> None:
    for entry in TABLE.enabled():
        for lookup, target in TABLE.lookups_of(entry):
            target_kinds = {k.kind for k in target.links} | {"cohort", "dataset"}
            assert lookup.via in target_kinds, f"{entry.path}/{{id}}/{target.path} via {lookup.via}"
