"""Phenopackets v2 ingest: mapping, loading on both backends, rejection rules, and the full published corpus.

The corpus counts are computed here from the phenopacket files with plain JSON reading, never
with the loader's mapping or the server's query code, and compared with what the API answers.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import DatasetPolicy
from beacon.model.granularity import Granularity
from beacon.model.plan import Query
from beacon.store.base import Store
from beacon.store.sqlite import SqliteStore
from ingest.cli import main as ingest_main
from ingest.errors import RejectedRecords
from ingest.phenopackets.load import PhenopacketOptions, load_phenopackets
from ingest.phenopackets.mapping import map_phenopacket, time_element
from tests.backends import LoadedStores, load_into, loaded_stores, sqlite_loaded
from tests.conftest import DATA, AiohttpClient, fetch, make_config
from tests.hpo_reference import read_reference_hpo

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "phenopackets"
CORPUS = DATA / "phenopackets" / "phenopacket-store.tar.xz"
DATASET = "pp"
AGE = "info.timeAtLastEncounter.age.iso8601duration"


# -- mapping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phenopacket", "beacon"),
    [
        ({"age": {"iso8601duration": "P3Y"}}, {"iso8601duration": "P3Y"}),
        (
            {"ageRange": {"start": {"iso8601duration": "P1Y"}, "end": {"iso8601duration": "P3Y"}}},
            {"start": {"iso8601duration": "P1Y"}, "end": {"iso8601duration": "P3Y"}},
        ),
        ({"gestationalAge": {"weeks": 30, "days": 2}}, {"weeks": 30, "days": 2}),
        (
            {"ontologyClass": {"id": "HP:0003577", "label": "Congenital onset"}},
            {"id": "HP:0003577", "label": "Congenital onset"},
        ),
        ({"timestamp": "2020-05-01T10:00:00Z"}, {"start": "2020-05-01T10:00:00Z", "end": "2020-05-01T10:00:00Z"}),
        (
            {"interval": {"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"}},
            {"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"},
        ),
        ({"unknownShape": 1}, None),
    ],
)
def test_every_time_element_shape_becomes_its_beacon_shape(phenopacket: dict[str, Any], beacon: Any) -> None:
    assert time_element(phenopacket) == beacon


def test_a_phenopacket_maps_to_individual_biosample_and_carriers() -> None:
    packet = json.loads((FIXTURES / "demo__P1.json").read_text())
    mapped = map_phenopacket(packet, "P1", "GRCh38")
    ind = mapped.individual
    assert ind["sex"] == {"id": "NCIT:C16576", "label": "female"}
    assert ind["karyotypicSex"] == "XX"
    seizure, delay, microcephaly = ind["phenotypicFeatures"]
    assert seizure["onset"] == {"iso8601duration": "P2Y"}
    assert seizure["modifiers"] == [{"id": "HP:0031796", "label": "Recurrent"}]  # the non-CURIE one is reported
    assert seizure["evidence"]["reference"] == {"id": "PMID:30000001", "notes": "case report"}
    assert delay == {"featureType": {"id": "HP:0001263", "label": "Global developmental delay"}, "excluded": True}
    assert microcephaly["onset"]["start"] == {"iso8601duration": "P1Y"}
    # The excluded disease is not a disease of the individual; it is kept in info, where no filter reads it.
    assert [d["diseaseCode"]["id"] for d in ind["diseases"]] == ["OMIM:607208"]
    assert ind["diseases"][0]["stage"] == {"id": "NCIT:C27966", "label": "Stage I"}
    assert ind["info"]["excludedDiseases"] == [{"id": "MONDO:0005027", "label": "epilepsy"}]
    assert ind["info"]["timeAtLastEncounter"] == {"age": {"iso8601duration": "P45Y6M"}}
    assert (
        ind["measures"][0]["measurementValue"]["referenceRange"]["low"] == 300.0
    )  # a Beacon value is the quantity itself
    assert ind["interventionsOrProcedures"][0]["ageAtProcedure"] == {"iso8601duration": "P44Y"}
    assert ind["treatments"] == [
        {
            "treatmentCode": {"id": "DrugCentral:2456", "label": "valproic acid"},
            "routeOfAdministration": {"id": "NCIT:C38288", "label": "Oral Route of Administration"},
        }
    ]
    assert [b["id"] for b in mapped.biosamples] == ["P1-blood"]
    first, second = mapped.carriers
    assert first.variant["variantInternalId"] == "2:166009857:G>A"
    assert first.variant["identifiers"]["transcriptHGVSIds"] == ["NM_001165963.4:c.4573C>T"]
    assert first.variant["molecularAttributes"] == {"geneIds": ["SCN1A"]}
    assert first.case["biosampleId"] == "P1-blood"  # the named biosample carries it
    assert first.case["zygosity"]["id"] == "GENO:0000135"
    assert second.variant["variantInternalId"] == "13:32340300:T>C"  # from hgvs.g alone
    assert second.case["biosampleId"] == "P1"  # the subject: its individual id stands in
    paths = [where for where, _ in mapped.problems]
    assert paths == [
        "$.medicalActions[2]",
        "$.phenotypicFeatures[0].modifiers[1]",
        "$.interpretations[0].diagnosis.genomicInterpretations[2].variantInterpretation.variationDescriptor",
    ]


def test_a_variant_on_another_assembly_is_reported_not_stored() -> None:
    packet = json.loads((FIXTURES / "demo__P1.json").read_text())
    mapped = map_phenopacket(packet, "P1", "GRCh37")
    messages = [m for _, m in mapped.problems]
    assert any("GRCh38, but the dataset is on GRCh37" in m for m in messages)
    assert any("NC_000013.11:g.32340300T>C is on GRCh38" in m for m in messages)
    assert mapped.carriers == []


# -- loading ------------------------------------------------------------------------------------


async def _write_fixtures(store: Store, inputs: list[Path] | None = None, **options: Any) -> Any:
    return await load_phenopackets(inputs or [FIXTURES], PhenopacketOptions(DATASET, **options), store)


async def _load_fixtures(store: Store, inputs: list[Path] | None = None, **options: Any) -> Any:
    return await load_into(store, lambda opened: _write_fixtures(opened, inputs, **options))


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    yield from loaded_stores("pp", tmp_path_factory.mktemp("pp"), _write_fixtures)


@pytest.fixture
async def pp(aiohttp_client: AiohttpClient, fixtures: LoadedStores, backend: str) -> TestClient[Any, Any]:
    config = make_config(fixtures.sqlite_uri, DatasetPolicy(DATASET, max_granularity=Granularity.RECORD))
    return await aiohttp_client(create_app(config, store=fixtures.store_for(backend)))


async def _count(client: TestClient[Any, Any], path: str, body: dict[str, Any] | None = None) -> int:
    query = {"requestedGranularity": "count", **(body or {})}
    document = await fetch(client, "POST", path, body={"query": query})
    return int(document["responseSummary"]["numTotalResults"])


def _filters(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"filters": list(filters)}


async def test_loaded_phenopackets_answer_through_every_entry_type(pp: TestClient[Any, Any]) -> None:
    assert await _count(pp, "/api/individuals") == 3
    assert await _count(pp, "/api/biosamples") == 1
    cohorts = await fetch(pp, "GET", "/api/cohorts", params={"requestedGranularity": "record"})
    sizes = {c["id"]: c["cohortSize"] for c in cohorts["response"]["collections"]}
    assert sizes == {"demo": 2, "other": 1}
    # Cohort membership is per source collection, not the whole dataset.
    assert await _count(pp, "/api/cohorts/demo/individuals") == 2
    assert await _count(pp, "/api/cohorts/other/individuals") == 1
    # One SCN1A variant carried by P1 (through its biosample) and P2 (as the subject).
    variant = {
        "assemblyId": "GRCh38",
        "referenceName": "2",
        "start": [166009856],
        "referenceBases": "G",
        "alternateBases": "A",
    }
    records = await fetch(
        pp, "POST", "/api/g_variants", body={"query": {"requestParameters": variant, "requestedGranularity": "record"}}
    )
    (found,) = records["response"]["resultSets"][0]["results"]
    assert sorted((c["individualId"], c["zygosity"]["label"]) for c in found["caseLevelData"]) == [
        ("P1", "heterozygous"),
        ("P2", "homozygous"),
    ]
    assert await _count(pp, f"/api/g_variants/{found['variantInternalId']}/individuals") == 2
    assert await _count(pp, "/api/individuals", {"requestParameters": {"geneId": "SCN1A"}}) == 2
    assert (
        await _count(
            pp, "/api/g_variants", {"requestParameters": {"genomicAlleleShortForm": "NM_001165963.4:c.4573C>T"}}
        )
        == 1
    )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # Seizure: P1 and P2 have it; P3 has it excluded.
        ([{"id": "HP:0001250", "includeDescendantTerms": False}], 2),
        # Developmental delay: excluded in P1, present in P2 and P3.
        ([{"id": "HP:0001263", "includeDescendantTerms": False}], 2),
        ([{"id": "NCIT:C16576"}], 1),
        ([{"id": "NCIT:C20197"}], 1),
        ([{"id": "NCIT:C17998"}], 1),  # P3 states no sex
        ([{"id": "OMIM:607208"}], 2),
        ([{"id": "MONDO:0005027"}], 0),  # only ever excluded
        ([{"id": AGE, "operator": ">", "value": "P45Y"}], 1),  # P45Y6M > P45Y, P45Y is not
        ([{"id": AGE, "operator": ">=", "value": "P45Y"}], 2),
        ([{"id": AGE, "operator": "<", "value": "P45Y1M"}], 1),
        ([{"id": "diseases.ageOfOnset.iso8601duration", "operator": "<=", "value": "P1Y"}], 1),
    ],
)
async def test_cohort_filters_on_phenopacket_data(
    pp: TestClient[Any, Any], filters: list[dict[str, Any]], expected: int
) -> None:
    assert await _count(pp, "/api/individuals", _filters(*filters)) == expected


async def test_rejections_name_the_file_and_field_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "b.db")
    report = await _load_fixtures(store)
    rejected = {Path(p.file).name: (p.path, p.message) for p in report.problems}
    assert rejected["broken.json"][1].startswith("not readable as JSON or YAML")
    assert rejected["version1.json"] == (
        "$.metaData.phenopacketSchemaVersion",
        "phenopacket schema version 1.0: only version 2 is read",
    )
    assert report.counts == {"datasets": 1, "cohorts": 2, "individuals": 3, "biosamples": 1, "g_variants": 2}
    again = await _load_fixtures(store)
    assert again.unchanged


async def test_on_error_fail_loads_nothing_and_keeps_the_previous_version(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "f.db")
    good = tmp_path / "good"
    await asyncio.to_thread(good.mkdir)
    await asyncio.to_thread(shutil.copy, FIXTURES / "demo__P1.json", good)
    await _load_fixtures(store, [good])
    with pytest.raises(RejectedRecords, match=r"broken\.json: not readable"):
        await _load_fixtures(store, on_error="fail")
    await store.open()
    try:
        assert [d["id"] for d in await store.find(Query("individuals", (DATASET,)))] == ["P1"]
    finally:
        await store.close()


async def test_a_tar_archive_loads_like_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "packets.tar.gz"

    def pack() -> None:
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(FIXTURES, arcname="phenopackets")

    await asyncio.to_thread(pack)
    report = await _load_fixtures(SqliteStore(tmp_path / "t.db"), [archive])
    assert report.counts == {"datasets": 1, "cohorts": 2, "individuals": 3, "biosamples": 1, "g_variants": 2}
    assert {Path(p.file.split(":", 1)[1]).name for p in report.problems} == {"broken.json", "version1.json"}


async def test_subject_ids_that_repeat_with_other_content_are_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "dup"

    def write() -> None:
        folder.mkdir()
        packet = json.loads((FIXTURES / "demo__P1.json").read_text())
        (folder / "a.json").write_text(json.dumps(packet))
        packet["subject"]["sex"] = "MALE"
        (folder / "b.json").write_text(json.dumps(packet))

    await asyncio.to_thread(write)
    report = await _load_fixtures(SqliteStore(tmp_path / "d.db"), [folder], id_from="subject")
    assert report.counts["individuals"] == 1
    (problem,) = report.problems
    assert problem.file.endswith("b.json")
    assert problem.path == "$.subject.id"


def test_the_cli_prints_one_line_per_problem_and_exits_by_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'c.db'}"
    assert ingest_main(["phenopackets", str(FIXTURES), "--dataset", DATASET, "--store", store]) == 0
    out, err = capsys.readouterr()
    assert "dataset pp: loaded: 5 files: 1 biosamples, 2 cohorts, 1 datasets, 2 g_variants, 3 individuals" in out
    assert "2 record(s) rejected" in out
    assert f"rejected: {FIXTURES / 'other' / 'version1.json'}: $.metaData.phenopacketSchemaVersion" in err
    assert all("Traceback" not in line for line in err.splitlines())
    assert (
        ingest_main(["phenopackets", str(FIXTURES), "--dataset", DATASET, "--store", store, "--on-error", "fail"]) == 3
    )
    assert ingest_main(["phenopackets", str(tmp_path / "missing"), "--dataset", DATASET, "--store", store]) == 2
    assert "missing: no such file or directory" in capsys.readouterr().err


# -- the published corpus -----------------------------------------------------------------------


def _corpus() -> list[tuple[str, dict[str, Any]]]:
    out = []
    with tarfile.open(CORPUS) as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() and member.name.endswith(".json") else None
            if handle is not None:
                out.append((Path(member.name).name, json.loads(handle.read())))
    return out


def _years(duration: str) -> float:
    """Years in the corpus's ages (PnY, PnYnM, PnM, PnW, PnD), computed independently of the server."""
    import re

    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", duration)
    assert m, duration
    y, mo, w, d = (int(g) if g else 0 for g in m.groups())
    return y + mo / 12 + (w * 7 + d) / 365.25


