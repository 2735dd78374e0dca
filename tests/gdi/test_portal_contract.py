"""Contract: the GDI portal's requests against the GDI profile (deploy/gdi/) on a synthetic aggregated VCF.

The test data (tests/data/gdi/) has a country (NL, FI) and sex (M, F) population breakdown in the
aggregated VCF's INFO fields and 40 individuals with sexes, conditions and ages of onset.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from beacon.model.durations import duration_days
from tests.conftest import fetch
from tests.gdi.conftest import AF_DATASET, INDIVIDUALS_DATASET, PHENOTYPES, Node, NodeFactory
from tests.gdi.portal import (
    ABSENT_VARIANT,
    BONA_FIDE,
    DEMO_VARIANT,
    DIABETES,
    MALE,
    RARE_FI_FEMALE_VARIANT,
    STATUS,
    allele_request,
    country_filter,
    frequencies_read,
    individuals_request,
    onset,
    sex_filter,
)
from tests.security.issuers import Authority

DEMO_AF = 410 / 5008
FLOOR = 5  # deploy/gdi/individuals.yaml


# --- the allele-frequency beacon ------------------------------------------------------------------


async def test_the_demo_variant_is_found_as_the_portal_reads_it(node: Node) -> None:
    document = await fetch(node.af, "POST", "/api/g_variants", body=allele_request(DEMO_VARIANT))
    assert document["meta"]["returnedGranularity"] == "record"
    (result_set,) = document["response"]["resultSets"]
    assert (result_set["id"], result_set["setType"], result_set["resultsCount"]) == (AF_DATASET, "dataset", 1)
    (record,) = result_set["results"]
    assert "caseLevelData" not in record, "aggregated data only"
    read = frequencies_read(document)
    assert read
    assert any(abs(f["alleleFrequency"] - DEMO_AF) < 1e-6 for f in read), read


async def test_start_sent_as_a_string_like_the_reference_nodes_test_script_gets_the_same_answer(node: Node) -> None:
    as_list = await fetch(node.af, "POST", "/api/g_variants", body=allele_request(DEMO_VARIANT))
    as_text = await fetch(
        node.af, "POST", "/api/g_variants", body=allele_request({**DEMO_VARIANT, "start": "45864731"})
    )
    assert as_text["response"] == as_list["response"]


async def test_a_dataset_without_the_variant_is_left_out_of_a_hit_answer(node: Node) -> None:
    document = await fetch(node.af, "POST", "/api/g_variants", body=allele_request(ABSENT_VARIANT))
    assert document["responseSummary"]["exists"] is False
    assert document["response"]["resultSets"] == []


async def test_post_datasets_lists_the_allele_frequency_dataset(node: Node) -> None:
    document = await fetch(node.af, "POST", "/api/datasets", body={"meta": {"apiVersion": "2.0"}, "query": {}})
    ids = [d["id"] for d in document["response"]["collections"]]
    assert ids == [AF_DATASET]


async def test_the_allele_frequency_beacon_serves_variants_and_datasets_only(node: Node) -> None:
    document = await fetch(node.af, "GET", "/api/map", endpoint="map")
    assert set(document["response"]["endpointSets"]) == {"genomicVariant", "dataset"}
    resp = await node.af.post("/api/individuals", json={})
    assert resp.status == 404


def _population(f: dict[str, Any]) -> str:
    return str(f["population"])


async def test_allele_counts_per_population_come_from_the_aggregated_vcfs_info(node: Node) -> None:
    read = {_population(f): f for f in frequencies_read(await _allele(node, DEMO_VARIANT))}
    expected = {"NL": (250, 2504), "FI": (160, 2504), "M": (200, 2502), "F": (210, 2506), "NL_M": (130, 1252)}
    for population, (ac, an) in expected.items():
        assert (read[population]["alleleCount"], read[population]["alleleNumber"]) == (ac, an), population
        assert abs(read[population]["alleleFrequency"] - ac / an) < 1e-6
    assert any((f["alleleCount"], f["alleleNumber"]) == (410, 5008) for f in read.values()), "the whole cohort"
    # AC_NL_Hom counts alleles in homozygous genotypes (8): stored as people, like gnomAD's nhomalt (docs/populations.md).
    assert (read["NL"]["alleleCountHomozygous"], read["NL"]["alleleCountHeterozygous"]) == (4, 234)


async def _allele(node: Node, variant: dict[str, Any], *filters: dict[str, Any]) -> dict[str, Any]:
    return await fetch(node.af, "POST", "/api/g_variants", body=allele_request(variant, *filters))


POPULATION_FILTERS = {
    "sexFilter M": ((sex_filter("M"),), {"M", "NL_M", "FI_M"}, "M", (200, 2502)),
    "sexFilter F": ((sex_filter("F"),), {"F", "NL_F", "FI_F"}, "F", (210, 2506)),
    "countryFilter NL": ((country_filter("NL"),), {"NL", "NL_M", "NL_F"}, "NL", (250, 2504)),
    "countryFilter FI and sexFilter M": ((country_filter("FI"), sex_filter("M")), {"FI_M"}, "FI_M", (70, 1250)),
}


@pytest.mark.parametrize("case", list(POPULATION_FILTERS))
async def test_population_filters_restrict_the_frequencies_returned(node: Node, case: str) -> None:
    filters, allowed, main, (ac, an) = POPULATION_FILTERS[case]
    read = {_population(f): f for f in frequencies_read(await _allele(node, DEMO_VARIANT, *filters))}
    assert read
    assert set(read) <= allowed, read.keys()
    assert (read[main]["alleleCount"], read[main]["alleleNumber"]) == (ac, an)


async def test_exists_follows_the_population_filters(node: Node) -> None:
    in_finland = await _allele(node, RARE_FI_FEMALE_VARIANT, country_filter("FI"), sex_filter("F"))
    assert in_finland["responseSummary"]["exists"] is True
    in_the_netherlands = await _allele(node, RARE_FI_FEMALE_VARIANT, country_filter("NL"))
    assert in_the_netherlands["responseSummary"]["exists"] is False
    assert in_the_netherlands["response"]["resultSets"] == []


async def test_population_filters_are_listed_with_their_values(node: Node) -> None:
    document = await fetch(node.af, "GET", "/api/filtering_terms", endpoint="filtering_terms")
    ids = {t["id"] for t in document["response"]["filteringTerms"]}
    assert {"sexFilter", "countryFilter"} <= ids


# --- the individuals beacon -----------------------------------------------------------------------


def _people() -> list[dict[str, Any]]:
    return [json.loads(line.rstrip(",\n")) for line in (PHENOTYPES / "individuals.json").read_text().splitlines()[1:-1]]


PEOPLE = _people()


def _onsets(person: dict[str, Any]) -> list[float]:
    return [float(duration_days(d["ageOfOnset"]["iso8601duration"]) or 0) for d in person.get("diseases", [])]


def _expected(sex: str | None, compare: Any) -> int:
    return sum(
        1 for p in PEOPLE if (sex is None or p["sex"]["id"] == sex) and any(compare(days) for days in _onsets(p))
    )


def _rounded(n: int) -> int:
    """As the individuals beacon discloses a count: none below the floor, else rounded up to a multiple."""
    return 0 if n < FLOOR else -(-n // FLOOR) * FLOOR


def _bona_fide_token(node: Node, broker: Authority | None = None, **visa: Any) -> str:
    signer = broker or node.broker
    return node.issuer.token(ga4gh_passport_v1=[signer.visa(BONA_FIDE, **{**STATUS, **visa})])


async def _individuals(node: Node, token: str | None, *filters: dict[str, Any], status: int = 200) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = await node.individuals.post("/api/individuals", json=individuals_request(*filters), headers=headers)
    document: dict[str, Any] = await resp.json()
    assert resp.status == status, document
    return document


P80Y = float(duration_days("P80Y") or 0)


async def test_a_bona_fide_researcher_gets_the_count_rounded_with_its_precision(node: Node) -> None:
    document = await fetch(node.individuals, "GET", "/api/info", endpoint="info")  # warm, schema-checked
    assert document["response"]["id"] == "org.example.gdi.individuals"
    # Everyone with an onset at 80 or later: a group above the floor (the men alone are below it).
    answer = await _individuals(node, _bona_fide_token(node), onset(">=", "P80Y"))
    expected = _expected(None, lambda d: d >= P80Y)
    assert expected > FLOOR
    assert answer["meta"]["returnedGranularity"] == "count"
    summary = answer["responseSummary"]
    assert (summary["numTotalResults"], summary["countPrecision"], summary["countAdjustedTo"]) == (
        _rounded(expected),
        "rounded",
        [FLOOR],
    )
    (result_set,) = answer["response"]["resultSets"]
    assert (result_set["id"], result_set["resultsCount"], result_set["results"]) == (
        INDIVIDUALS_DATASET,
        _rounded(expected),
        [],
    )
    assert result_set["countPrecision"] == "rounded"


@pytest.mark.parametrize(
    "token",
    [
        "anonymous",
        "registered without a visa",
        "self-asserted ResearcherStatus",
        "ResearcherStatus of an untrusted broker",
    ],
)
async def test_without_a_researcher_status_that_holds_the_individuals_beacon_counts_nothing(
    node: Node, token: str
) -> None:
    rogue = node.issuer  # a trusted token issuer, but no visa broker
    tokens = {
        "anonymous": None,
        "registered without a visa": node.issuer.token(),
        "self-asserted ResearcherStatus": _bona_fide_token(node, by="self"),
        "ResearcherStatus of an untrusted broker": _bona_fide_token(node, broker=rogue),
    }
    answer = await _individuals(node, tokens[token], MALE)
    assert answer["responseSummary"]["exists"] is False
    assert answer["responseSummary"].get("numTotalResults", 0) == 0
    assert answer.get("response", {}).get("resultSets", []) == []


async def test_the_not_equal_operator_is_refused_like_its_alias_on_rounded_counts(node: Node) -> None:
    token = _bona_fide_token(node)
    ne = {"id": "diseases.diseaseCode.id", "operator": "!=", "value": "NCIT:C2985", "scope": "individual"}
    bang = {**ne, "operator": "!"}
    refused = [await _individuals(node, token, f, status=403) for f in (ne, bang)]
    assert refused[0]["error"]["errorMessage"] == refused[1]["error"]["errorMessage"]
    assert "complements and unions" in refused[0]["error"]["errorMessage"]


COMPARISONS = {
    ">=": lambda d: d >= P80Y,
    ">": lambda d: d > P80Y,
    "<=": lambda d: d <= P80Y,
    "<": lambda d: d < P80Y,
    "=": lambda d: d == P80Y,
}


@pytest.mark.parametrize("operator", list(COMPARISONS))
async def test_ages_of_onset_compare_as_durations_on_exact_counts(make_node: NodeFactory, operator: str) -> None:
    node = await make_node(count_floor=0)
    answer = await _individuals(node, _bona_fide_token(node), onset(operator, "P80Y"))
    assert answer["responseSummary"]["numTotalResults"] == _expected(None, COMPARISONS[operator])
    males = await _individuals(node, _bona_fide_token(node), MALE, onset(operator, "P80Y"))
    assert males["responseSummary"]["numTotalResults"] == _expected("NCIT:C20197", COMPARISONS[operator])


async def test_not_equal_is_the_alias_of_bang_on_exact_counts(make_node: NodeFactory) -> None:
    node = await make_node(count_floor=0)
    token = _bona_fide_token(node)
    ne = {"id": "diseases.diseaseCode.id", "operator": "!=", "value": "NCIT:C2985", "scope": "individual"}
    counts = [
        (await _individuals(node, token, f))["responseSummary"]["numTotalResults"]
        for f in (ne, {**ne, "operator": "!"})
    ]
    with_other_disease = sum(
        1 for p in PEOPLE if p.get("diseases") and all(d["diseaseCode"]["id"] != "NCIT:C2985" for d in p["diseases"])
    )
    assert counts == [with_other_disease, with_other_disease]
    assert with_other_disease > 0


async def test_a_group_below_the_floor_reads_as_none(node: Node) -> None:
    late = float(duration_days("P85Y") or 0)
    holders = [
        p
        for p in PEOPLE
        if p["sex"]["id"] == "NCIT:C20197"
        and any(d["diseaseCode"]["id"] == "NCIT:C2985" for d in p.get("diseases", []))
        and any(days >= late for days in _onsets(p))
    ]
    assert 0 < len(holders) < FLOOR
    answer = await _individuals(node, _bona_fide_token(node), DIABETES, MALE, onset(">=", "P85Y"))
    assert answer["responseSummary"]["numTotalResults"] == 0
    assert answer["responseSummary"]["countPrecision"] == "rounded"
