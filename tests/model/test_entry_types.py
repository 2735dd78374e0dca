"""What the rest of the code derives from the entry-type table, pinned as values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from beacon.model.entry_types import DEFAULT_ENTRY_TYPES, DEFAULT_TABLE, EntryTypeTable
from beacon.store import loading, mongo, mongo_schema, sqlite_bins


def test_collections_come_in_load_order_collections_before_their_members_and_variants_last() -> None:
    expected = ("datasets", "cohorts", "individuals", "biosamples", "runs", "analyses", "g_variants")
    assert DEFAULT_TABLE.collections() == expected
    assert expected == loading.LOAD_ORDER
    assert expected == mongo.ENTRY_COLLECTIONS


def test_the_variant_collection_is_named_once_by_the_table() -> None:
    variants = DEFAULT_TABLE.variants()
    assert variants is not None
    assert (variants.id, variants.collection) == ("genomicVariant", "g_variants")
    assert variants.collection == sqlite_bins.VARIANTS
    assert mongo_schema.indexes_for(variants.collection) == mongo_schema.RECORD_INDEXES + mongo_schema.VARIANT_INDEXES
    assert mongo_schema.indexes_for("individuals") == mongo_schema.RECORD_INDEXES


def test_a_table_without_the_variant_type_has_no_variants() -> None:
    table = DEFAULT_TABLE.with_overrides({"g_variants": {"enabled": False}})
    assert table.variants() is None
    assert table.variant_type().id == "genomicVariant"  # variant parameters still name it
    assert table.variant_collections() == frozenset({"g_variants"})  # stores keep the collection


@pytest.mark.parametrize(
    ("flag", "ids"),
    [
        ("is_collection", {"cohort", "dataset"}),
        ("terms_over_all_entries", {"cohort", "dataset"}),
        ("lists_datasets", {"dataset"}),
        ("holds_variants", {"genomicVariant"}),
        ("filtering_terms_per_record", {"cohort", "dataset", "individual"}),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_which_entry_types_carry_each_flag(flag: str, ids: set[str]) -> None:
    assert {t.id for t in DEFAULT_ENTRY_TYPES if getattr(t, flag)} == ids


def test_own_kind_is_the_key_naming_the_record_itself() -> None:
    kinds = {t.id: t.own_kind for t in DEFAULT_ENTRY_TYPES}
    assert kinds == {
        "analysis": "analysis",
        "biosample": "biosample",
        "cohort": "cohort",
        "dataset": "dataset",
        "genomicVariant": None,
        "individual": "individual",
        "run": "run",
    }


def test_two_variant_types_or_a_repeated_path_are_refused() -> None:
    analysis = DEFAULT_ENTRY_TYPES[0]
    with pytest.raises(ValueError, match="at most one holds genomic variants"):
        EntryTypeTable((*DEFAULT_ENTRY_TYPES, replace(analysis, id="x", path="x", holds_variants=True)))
    with pytest.raises(ValueError, match="ids and paths must be unique"):
        EntryTypeTable((*DEFAULT_ENTRY_TYPES, replace(analysis, id="x")))
