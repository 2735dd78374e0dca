"""Plans as values: cross-entity pivots chosen from the entry-type table, Related nodes, a pure planner."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from beacon.errors import InvalidRequest
from beacon.model.entry_types import EntryTypeTable
from beacon.model.plan import (
    SAME_DATASET,
    And,
    Compare,
    Condition,
    Field,
    HasTerm,
    HasValue,
    Not,
    Or,
    Related,
)
from beacon.model.request import BeaconRequest, Filter, FilterGroup, VariantParams
from beacon.ontology import Ontology, OntologySet
from beacon.query import planner
from beacon.query.catalog import TermCatalog, catalog_collections, read_term_catalog
from beacon.query.planner import PlanContext, filter_warnings, lookup_condition, pivot, plan_condition, self_kind
from beacon.store.base import Term

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


# -- plans as values: cross-entity conditions are Related nodes, built without a store -----------------

TINY = Ontology("X", {"X:1": "root", "X:2": "child", "X:3": "grandchild"}, {"X:2": ("X:1",), "X:3": ("X:2",)})
CONTEXT = PlanContext(TABLE, OntologySet({"X": TINY}))
ALLELE = VariantParams(referenceName="22", start=(199,), referenceBases="G", alternateBases="A")
ALLELE_CONDITION = And(
    (
        Compare(Field.CHROM, "=", "22"),
        Compare(Field.START, "=", 199),
        Compare(Field.REF, "=", "G"),
        Compare(Field.ALT, "=", "A"),
    )
)


def _plan(target: str, context: PlanContext = CONTEXT, **request: Any) -> Condition | None:
    return plan_condition(BeaconRequest(**request), TABLE.by_id(target), context)


def test_an_allele_on_g_variants_stays_the_equality_lookup() -> None:
    """The fast lane and the store's inline point lookups depend on this shape."""
    assert _plan("genomicVariant", variant=ALLELE) == ALLELE_CONDITION


def test_an_allele_on_individuals_is_its_carriers_in_their_dataset() -> None:
    assert _plan("individual", variant=ALLELE) == Related("g_variants", "individual", ALLELE_CONDITION)
    assert _plan("biosample", variant=ALLELE) == Related("g_variants", "biosample", ALLELE_CONDITION)
    assert _plan("dataset", variant=ALLELE) == Related("g_variants", SAME_DATASET, ALLELE_CONDITION)


def test_scoped_filters_are_related_conditions_and_unscoped_ones_are_not() -> None:
    filters = (
        Filter("UBERON:0000178", scope="biosample"),
        Filter("GENO:0000458", scope="genomicVariation"),
        Filter("NCIT:C16576"),
        Filter("age", ">", "P70Y", scope="individual"),
    )
    assert _plan("individual", filters=filters) == And(
        (
            Related("biosamples", "individual", HasTerm(("UBERON:0000178",))),
            Related("g_variants", "individual", HasTerm(("GENO:0000458",))),
            HasTerm(("NCIT:C16576",)),
            HasValue("info.timeAtLastEncounter.age.iso8601duration", ">", 70 * 365.25),
        )
    )


def test_filter_groups_keep_their_scope_inside_any_of_and_none_of() -> None:
    groups = (FilterGroup("noneOf", (Filter("SO:1", scope="genomicVariation"), Filter("NCIT:C16576"))),)
    assert _plan("biosample", filter_groups=groups) == Not(
        Or((Related("g_variants", "biosample", HasTerm(("SO:1",))), HasTerm(("NCIT:C16576",))))
    )


def test_a_lookup_is_related_to_the_source_record_by_its_id() -> None:
    variants = TABLE.by_id("genomicVariant")
    assert lookup_condition(variants, "v1", "individual") == Related(
        "g_variants", "individual", Compare(Field.ID, "=", "v1")
    )
    cohort = TABLE.by_id("cohort")
    assert lookup_condition(cohort, "c1", "dataset") == Related("cohorts", SAME_DATASET, Compare(Field.ID, "=", "c1"))


def test_the_term_catalog_narrows_a_widened_term_and_names_unknown_ones() -> None:
    filters = (Filter("X:1", scope="biosample"), Filter("Y:9"))
    request = BeaconRequest(filters=filters)
    individuals = TABLE.by_id("individual")
    held = TermCatalog({"biosamples": frozenset({"X:3"}), "individuals": frozenset({"Z:1"})})
    context = replace(CONTEXT, terms=held)
    assert plan_condition(request, individuals, context) == And(
        (Related("biosamples", "individual", HasTerm(("X:1", "X:3"))), HasTerm(("Y:9",)))
    )
    # Without a catalog the hierarchy widens to every descendant, and no term can be called unknown.
    assert _plan("individual", filters=filters) == And(
        (Related("biosamples", "individual", HasTerm(("X:1", "X:2", "X:3"))), HasTerm(("Y:9",)))
    )
    assert filter_warnings(request, individuals, context) == [
        "filter Y:9: unknown term: in no loaded ontology and on no individuals record of the datasets searched, "
        "so it matches nothing"
    ]
    assert filter_warnings(request, individuals, CONTEXT) == []


def test_planning_is_pure_the_same_values_give_the_same_plan() -> None:
    request = BeaconRequest(variant=ALLELE, filters=(Filter("X:1", scope="biosample"),))
    individuals = TABLE.by_id("individual")
    assert plan_condition(request, individuals, CONTEXT) == plan_condition(request, individuals, CONTEXT)


def test_the_planner_does_not_import_the_store() -> None:
    """Planning cannot read the store: only the catalog reader (query/catalog.py) may."""
    tree = ast.parse(Path(planner.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m.startswith("beacon.store") for m in imported), imported


def test_an_unknown_scope_is_refused_before_any_catalog_is_read() -> None:
    request = BeaconRequest(filters=(Filter("X:1", scope="planet"),))
    with pytest.raises(InvalidRequest, match="unknown scope 'planet'; known: analysis, biosample, cohort"):
        catalog_collections(request, TABLE.by_id("individual"), TABLE)


class _CatalogStore:
    """Answers `terms` only, and counts the reads."""

    def __init__(self) -> None:
        self.reads: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    async def terms(self, collections: tuple[str, ...], datasets: tuple[str, ...]) -> list[Term]:
        self.reads.append((collections, datasets))
        return [Term(f"T:{collections[0]}", "ontology", "x")]


async def test_the_catalog_reads_each_filtered_collection_once() -> None:
    store = _CatalogStore()
    request = BeaconRequest(
        filters=(Filter("A:1"), Filter("A:2", scope="biosample"), Filter("age", ">", "P1Y")),
        filter_groups=(FilterGroup("anyOf", (Filter("A:3"), Filter("A:4", scope="biosample"))),),
    )
    catalog = await read_term_catalog(store, request, TABLE.by_id("individual"), TABLE, ("d1",))  # type: ignore[arg-type]
    assert store.reads == [(("individuals",), ("d1",)), (("biosamples",), ("d1",))]
    assert catalog == TermCatalog(
        {"individuals": frozenset({"T:individuals"}), "biosamples": frozenset({"T:biosamples"})}
    )
    assert catalog.of("g_variants") is None
