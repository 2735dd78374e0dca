"""Golden MongoDB documents: filter documents, pipelines and index definitions change only deliberately.

Every variant query type and every plan node is pinned, next to every index definition. Regenerate
after an intended change with `BEACON_UPDATE_GOLDEN=1 make test` and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from beacon.model import plan as nodes
from beacon.model.request import VariantParams
from beacon.query.variants import variant_condition
from beacon.store.mongo import ENTRY_COLLECTIONS
from beacon.store.mongo_schema import DATASETS_LOADED, SAMPLES, TERM_CATALOG, indexes_for
from beacon.store.mongo_translate import (
    SAMPLE_FIELDS,
    Scope,
    carrier_sources_filter,
    carrier_targets_filter,
    find_spec,
    keys_pipeline,
    like_regex,
    match_filter,
    related_conditions,
    related_found,
    related_pipeline,
    samples_by_id,
    samples_by_index,
)
from tests.store import plan_table

GOLDEN = Path(__file__).parent / "golden" / "mongo_plans.json"
SCOPE = Scope(generations=(3, 7), max_span=1_000_000, by_dataset=(("d1", (3,)), ("d2", (7,))))

VARIANT_QUERIES = {
    **plan_table.variant_queries(gene="BRCA2", variant_type="DEL"),
    "any alternate base": VariantParams(referenceName="22", start=(16050074,), alternateBases="N"),
}

PLANS = {
    **{
        f"variants: {name}": nodes.Query("g_variants", ("d1",), variant_condition(params), 0, 10)
        for name, params in VARIANT_QUERIES.items()
    },
    **plan_table.PLANS,
    "not equal type": nodes.Query("g_variants", ("d1",), nodes.Compare(nodes.Field.TYPE, "!=", "SNP")),
    "text equals": nodes.Query("runs", ("d1",), nodes.HasValue("libraryStrategy", "=", "WGS")),
}

ALLELE = plan_table.ALLELE
CARRIERS = nodes.Related("g_variants", "individual", ALLELE)
BLOOD = nodes.Related("biosamples", "individual", nodes.HasTerm(("UBERON:0000178",)))
RELATED_PLANS = {
    **plan_table.RELATED_PLANS,
    "carriers and a term": nodes.Query("individuals", ("d1",), nodes.And((nodes.HasTerm(("NCIT:C16576",)), CARRIERS))),
    "samples of individuals with a blood sample": nodes.Query(
        "biosamples", ("d1", "d2"), nodes.Related("individuals", "individual", BLOOD)
    ),
    "datasets holding the allele": nodes.Query(
        "datasets", ("d1", "d2"), nodes.Related("g_variants", nodes.SAME_DATASET, ALLELE)
    ),
    "carriers nowhere": nodes.Query(
        "individuals", ("d1", "d2"), nodes.Related("g_variants", "individual", nodes.Compare(nodes.Field.START, "=", 1))
    ),
}
# What a first step could have found: d1 holds one carrier, d2 two; nobody carries a variant at 1.
FIRST_STEP_ROWS: dict[str, list[dict[str, Any]]] = {
    "individual": [
        {"_id": {"ds": "d1", "key": "individual:HG1"}},
        {"_id": {"ds": "d2", "key": "individual:HG2"}},
        {"_id": {"ds": "d2", "key": "individual:HG1"}},
    ],
    nodes.SAME_DATASET: [{"_id": "d2"}],
}


# What a set step could have found: in d2, the variants of seq 7 and 9 hold a sample of a found carrier.
CARRIED = {"d2": (7, 9)}


def _first_steps(query: nodes.Query, scope: Scope) -> tuple[Scope, dict[str, object]]:
    """The scope knowing the (made-up) first step of each Related, and the first-step pipelines and reads."""
    pipelines: dict[str, object] = {}
    for n, cond in enumerate(related_conditions(query.where)):
        pipelines[f"first step {n}: {cond.source} by {cond.via}"] = related_pipeline(cond, scope)
        rows = [] if cond.where == nodes.Compare(nodes.Field.START, "=", 1) else FIRST_STEP_ROWS[cond.via]
        scope = scope.with_related(cond, related_found(cond, rows))
        if cond.via in SAMPLE_FIELDS:
            # Carrier sets (beacon/store/mongo_carriers.py): the sources' sets, their members' ids, the
            # ids' samples, each generation's variants holding sets; and the seqs the sets linked.
            pipelines[f"set step {n}: sources with sets"] = carrier_sources_filter(cond, scope)
            pipelines[f"set step {n}: members to ids"] = samples_by_index(3, [0, 5, 9])
            pipelines[f"set step {n}: ids to members"] = samples_by_id((3, 4), cond.via, ["HG1", "HG2"])
            pipelines[f"set step {n}: candidate variants"] = carrier_targets_filter(3)
            scope = scope.with_carried(cond, CARRIED if rows else {})
    return scope, pipelines


def render() -> dict[str, object]:
    plans: dict[str, object] = {}
    for name, query in PLANS.items():
        spec = find_spec(query, SCOPE)
        plans[name] = {
            "count d1": match_filter(query, SCOPE.of("d1")),
            "find": {
                "filter": spec.filter,
                "projection": spec.projection,
                "sort": spec.sort,
                "skip": spec.skip,
                "limit": spec.limit,
                "hint": spec.hint,
            },
            "keys": keys_pipeline(query, SCOPE, "individual"),
        }
    for name, query in RELATED_PLANS.items():
        scope, pipelines = _first_steps(query, SCOPE)
        plans[f"related: {name}"] = {
            **pipelines,
            "count d1": match_filter(query, scope.of("d1")),
            "find": find_spec(query, scope).filter,
        }
    indexes = {c: list(indexes_for(c)) for c in (*ENTRY_COLLECTIONS, DATASETS_LOADED, TERM_CATALOG, SAMPLES)}
    return {"plans": plans, "indexes": indexes}


def test_filter_documents_pipelines_and_indexes_match_golden_file() -> None:
    rendered = json.loads(json.dumps(render()))
    if os.environ.get("BEACON_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rendered, indent=1) + "\n")
    assert rendered == json.loads(GOLDEN.read_text())


def test_every_variant_query_is_bounded_by_the_position_index_or_a_key() -> None:
    """No variant query type may fall back to scanning the generation: each pins a chromosome or a key."""
    for name, params in VARIANT_QUERIES.items():
        text = json.dumps(find_spec(nodes.Query("g_variants", ("d1",), variant_condition(params)), SCOPE).filter)
        assert '"v.chr"' in text or '"keys"' in text, name


def test_a_range_query_bounds_start_by_the_longest_loaded_span() -> None:
    spec = find_spec(PLANS["variants: range"], SCOPE)
    assert {"v.end": {"$gt": 16060000}} in spec.filter["$and"]
    assert {"v.start": {"$gte": 16060000 - SCOPE.max_span}} in spec.filter["$and"]


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("Ill%", "Illumina HiSeq", True),
        ("ill%", "Illumina", True),
        ("%Seq", "Illumina HiSeq", True),
        ("a_b%", "axb", False),
        ("a_b%", "a_bc", True),
        ("1.5%", "125", False),
        ("%(x)%", "a(x)b", True),
        ("ILL%", "illumina", True),
        ("é%", "Élan", False),
        ("k%", "\u212a", False),
        ("a\nb%", "a\nbc", True),
    ],
)
def test_like_patterns_treat_only_percent_as_a_wildcard(pattern: str, text: str, matches: bool) -> None:
    import re

    # Matched as the store asks: dotall, no case-insensitive option (ASCII case is folded in the expression).
    assert bool(re.match(like_regex(pattern), text, re.DOTALL)) is matches


def test_a_related_condition_cannot_translate_before_its_first_step() -> None:
    with pytest.raises(LookupError, match="has not run"):
        match_filter(RELATED_PLANS["carriers of an allele"], SCOPE)


def test_the_first_steps_run_inner_related_conditions_first() -> None:
    query = RELATED_PLANS["samples of individuals with a blood sample"]
    assert query.where is not None
    assert related_conditions(query.where) == [BLOOD, query.where]


def test_a_range_query_bounds_start_by_the_longest_span_on_its_own_chromosome() -> None:
    """Issue 27, finding 6: a 5 Mb CNV on X does not widen a range on 22."""
    scope = dataclasses.replace(SCOPE, spans=(("22", 500), ("X", 5_000_000)))
    spec = find_spec(PLANS["variants: range"], scope)
    assert {"v.start": {"$gte": 16060000 - 500}} in spec.filter["$and"]
    assert spec.hint == "by_position_gen"


def test_pages_are_sorted_in_an_order_the_generation_index_supplies_for_any_number_of_generations() -> None:
    """Issue 27, finding 7: sorted by `seq` alone, more than 200 generations in `$in` meant an in-memory sort."""
    spec = find_spec(PLANS["unfiltered"], SCOPE)
    (by_generation,) = [i for i in indexes_for("g_variants") if i["name"] == "by_generation"]
    assert [[field, order] for field, order in spec.sort] == by_generation["keys"]