# Seizure, Intellectual disability, Global developmental delay, Abnormality of the nervous system, Microcephaly
PARENT_TERMS = ("HP:0001250", "HP:0001249", "HP:0001263", "HP:0000707", "HP:0000252")


class CorpusFacts:
    """What the files say, counted with plain JSON reading."""

    def __init__(self, packets: list[tuple[str, dict[str, Any]]]) -> None:
        self.total = len(packets)
        self.sex = Counter(p.get("subject", {}).get("sex", "UNKNOWN_SEX") for _, p in packets)
        self.present: Counter[str] = Counter()
        self.excluded: Counter[str] = Counter()
        self.diseases: Counter[str] = Counter()
        self.cohorts = Counter(name.split("__", 1)[0] for name, _ in packets)
        self.ages: list[float] = []
        self.gene_carriers: dict[str, set[str]] = {}
        self.present_by_individual: list[set[str]] = []
        for _, p in packets:
            present = {f["type"]["id"] for f in p.get("phenotypicFeatures", []) if not f.get("excluded")}
            self.present_by_individual.append(present)
            excluded = {f["type"]["id"] for f in p.get("phenotypicFeatures", []) if f.get("excluded")}
            self.present.update(present)
            self.excluded.update(excluded - present)
            self.diseases.update({d["term"]["id"] for d in p.get("diseases", []) if not d.get("excluded")})
            age = p.get("subject", {}).get("timeAtLastEncounter", {}).get("age", {}).get("iso8601duration")
            if age:
                self.ages.append(_years(age))
            for interpretation in p.get("interpretations", []):
                for gi in interpretation.get("diagnosis", {}).get("genomicInterpretations", []):
                    vd = gi.get("variantInterpretation", {}).get("variationDescriptor", {})
                    if "vcfRecord" in vd and "geneContext" in vd:
                        self.gene_carriers.setdefault(vd["geneContext"]["symbol"], set()).add(p["id"])


