"""Ontology-aware filters through a real server on real phenopackets, on both store backends.

The data: six cohorts of the published phenopacket-store corpus (248 individuals; CTCF states many
seizures as absent, CYP21A2 has lab measurements), the demo phenopacket P1 (the one biosample) and one
hand-written phenopacket whose features are bare, retired and excluded HPO ids. Every expected answer
is computed here from the files (plain JSON reading) and from hp.obo (tests/hpo_reference.py), never
with the loader's mapping or the server's query code. Every response is validated against the spec.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tarfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from multidict import MultiDict

from beacon.api.app import create_app
from beacon.config import Config, load_config
from beacon.store.base import Store
from ingest.phenopackets.load import PhenopacketOptions, load_phenopackets
from tests.backends import LoadedStores, loaded_stores
from tests.conftest import CINECA, PUBLIC, AiohttpClient, fetch, refusal
from tests.hpo_reference import ReferenceHpo, read_reference_hpo

TESTS = Path(__file__).resolve().parents[1]
ONTOLOGY_DATA = TESTS / "data" / "ontology"
# The six cohorts of the corpus, as they are in it (tests/data/README.md).
CORPUS = PUBLIC / "phenopackets" / "phenopacket-store-six-cohorts.tar.xz"
COHORTS = ("WWOX", "CNTNAP2", "CTCF", "CYP21A2", "KCNH5", "NHLRC1")
DATASET = "pp"
SEIZURE = "HP:0001250"
SEIZURE_ALT_ID = "HP:0002279"
FOCAL_SEIZURE = "HP:0007359"
FOCAL_SEIZURE_OBSOLETE = "HP:0040168"  # is_obsolete, replaced_by Focal-onset seizure
MICROCEPHALY = "HP:0000252"
TESTOSTERONE = "LOINC:2986-8"
AGE = "info.timeAtLastEncounter.age.iso8601duration"
# The phenopacket sex enumeration and its NCIt terms (phenopacket schema documentation).
SEX = {"FEMALE": "NCIT:C16576", "MALE": "NCIT:C20197", "OTHER_SEX": "NCIT:C17649", "UNKNOWN_SEX": "NCIT:C17998"}
LEVELS = {"exact": 0, "high": 1, "medium": 2, "low": 3}


def years(duration: str) -> float:
    """Years in an ISO 8601 duration of the forms the data uses (PnYnMnWnD)."""
    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", duration)
    assert m, duration
    y, mo, w, d = (int(g) if g else 0 for g in m.groups())
    return y + mo / 12 + (w * 7 + d) / 365.25


class Facts:
    """What the phenopacket files say, by individual (the phenopacket id), read with plain JSON."""

    def __init__(self, packets: list[dict[str, Any]], hpo: ReferenceHpo) -> None:
        self.hpo = hpo
        self.ids = {p["id"] for p in packets}
        self.present: dict[str, set[str]] = {}
        self.excluded: dict[str, set[str]] = {}
        self.sex: dict[str, str] = {}
        self.age: dict[str, float] = {}
        self.onsets: dict[str, list[float]] = {}
        self.measures: dict[str, list[tuple[str, float]]] = {}
        self.tissues: dict[str, set[str]] = {}
        self.labels: dict[str, set[str]] = {}  # of stated features and diseases
        self.carriers: dict[tuple[str, str, str, str], dict[str, str]] = {}
        for p in packets:
            pid = p["id"]
            features = p.get("phenotypicFeatures", [])
            self.present[pid] = {f["type"]["id"] for f in features if not f.get("excluded")}
            self.excluded[pid] = {f["type"]["id"] for f in features if f.get("excluded")}
            diseases = [d["term"] for d in p.get("diseases", []) if not d.get("excluded")]
            stated = [f["type"] for f in features if not f.get("excluded")] + diseases
            self.labels[pid] = {t["label"] for t in stated if "label" in t}
            self.sex[pid] = SEX[p.get("subject", {}).get("sex", "UNKNOWN_SEX")]
            age = p.get("subject", {}).get("timeAtLastEncounter", {}).get("age", {}).get("iso8601duration")
            if age:
                self.age[pid] = years(age)
            onset_of = [f.get("onset") for f in features if not f.get("excluded")]
            onset_of += [d.get("onset") for d in p.get("diseases", []) if not d.get("excluded")]
            self.onsets[pid] = [years(o["age"]["iso8601duration"]) for o in onset_of if o and "age" in o]
            self.measures[pid] = [
                (m["assay"]["id"], m["value"]["quantity"]["value"])
                for m in p.get("measurements", [])
                if "quantity" in m.get("value", {})
            ]
            self.tissues[pid] = {b["sampledTissue"]["id"] for b in p.get("biosamples", []) if "sampledTissue" in b}
            for interpretation in p.get("interpretations", []):
                for gi in interpretation.get("diagnosis", {}).get("genomicInterpretations", []):
                    vd = gi.get("variantInterpretation", {}).get("variationDescriptor", {})
                    vcf = vd.get("vcfRecord")
                    if vcf is None:
                        continue
                    key = (vcf["chrom"].removeprefix("chr"), str(vcf["pos"]), vcf["ref"], vcf["alt"])
                    self.carriers.setdefault(key, {})[pid] = vd["allelicState"]["id"]

    def with_hpo(self, wanted: set[str]) -> set[str]:
        """Individuals stating (not excluding) a term that is, or whose current id is, in `wanted`."""
        return {i for i, terms in self.present.items() if any(self.hpo.current(t) in wanted for t in terms)}

    def where(self, test: Callable[[str], bool]) -> set[str]:
        return {i for i in self.ids if test(i)}

    def carrying_variants_with(self, zygosities: set[str]) -> set[str]:
        """Carriers of every variant some carrier of which has one of `zygosities` (the variant's terms)."""
        out: set[str] = set()
        for carriers in self.carriers.values():
            if set(carriers.values()) & zygosities:
                out |= set(carriers)
        return out


def _packets_into(folder: Path) -> None:
    folder.mkdir()
    with tarfile.open(CORPUS) as tar:
        for member in tar:
            name = Path(member.name).name
            handle = tar.extractfile(member) if member.isfile() and name.split("__")[0] in COHORTS else None
            if handle is not None:
                (folder / name).write_bytes(handle.read())
    shutil.copy(TESTS / "data" / "phenopackets" / "demo__P1.json", folder)
    shutil.copy(ONTOLOGY_DATA / "phenopackets" / "unlabelled_and_retired_hpo_ids.json", folder)


@pytest.fixture(scope="module")
def packet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ontology-filters") / "packets"
    _packets_into(folder)
    return folder


@pytest.fixture(scope="module")
def reference_hpo() -> ReferenceHpo:
    return read_reference_hpo()


@pytest.fixture(scope="module")
def facts(packet_dir: Path, reference_hpo: ReferenceHpo) -> Facts:
    packets = [json.loads(f.read_text()) for f in sorted(packet_dir.glob("*.json"))]
    return Facts(packets, reference_hpo)


def _loading(folder: Path) -> Callable[[Store], Awaitable[None]]:
    """The load of every phenopacket in `folder` as the one dataset, which must store them all."""

    async def load(store: Store) -> None:
        report = await load_phenopackets([folder], PhenopacketOptions(DATASET), store)
        assert report.problems == []

    return load


@pytest.fixture(scope="module")
def loaded(packet_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    yield from loaded_stores("ontology", tmp_path_factory.mktemp("ontology-db"), _loading(packet_dir))


@pytest.fixture(scope="module")
def config(loaded: LoadedStores) -> Config:
    """tests/data/ontology/beacon.yaml: HPO built in, NCIT from an OBO file, GENO from an OBO-JSON file."""
    return replace(load_config(ONTOLOGY_DATA / "beacon.yaml", env={}), store_uri=loaded.sqlite_uri)


@pytest.fixture
async def client(
    aiohttp_client: AiohttpClient, config: Config, loaded: LoadedStores, backend: str
) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(config, store=loaded.store_for(backend)))


async def matched(
    client: TestClient[Any, Any], expected: set[str], path: str = "/api/individuals", **query: Any
) -> None:
    """The server matches exactly `expected`: the count agrees, and a page of records holds only expected ids.

    (Schema-validating every matching record would cost seconds per query: one page stands for the rest.)
    """
    body = {"query": {"requestedGranularity": "count", **query}}
    document = await fetch(client, "POST", path, body=body)
    assert document["responseSummary"]["numTotalResults"] == len(expected)
    body = {"query": {"requestedGranularity": "record", "pagination": {"limit": 5}, **query}}
    document = await fetch(client, "POST", path, body=body)
    page = [r["id"] for rs in document["response"]["resultSets"] for r in rs["results"]]
    assert len(page) == min(5, len(expected))
    assert set(page) <= expected


# -- descendant expansion, retired ids, excluded features -------------------------------------


async def test_a_parent_term_finds_individuals_who_carry_only_descendants(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    expected = facts.with_hpo({SEIZURE} | reference_hpo.descendants(SEIZURE))
    only_descendants = {i for i in expected if not any(reference_hpo.current(t) == SEIZURE for t in facts.present[i])}
    assert len(only_descendants) > 100  # the point of the test: most carry a kind of seizure only
    await matched(client, expected, filters=[SEIZURE])
    # GET takes the same default (descendants included)
    document = await fetch(
        client, "GET", "/api/individuals", params={"filters": SEIZURE, "requestedGranularity": "count"}
    )
    assert document["responseSummary"]["numTotalResults"] == len(expected)


async def test_include_descendant_terms_false_matches_the_term_and_its_retired_ids_only(
    client: TestClient[Any, Any], facts: Facts
) -> None:
    expected = facts.with_hpo({SEIZURE})
    assert "retired-ids-1" in expected  # states Seizure by its alternative id
    await matched(client, expected, filters=[{"id": SEIZURE, "includeDescendantTerms": False}])


@pytest.mark.parametrize(
    ("asked", "current"),
    [
        pytest.param(SEIZURE_ALT_ID, SEIZURE, id="an alt_id asks for its current term"),
        pytest.param(FOCAL_SEIZURE_OBSOLETE, FOCAL_SEIZURE, id="an obsolete id asks for its replacement"),
        pytest.param(FOCAL_SEIZURE, FOCAL_SEIZURE, id="a record stating an obsolete id matches its replacement"),
    ],
)
async def test_retired_ids_resolve_in_queries_and_in_records(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo, asked: str, current: str
) -> None:
    expected = facts.with_hpo({current} | reference_hpo.descendants(current))
    assert "retired-ids-1" in expected
    await matched(client, expected, filters=[asked])


async def test_excluded_features_never_match(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    seizures = {SEIZURE} | reference_hpo.descendants(SEIZURE)
    excluded_only = {
        i
        for i in facts.ids
        if {reference_hpo.current(t) for t in facts.excluded[i]} & seizures
        and not {reference_hpo.current(t) for t in facts.present[i]} & seizures
    }
    assert len(excluded_only) > 40  # CTCF states seizures as absent
    await matched(client, facts.with_hpo(seizures), filters=[SEIZURE])
    # The hand-written packet (aged P3Y2M) excludes Microcephaly and has no other microcephaly term.
    three = {"id": "age", "operator": "=", "value": "P3Y2M"}
    aged = facts.where(lambda i: facts.age.get(i) == years("P3Y2M"))
    assert "retired-ids-1" in aged
    expected = facts.with_hpo({MICROCEPHALY} | reference_hpo.descendants(MICROCEPHALY)) & aged
    assert "retired-ids-1" not in expected
    await matched(client, expected, filters=[MICROCEPHALY, three])
    await matched(client, facts.with_hpo(seizures) & aged, filters=[SEIZURE, three])


async def test_similarity_levels_widen_as_documented(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    term = "HP:0002384"  # Focal impaired awareness seizure: six steps below All
    found = {}
    for similarity, steps in LEVELS.items():
        found[similarity] = facts.with_hpo(reference_hpo.matching(term, steps))
        await matched(client, found[similarity], filters=[{"id": term, "similarity": similarity}])
    assert found["exact"] < found["high"] < found["medium"] < found["low"]
    # Without descendants a level adds the anchors only: the seizure classes themselves.
    narrow = facts.with_hpo(reference_hpo.matching(term, 2, descendants=False))
    assert narrow < found["medium"]
    assert narrow - found["high"]  # Seizure stated itself, not below the high anchors
    await matched(client, narrow, filters=[{"id": term, "similarity": "medium", "includeDescendantTerms": False}])


async def test_no_similarity_level_widens_to_an_organ_system(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    # Seizure's ancestors three steps up include "Abnormality of the nervous system", two below All.
    low = facts.with_hpo(reference_hpo.matching("HP:0012638"))
    assert low < facts.with_hpo(reference_hpo.matching("HP:0000707"))
    await matched(client, low, filters=[{"id": SEIZURE, "similarity": "low"}])


# -- hierarchies from configured files -----------------------------------------------------------


@pytest.mark.parametrize(
    ("flt", "sexes"),
    [
        pytest.param("NCIT:C28421", {"NCIT:C16576", "NCIT:C20197", "NCIT:C17998"}, id="Sex covers its three children"),
        pytest.param({"id": "NCIT:C28421", "includeDescendantTerms": False}, set(), id="no record states Sex itself"),
        pytest.param("NCIT:C46110", {"NCIT:C16576"}, id="an alt_id of Female"),
        pytest.param("NCIT:C46109", {"NCIT:C20197"}, id="an obsolete id replaced by Male"),
        pytest.param("NCIT:C17998", {"NCIT:C17998"}, id="part_of does not make Male a kind of Unknown"),
    ],
)
async def test_an_obo_file_named_in_the_config_widens_its_prefix(
    client: TestClient[Any, Any], facts: Facts, flt: Any, sexes: set[str]
) -> None:
    await matched(client, facts.where(lambda i: facts.sex[i] in sexes), filters=[flt])


HET, HOM, HEMI = "GENO:0000135", "GENO:0000136", "GENO:0000134"


@pytest.mark.parametrize(
    ("term", "extra", "zygosities"),
    [
        pytest.param("GENO:0000391", {}, {HET, HOM}, id="disomic zygosity covers het and hom"),
        pytest.param("GENO:0000133", {}, {HET, HOM, HEMI}, id="the root covers all three"),
        pytest.param("GENO:0000133", {"includeDescendantTerms": False}, set(), id="no record states the root"),
        pytest.param("GENO:0000901", {}, {HOM}, id="an alternative id of homozygous"),
        pytest.param("GENO:0000900", {}, {HET}, id="a deprecated node replaced by heterozygous"),
        pytest.param(HEMI, {"similarity": "high"}, {HEMI}, id="a root's child never widens to the root"),
    ],
)
async def test_an_obographs_file_widens_a_genomic_variation_scoped_filter(
    client: TestClient[Any, Any], facts: Facts, term: str, extra: dict[str, Any], zygosities: set[str]
) -> None:
    expected = facts.carrying_variants_with(zygosities)
    assert len(expected) == 0 or len(expected) > 10
    flt = {"id": term, "scope": "genomicVariation", **extra}
    await matched(client, expected, filters=[flt])


# -- alphanumeric filters, aliases and measures --------------------------------------------------


def _age(op: Callable[[float, float], bool], bound: str) -> Callable[[Facts], set[str]]:
    return lambda f: f.where(lambda i: i in f.age and op(f.age[i], years(bound)))


def _onset(op: Callable[[float, float], bool], bound: str) -> Callable[[Facts], set[str]]:
    return lambda f: f.where(lambda i: any(op(o, years(bound)) for o in f.onsets[i]))


def _measure(op: Callable[[float, float], bool], bound: float) -> Callable[[Facts], set[str]]:
    return lambda f: f.where(lambda i: any(a == TESTOSTERONE and op(v, bound) for a, v in f.measures[i]))


def lt(a: float, b: float) -> bool:
    return a < b - 1e-9


def gt(a: float, b: float) -> bool:
    return a > b + 1e-9


def le(a: float, b: float) -> bool:
    return not gt(a, b)


def ge(a: float, b: float) -> bool:
    return not lt(a, b)


def eq(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def ne(a: float, b: float) -> bool:
    return not eq(a, b)


@pytest.mark.parametrize(
    ("filter_id", "operator", "value", "expected"),
    [
        # Durations compare as durations: P45Y6M (P1) is over P45Y.
        pytest.param("age", ">", "P45Y", _age(gt, "P45Y"), id="age > P45Y"),
        pytest.param("PATO:0000011", ">", "P45Y", _age(gt, "P45Y"), id="PATO age alias > P45Y"),
        pytest.param(AGE, "<", "P45Y6M", _age(lt, "P45Y6M"), id="the path itself < P45Y6M"),
        pytest.param("age", "<=", "P10Y", _age(le, "P10Y"), id="age <= P10Y"),
        pytest.param("age", ">=", "P3Y2M", _age(ge, "P3Y2M"), id="age >= P3Y2M"),
        pytest.param("age", "=", "P3Y2M", _age(eq, "P3Y2M"), id="age = P3Y2M"),
        pytest.param("age", "!", "P3Y2M", _age(ne, "P3Y2M"), id="age ! P3Y2M: has an age, not that one"),
        pytest.param("EFO:0004847", "<", "P1Y", _onset(lt, "P1Y"), id="EFO onset alias < P1Y on either path"),
        pytest.param("ageOfOnset", ">=", "P10Y", _onset(ge, "P10Y"), id="ageOfOnset >= P10Y"),
        pytest.param(
            "ageOfOnset",
            "!",
            "P1Y",
            lambda f: f.where(lambda i: bool(f.onsets[i]) and all(ne(o, 1) for o in f.onsets[i])),
            id="ageOfOnset ! P1Y: some onset, and none on any path is P1Y",
        ),
        pytest.param(TESTOSTERONE, ">", "100", _measure(gt, 100), id="testosterone measure > 100"),
        pytest.param(TESTOSTERONE, "<=", "127", _measure(le, 127), id="testosterone measure <= 127"),
        pytest.param(TESTOSTERONE, "=", "127", _measure(eq, 127), id="testosterone measure = 127"),
        pytest.param(TESTOSTERONE, "!", "127", _measure(ne, 127), id="testosterone measure ! 127"),
        pytest.param("sex.label", "=", "fem%", lambda f: f.where(lambda i: f.sex[i] == SEX["FEMALE"]), id="% wildcard"),
        pytest.param(
            "sex.label",
            "!",
            "fem%",
            lambda f: f.where(lambda i: f.sex[i] != SEX["FEMALE"]),
            id="! with a % wildcard: a label that does not match",
        ),
        pytest.param(
            "diseases.diseaseCode.id",
            "!",
            "OMIM:%",
            lambda f: set(),
            id="! with a wildcard never matches a record without the field",
        ),
    ],
)
async def test_alphanumeric_filters(
    client: TestClient[Any, Any],
    facts: Facts,
    filter_id: str,
    operator: str,
    value: str,
    expected: Callable[[Facts], set[str]],
) -> None:
    await matched(client, expected(facts), filters=[{"id": filter_id, "operator": operator, "value": value}])


async def test_the_measured_values_exist_on_both_sides_of_the_bounds(facts: Facts) -> None:
    values = [v for i in facts.ids for a, v in facts.measures[i] if a == TESTOSTERONE]
    assert len(values) > 40
    assert 127.0 in values
    assert min(values) <= 100 < max(values)
    ages = list(facts.age.values())
    assert min(ages) < 10 < max(ages)
    assert years("P45Y") < years("P45Y6M")


async def test_medical_history_alias_matches_feature_and_disease_labels(
    client: TestClient[Any, Any], facts: Facts
) -> None:
    expected = facts.where(lambda i: "Seizure" in facts.labels[i])
    assert "P1" in expected
    await matched(client, expected, filters=[{"id": "HP:0032443", "operator": "=", "value": "Seizure"}])
    expected = facts.where(lambda i: any("21-hydroxylase" in label for label in facts.labels[i]))
    assert len(expected) > 10  # the CYP21A2 disease label
    await matched(client, expected, filters=[{"id": "HP:0032443", "operator": "=", "value": "%21-hydroxylase%"}])


async def test_medical_history_alias_ignores_excluded_features(client: TestClient[Any, Any], facts: Facts) -> None:
    flt = {"id": "HP:0032443", "operator": "=", "value": "Microcephaly"}
    await matched(client, facts.where(lambda i: "Microcephaly" in facts.labels[i]), filters=[flt])


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ({"id": "sex.label", "operator": "<", "value": "female"}, "needs a number or an ISO 8601 duration"),
        ({"id": "sex.label", "operator": ">", "value": "fem%"}, "a '%' pattern works only with = or !"),
        ({"id": "age", "operator": ">", "value": "nan"}, "needs a number or an ISO 8601 duration, got 'nan'"),
    ],
)
async def test_operators_that_do_not_apply_are_400(client: TestClient[Any, Any], flt: Any, message: str) -> None:
    body = {"query": {"filters": [flt]}}
    assert message in await refusal(client, "POST", "/api/individuals", body=body)


# -- scopes ----------------------------------------------------------------------------------------


def _cineca(name: str) -> list[dict[str, Any]]:
    with gzip.open(CINECA / f"{name}.json.gz") as handle:
        records: list[dict[str, Any]] = json.load(handle)
    return records


@pytest.fixture(scope="module")
def cineca_files() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return _cineca("individuals"), _cineca("biosamples")


async def test_individuals_filtered_by_a_biosample_term(
    cineca: TestClient[Any, Any], cineca_files: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    individuals, biosamples = cineca_files
    blood = "UBERON:0000178"
    female = {i["id"] for i in individuals if i["sex"]["id"] == SEX["FEMALE"]}
    with_blood = {b["individualId"] for b in biosamples if b["sampleOriginType"]["id"] == blood}
    expected = female & with_blood
    assert 1000 < len(expected) < len(individuals)
    await matched(cineca, expected, filters=[{"id": blood, "scope": "biosample"}, SEX["FEMALE"]])
    await matched(cineca, set(), filters=[blood])  # unscoped: no individual record carries the tissue
    # the biosample term in a group keeps its scope
    await matched(
        cineca, expected, filters=[SEX["FEMALE"]], filterGroups=[{"anyOf": [{"id": blood, "scope": "biosample"}]}]
    )


async def test_biosamples_filtered_by_an_individual_measure(
    cineca: TestClient[Any, Any], cineca_files: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    individuals, biosamples = cineca_files
    bmi = "LOINC:35925-4"
    heavy = {
        i["id"]
        for i in individuals
        for m in i.get("measures", [])
        if m["assayCode"]["id"] == bmi and m["measurementValue"]["value"] > 30
    }
    expected = {b["id"] for b in biosamples if b["individualId"] in heavy}
    assert 0 < len(expected) < len(biosamples)
    flt = {"id": bmi, "operator": ">", "value": "30", "scope": "individual"}
    await matched(cineca, expected, "/api/biosamples", filters=[flt])


async def test_phenopacket_biosamples_link_to_their_individual(client: TestClient[Any, Any]) -> None:
    await matched(client, {"P1"}, filters=[{"id": "UBERON:0000178", "scope": "biosample"}])


async def test_an_unknown_scope_is_400(client: TestClient[Any, Any]) -> None:
    body = {"query": {"filters": [{"id": SEIZURE, "scope": "planet"}]}}
    assert "unknown scope 'planet'" in await refusal(client, "POST", "/api/individuals", body=body)


# -- filterGroups (extension) -------------------------------------------------------------------


async def test_filter_groups_by_post_and_get_and_their_echo(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    def with_term(term: str) -> set[str]:
        return facts.with_hpo({term} | reference_hpo.descendants(term))

    female = facts.where(lambda i: facts.sex[i] == SEX["FEMALE"])
    delay = "HP:0001263"
    expected = female & (with_term(SEIZURE) | with_term(MICROCEPHALY)) - with_term(delay)
    assert expected
    assert expected != female & (with_term(SEIZURE) | with_term(MICROCEPHALY))
    groups = [{"anyOf": [SEIZURE, MICROCEPHALY]}, {"noneOf": [delay]}]
    await matched(client, expected, filters=[SEX["FEMALE"]], filterGroups=groups)
    body = {"query": {"filters": [SEX["FEMALE"]], "filterGroups": groups, "requestedGranularity": "count"}}
    document = await fetch(client, "POST", "/api/individuals", body=body)
    assert document["info"]["filterGroups"] == groups
    # GET: one filterGroup parameter per group
    params = MultiDict(
        [
            ("filters", SEX["FEMALE"]),
            ("filterGroup", f"anyOf:{SEIZURE},{MICROCEPHALY}"),
            ("filterGroup", f"noneOf:{delay}"),
            ("requestedGranularity", "count"),
        ]
    )
    document = await fetch(client, "GET", "/api/individuals", params=params)
    assert document["responseSummary"]["numTotalResults"] == len(expected)
    assert document["info"]["filterGroups"] == groups


async def test_get_filter_group_members_take_the_get_filter_forms(client: TestClient[Any, Any], facts: Facts) -> None:
    expected = facts.where(lambda i: i in facts.age and not facts.age[i] < years("P10Y"))
    params = {"filterGroup": "noneOf:age:<P10Y", "filters": "age:>=P0D", "requestedGranularity": "count"}
    document = await fetch(client, "GET", "/api/individuals", params=params)
    assert document["responseSummary"]["numTotalResults"] == len(expected)
    assert document["info"]["filterGroups"] == [{"noneOf": ["age<P10Y"]}]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("someOf:HP:0001250", "filterGroup: expected anyOf:ID1,ID2,... or noneOf:ID1,ID2,..., got 'someOf:HP:0001250'"),
        ("noneOf:", "filterGroup: noneOf names no filter"),
    ],
)
async def test_malformed_get_filter_groups_are_400(client: TestClient[Any, Any], value: str, message: str) -> None:
    assert await refusal(client, "GET", "/api/individuals", params={"filterGroup": value}) == message


async def test_a_spec_only_request_gets_the_same_answer_as_without_the_extension(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    query = {"filters": [SEIZURE, SEX["MALE"]], "requestedGranularity": "record", "pagination": {"limit": 5}}
    plain = await fetch(client, "POST", "/api/individuals", body={"query": query})
    empty_groups = await fetch(client, "POST", "/api/individuals", body={"query": {**query, "filterGroups": []}})
    assert plain == empty_groups
    assert "info" not in plain
    assert "filterGroups" not in json.dumps(plain)
    expected = facts.with_hpo({SEIZURE} | reference_hpo.descendants(SEIZURE)) & facts.where(
        lambda i: facts.sex[i] == SEX["MALE"]
    )
    assert plain["responseSummary"]["numTotalResults"] == len(expected)
    assert {r["id"] for r in plain["response"]["resultSets"][0]["results"]} <= expected
    # The same conditions as groups of one answer the same, and only the echo tells them apart.
    grouped = {**query, "filters": [], "filterGroups": [{"anyOf": [SEIZURE]}, {"anyOf": [SEX["MALE"]]}]}
    as_groups = await fetch(client, "POST", "/api/individuals", body={"query": grouped})
    assert as_groups["response"] == plain["response"]
    assert as_groups["responseSummary"] == plain["responseSummary"]
    assert as_groups["info"] == {"filterGroups": [{"anyOf": [SEIZURE]}, {"anyOf": [SEX["MALE"]]}]}


# -- warnings and filtering terms ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("flt", "warning"),
    [
        ("HP:9999999", "filter HP:9999999: unknown term"),
        ("FOO:bar", "filter FOO:bar: unknown term"),
        ({"id": "OMIM:607208", "similarity": "high"}, "filter OMIM:607208: similarity high needs a hierarchy for OMIM"),
    ],
)
async def test_warnings_for_filters_that_cannot_work_as_asked(
    client: TestClient[Any, Any], flt: Any, warning: str
) -> None:
    body = {"query": {"filters": [flt], "requestedGranularity": "count"}}
    document = await fetch(client, "POST", "/api/individuals", body=body)
    assert any(w.startswith(warning) for w in document["info"]["warnings"]), document["info"]
    # In a group too.
    body = {"query": {"filterGroups": [{"noneOf": [flt]}], "requestedGranularity": "count"}}
    document = await fetch(client, "POST", "/api/individuals", body=body)
    assert any(w.startswith(warning) for w in document["info"]["warnings"])


async def test_a_known_term_no_record_carries_warns_nothing(
    client: TestClient[Any, Any], facts: Facts, reference_hpo: ReferenceHpo
) -> None:
    absent = "HP:0000007"  # Autosomal recessive inheritance: in HPO, in no record here
    assert facts.with_hpo(reference_hpo.matching(absent)) == set()
    body = {"query": {"filters": [absent], "requestedGranularity": "count"}}
    document = await fetch(client, "POST", "/api/individuals", body=body)
    assert document["responseSummary"]["numTotalResults"] == 0
    assert "info" not in document


async def test_filtering_terms_take_labels_from_hpo_and_name_the_releases(
    client: TestClient[Any, Any], reference_hpo: ReferenceHpo
) -> None:
    document = await fetch(client, "GET", "/api/filtering_terms", endpoint="filtering_terms")
    terms = {t["id"]: t for t in document["response"]["filteringTerms"]}
    assert terms["HP:0410263"]["label"] == "Brain imaging abnormality"  # unlabelled in the data
    assert terms[SEIZURE_ALT_ID]["label"] == "Seizure"  # a retired id gets its current term's label
    assert terms[FOCAL_SEIZURE_OBSOLETE]["label"] == reference_hpo.names[FOCAL_SEIZURE]
    assert terms["HP:0001250"]["label"] == "Seizure"
    resources = {r["namespacePrefix"]: r for r in document["response"]["resources"]}
    assert resources["HP:"]["version"] == "2025-01-16"
    assert resources["NCIT:"]["version"] == "2024-05-07"
    assert resources["GENO:"]["version"] == "2023-10-08"
    assert "version" not in resources["OMIM:"]  # no hierarchy loaded for it