@pytest.fixture(scope="module")
def corpus_facts() -> CorpusFacts:
    return CorpusFacts(_corpus())


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:

    async def load(store: Store) -> None:
        report = await load_phenopackets([CORPUS], PhenopacketOptions(DATASET), store)
        assert report.problems == []  # every file is stored; parts that are not are warnings
        assert report.counts["individuals"] == 10_580

    return sqlite_loaded(tmp_path_factory.mktemp("corpus") / "beacon.db", load)


@pytest.fixture
async def corpus(aiohttp_client: AiohttpClient, corpus_db: Path) -> TestClient[Any, Any]:
    config = make_config(f"sqlite:///{corpus_db}", DatasetPolicy(DATASET, max_granularity=Granularity.RECORD))
    return await aiohttp_client(create_app(config))


async def test_the_whole_corpus_answers_cohort_counts_computed_from_the_files(
    corpus: TestClient[Any, Any], corpus_facts: CorpusFacts
) -> None:
    facts = corpus_facts
    assert await _count(corpus, "/api/individuals") == facts.total == 10_580
    for sex, term in (("FEMALE", "NCIT:C16576"), ("MALE", "NCIT:C20197")):
        assert await _count(corpus, "/api/individuals", _filters({"id": term})) == facts.sex[sex]
    # The most frequent terms, and the terms most often stated as absent: absent never counts.
    terms = [t for t, _ in facts.present.most_common(5)] + [t for t, _ in facts.excluded.most_common(5)]
    for term in terms:
        answer = await _count(corpus, "/api/individuals", _filters({"id": term, "includeDescendantTerms": False}))
        assert answer == facts.present[term], term
    assert sum(facts.excluded[t] for t in terms) > 1000  # the exclusions tested are real ones
    # Parent terms find everyone with the term or any kind of it (retired ids count as their current term).
    hpo = await asyncio.to_thread(read_reference_hpo)
    for parent in PARENT_TERMS:
        kinds = {parent, *hpo.descendants(parent)}
        expected = sum(1 for present in facts.present_by_individual if {hpo.current(t) for t in present} & kinds)
        exact = sum(1 for present in facts.present_by_individual if parent in present)
        assert expected > exact, parent  # the hierarchy matters for every parent tested
        assert await _count(corpus, "/api/individuals", _filters({"id": parent})) == expected, parent
    for disease, n in facts.diseases.most_common(3):
        assert await _count(corpus, "/api/individuals", _filters({"id": disease})) == n
    for bound in ("P1Y", "P10Y", "P40Y"):
        over = sum(1 for a in facts.ages if a > _years(bound))
        assert await _count(corpus, "/api/individuals", _filters({"id": AGE, "operator": ">", "value": bound})) == over
    for cohort, size in facts.cohorts.most_common(3):
        assert await _count(corpus, f"/api/cohorts/{cohort}/individuals") == size
    for gene in sorted(facts.gene_carriers, key=lambda g: -len(facts.gene_carriers[g]))[:3]:
        body = {"requestParameters": {"geneId": gene}}
        assert await _count(corpus, "/api/individuals", body) == len(facts.gene_carriers[gene])
