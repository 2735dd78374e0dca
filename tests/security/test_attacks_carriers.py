"""Adversarial review of carriers kept as sample sets (issue 24; docs/scaling.md "Carriers as sample sets").

Every variant here has a caseLevelData list in exactly the shape a VCF load writes, so its carriers are
stored as Roaring bitmaps of per-part sample indexes, not as link keys. The attacks ask across datasets
that reuse the same individual and biosample ids (so the same sample indexes), across two parts of one
dataset, under a count floor, through pagination, against the genotype budget, with crafted sample names,
and against an old store. Breaks are strict xfails (they pass once fixed); attacks that hold are plain tests.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from beacon.api.app import create_app
from beacon.config import DatasetPolicy, SecurityConfig, TrustedIssuer, VisaBroker
from beacon.errors import StoreUnavailable
from beacon.model.entry_types import DEFAULT_TABLE
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.store.base import Store, Tombstone
from beacon.store.carriers import HEMIZYGOUS, HETEROZYGOUS, HOMOZYGOUS, SampleIndex, carrier_sets, members
from beacon.store.loading import dataset_load
from beacon.store.mongo import MongoStore
from beacon.store.mongo_schema import META, SAMPLES
from beacon.store.sqlite import SqliteStore
from ingest.vcf.load import load_vcf
from ingest.vcf.parse import VcfOptions
from tests.backends import LoadedStores, MongoSource, load_into, loaded_stores, new_mongo_source
from tests.conftest import AiohttpClient, make_config
from tests.documents import chr22_snv
from tests.security.issuers import ALGORITHMS, AUDIENCE, CTL_VISA, Authority, KeyRing, new_authority

INDIVIDUALS, BIOSAMPLES, VARIANTS = (DEFAULT_TABLE.by_id(i) for i in ("individual", "biosample", "genomicVariant"))

PUB, CTL, FLO, REG, TWO = "cs-pub", "cs-ctl", "cs-flo", "cs-reg", "cs-two"
# Two datasets loaded by the VCF loader from files with the same samples (S1..S3, each its own individual).
VPUB, VCTL = "cs-vcf-pub", "cs-vcf-ctl"
FLOOR = 3
BUDGET = 3
# A biosample and an individual id made of JSON and SQL metacharacters.
META_SAMPLE = "x\"],'); DROP TABLE samples;-- [0]"
META_PERSON = "I\"'{}[]%_\\"
POLICIES = (
    DatasetPolicy(PUB, SecurityLevel.PUBLIC),
    DatasetPolicy(CTL, SecurityLevel.CONTROLLED, visas=(CTL_VISA,)),
    DatasetPolicy(FLO, SecurityLevel.PUBLIC, granularity={"anonymous": Granularity.RECORD}, count_floor=FLOOR),
    DatasetPolicy(REG, SecurityLevel.REGISTERED, granularity={"registered": Granularity.RECORD}),
    DatasetPolicy(TWO, SecurityLevel.PUBLIC),
    DatasetPolicy(VPUB, SecurityLevel.PUBLIC),
    DatasetPolicy(VCTL, SecurityLevel.CONTROLLED, visas=(CTL_VISA,)),
)
_VCF_HEAD = (
    "##fileformat=VCFv4.2\n##contig=<ID=22,length=50818468>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
)
VCFS = {
    VPUB: _VCF_HEAD + "22\t1000\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\t0/0\t0/0\n",
    # The controlled file: the shared site carried by S3 only, and a site of its own carried by S1.
    VCTL: _VCF_HEAD
    + "22\t1000\t.\tA\tG\t.\tPASS\t.\tGT\t0/0\t0/0\t1/1\n"
    + "22\t2000\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\t0/0\t0/0\n",
}
CTL_SITE = "22:2000:A>G"


def carrier(biosample: str, zygosity: dict[str, str]) -> dict[str, Any]:
    return {"biosampleId": biosample, "zygosity": dict(zygosity)}


variant = chr22_snv


def allele(start: int) -> dict[str, Any]:
    return {"referenceName": "22", "start": [start], "referenceBases": "A", "alternateBases": "G"}


def people(numbers: range | tuple[int, ...]) -> Iterator[tuple[Any, dict[str, Any]]]:
    for n in numbers:
        yield INDIVIDUALS, {"id": f"I{n}", "sex": {"id": "NCIT:C16576", "label": "female"}}
    for n in numbers:
        yield BIOSAMPLES, {"id": f"S{n}", "individualId": f"I{n}"}


HET, HOM = HETEROZYGOUS, HOMOZYGOUS


def pub_records() -> Iterator[tuple[Any, dict[str, Any]]]:
    yield from people(range(1, 5))
    yield INDIVIDUALS, {"id": META_PERSON, "sex": {"id": "NCIT:C16576", "label": "female"}}
    yield BIOSAMPLES, {"id": META_SAMPLE, "individualId": META_PERSON}
    yield VARIANTS, variant("vShared", 100, [carrier("S1", HET), carrier("S2", HOM)])
    yield VARIANTS, variant("vMeta", 700, [carrier(META_SAMPLE, HET)])


def ctl_records() -> Iterator[tuple[Any, dict[str, Any]]]:
    # The same ids as the public dataset, hence the same sample indexes (S1 is index 0 in both).
    yield from people(range(1, 5))
    yield VARIANTS, variant("vShared", 100, [carrier("S3", HET), carrier("S4", HOM)])
    yield VARIANTS, variant("vCtl", 200, [carrier("S1", HET)])


def flo_records() -> Iterator[tuple[Any, dict[str, Any]]]:
    yield from people(range(1, 7))
    yield VARIANTS, variant("vFew", 300, [carrier("S1", HET), carrier("S2", HET)])
    many = [carrier(f"S{n}", HET) for n in range(1, 5)] + [carrier("S5", HOM)]
    yield VARIANTS, variant("vMany", 400, many)
    # Carriers kept as keys (an extra field) in the same dataset: sets and keys are read together.
    yield VARIANTS, variant("vKeys", 450, [{**carrier("S6", HET), "analysisId": "A6"}])


def reg_records() -> Iterator[tuple[Any, dict[str, Any]]]:
    yield from people(range(1, 5))
    yield VARIANTS, variant("vReg", 900, [carrier("S1", HET), carrier("S2", HEMIZYGOUS)])


def two_p1() -> Iterator[tuple[Any, dict[str, Any]]]:
    yield from people((1, 2))
    yield VARIANTS, variant("vT1", 500, [carrier("S2", HET)])


def two_p2(
    numbers: tuple[int, ...] = (7, 8), carried: str = "S8"
) -> Callable[[], Iterator[tuple[Any, dict[str, Any]]]]:
    def records() -> Iterator[tuple[Any, dict[str, Any]]]:
        # Part p2 numbers its own samples from 0: index 1 is S8 here and S2 in part p1.
        yield from people(numbers)
        yield VARIANTS, variant("vT2", 600, [carrier(carried, HET)])

    return records


async def load_all(store: Store, vcf_dir: Path | None = None) -> None:
    if vcf_dir is not None:
        for dataset, text in VCFS.items():
            path = vcf_dir / f"{dataset}.vcf"
            await asyncio.to_thread(path.write_text, text)
            await load_vcf([path], VcfOptions(dataset, "GRCh38"), store, parse_in_child=False)
    for dataset, records in ((PUB, pub_records), (CTL, ctl_records), (FLO, flo_records), (REG, reg_records)):
        await store.replace_dataset(dataset_load(dataset, "GRCh38", f"d-{dataset}", records()))
    await store.replace_dataset(dataset_load(TWO, "GRCh38", "d-p1", two_p1(), part="p1"))
    await store.replace_dataset(dataset_load(TWO, "GRCh38", "d-p2", two_p2()(), part="p2"))


@pytest.fixture
def mongo_db() -> Iterator[MongoSource]:
    source = new_mongo_source("carrier_attacks_one")
    yield source
    asyncio.run(source.drop())


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedStores]:
    directory = tmp_path_factory.mktemp("carrier-attacks")

    async def load(store: Store) -> None:
        await load_all(store, directory)

    yield from loaded_stores("carrier_attacks", directory, load)


Beacon = tuple[TestClient[Any, Any], Authority, Authority]


@pytest.fixture
async def beacon(
    aiohttp_client: AiohttpClient,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    key_ring: KeyRing,
    loaded: LoadedStores,
    backend: str,
) -> Beacon:
    """A beacon on the loaded store with a trusted issuer and broker, a genotype budget of BUDGET alleles."""
    issuer, broker = [await new_authority(aiohttp_server, key_ring, p) for p in ("issuer", "broker")]
    security = SecurityConfig(
        issuers=(TrustedIssuer(issuer.url, AUDIENCE, algorithms=ALGORITHMS),),
        visa_brokers=(VisaBroker(broker.url, algorithms=ALGORITHMS),),
        jwks_refresh_min_s=0,
        budget_queries=BUDGET,
    )
    config = replace(make_config(loaded.sqlite_uri, *POLICIES), security=security, datasets_default=None)
    client = await aiohttp_client(create_app(config, store=loaded.store_for(backend)))
    return client, issuer, broker


async def ask(
    client: TestClient[Any, Any], path: str, token: str | None = None, **query: Any
) -> tuple[int, dict[str, Any]]:
    """POST `{"query": query}` (datasets named by `datasetIds`); the status and the document, never a 5xx."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if "datasetIds" in query:
        params = dict(query.get("requestParameters", {}))
        params["datasets"] = {"datasetIds": query.pop("datasetIds")}
        query["requestParameters"] = params
    resp = await client.post(path, json={"meta": {"apiVersion": "v2.0.0"}, "query": query}, headers=headers)
    text = await resp.text()
    assert resp.status < 500, text
    document: dict[str, Any] = await resp.json()
    return resp.status, document


async def counts(client: TestClient[Any, Any], path: str, token: str | None = None, **query: Any) -> dict[str, int]:
    """resultsCount per dataset, every visible dataset listed."""
    q = {"requestedGranularity": "count", "includeResultsetResponses": "ALL", **query}
    status, document = await ask(client, path, token, **q)
    if status == 404:  # a record no dataset visible to the caller holds
        return {}
    assert status == 200, document
    return {rs["id"]: rs["resultsCount"] for rs in document["response"]["resultSets"]}


async def results(
    client: TestClient[Any, Any], path: str, token: str | None = None, **query: Any
) -> dict[str, list[dict[str, Any]]]:
    """Records per dataset (record granularity)."""
    status, document = await ask(client, path, token, requestedGranularity="record", **query)
    if status == 404:
        return {}
    assert status == 200, document
    return {rs["id"]: rs.get("results", []) for rs in document["response"]["resultSets"]}


def ids(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    return {d: sorted(str(r.get("id") or r.get("variantInternalId")) for r in rs) for d, rs in found.items() if rs}


# vFew, vMany (sets) and vKeys (keys) of the floored dataset.
RANGED = {"referenceName": "22", "start": [299], "end": [460], "variantType": "SNP"}


def granted(issuer: Authority, broker: Authority) -> str:
    return issuer.token(ga4gh_passport_v1=[broker.visa()])


# -- the same ids (and sample indexes) in a public and a controlled dataset -------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/api/g_variants/vCtl/individuals", {}, id="the controlled variant's individuals"),
        pytest.param("/api/g_variants/vCtl/biosamples", {}, id="the controlled variant's biosamples"),
        pytest.param("/api/individuals", {"requestParameters": allele(200)}, id="its allele on individuals"),
        pytest.param("/api/biosamples", {"requestParameters": allele(200)}, id="its allele on biosamples"),
    ],
)
async def test_a_controlled_variant_reaches_no_public_carrier_with_the_same_sample_index(
    beacon: Beacon, path: str, query: dict[str, Any]
) -> None:
    client, issuer, broker = beacon
    # Anonymous: S1/I1 is index 0 in both datasets, yet the public dataset does not carry vCtl.
    assert (await counts(client, path, **query)).get(PUB, 0) == 0
    assert CTL not in await counts(client, path, **query)
    # With the visa, the controlled dataset answers its own carrier only, and the public one still nothing.
    found = await counts(client, path, granted(issuer, broker), **query)
    assert found.get(CTL) == 1
    assert found.get(PUB, 0) == 0


async def test_a_shared_variant_id_finds_each_datasets_own_carriers(beacon: Beacon) -> None:
    client, issuer, broker = beacon
    anonymous = ids(await results(client, "/api/g_variants/vShared/individuals"))
    assert anonymous.get(PUB) == ["I1", "I2"]
    assert CTL not in anonymous
    with_visa = ids(await results(client, "/api/g_variants/vShared/individuals", granted(issuer, broker)))
    assert with_visa.get(PUB) == ["I1", "I2"]
    assert with_visa.get(CTL) == ["I3", "I4"]


@pytest.mark.parametrize("path", ["/api/individuals/I1/g_variants", "/api/biosamples/S1/g_variants"])
async def test_a_persons_variants_never_include_a_controlled_datasets_sets(beacon: Beacon, path: str) -> None:
    client, issuer, broker = beacon
    anonymous = ids(await results(client, path))
    assert CTL not in anonymous
    assert "vCtl" not in {v for vs in anonymous.values() for v in vs}
    assert anonymous.get(PUB) == ["vShared"]
    # I1 carries two variants of the floored dataset: fewer than its floor, so none are listed.
    assert FLO not in anonymous
    # Asking for the controlled dataset by name without a visa answers nothing from it.
    status, document = await ask(client, path, requestedGranularity="record", datasetIds=[CTL])
    assert CTL not in str(document.get("response", {})), (status, document)
    # A page of protected variant records costs its limit: one record, one allele of the budget.
    one = {"skip": 0, "limit": 1}
    with_visa = ids(await results(client, path, granted(issuer, broker), datasetIds=[CTL], pagination=one))
    assert with_visa == {CTL: ["vCtl"]}


async def test_a_zygosity_filter_picks_the_carriers_of_its_own_dataset(beacon: Beacon) -> None:
    client, issuer, broker = beacon
    hom = [{"id": HOMOZYGOUS["id"], "scope": "genomicVariation"}]
    found = ids(await results(client, "/api/individuals", granted(issuer, broker), requestParameters=allele(100)))
    assert (found.get(PUB), found.get(CTL)) == (["I1", "I2"], ["I3", "I4"])
    found = ids(
        await results(client, "/api/individuals", granted(issuer, broker), requestParameters=allele(100), filters=hom)
    )
    # The zygosity picks each dataset's own homozygous carrier (S2 in one, S4 in the other): never the other's index.
    assert (found.get(PUB), found.get(CTL)) == (["I2"], ["I4"])


async def test_vcf_loads_sharing_samples_keep_each_datasets_carriers(beacon: Beacon) -> None:
    """The VCF loader's own sets: S1 is index 0 in both files; the controlled site reaches no public carrier."""
    client, issuer, broker = beacon
    ctl_allele = allele(1999)
    assert (await counts(client, "/api/individuals", requestParameters=ctl_allele)).get(VPUB, 0) == 0
    assert VCTL not in await counts(client, "/api/individuals", requestParameters=ctl_allele)
    assert await counts(client, f"/api/g_variants/{CTL_SITE}/individuals") == {}
    anonymous = ids(await results(client, "/api/biosamples/S1/g_variants"))
    assert anonymous.get(VPUB) == ["22:1000:A>G"]
    assert VCTL not in anonymous
    token = granted(issuer, broker)
    found = await counts(client, "/api/individuals", token, requestParameters=ctl_allele)
    assert (found.get(VPUB, 0), found.get(VCTL)) == (0, 1)
    shared = ids(await results(client, "/api/individuals", token, requestParameters=allele(999)))
    assert (shared.get(VPUB), shared.get(VCTL)) == (["S1"], ["S3"])


# -- two parts of one dataset, each numbering its samples from 0 -------------------------------------------------


async def test_each_part_reads_its_own_sample_indexes(beacon: Beacon) -> None:
    client, _, _ = beacon
    assert ids(await results(client, "/api/g_variants/vT2/individuals")) == {TWO: ["I8"]}
    assert ids(await results(client, "/api/g_variants/vT1/individuals")) == {TWO: ["I2"]}
    assert ids(await results(client, "/api/individuals/I2/g_variants", datasetIds=[TWO])) == {TWO: ["vT1"]}
    assert ids(await results(client, "/api/individuals/I8/g_variants", datasetIds=[TWO])) == {TWO: ["vT2"]}
    records = await results(client, "/api/g_variants/vT2", datasetIds=[TWO])
    assert [r.get("caseLevelData") for r in records[TWO]] == [[carrier("S8", HET)]]


# -- a count floor (k = 3) on a public dataset with record granularity ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/api/g_variants/vFew/individuals", {}, id="lookup"),
        pytest.param("/api/g_variants/vFew/biosamples", {}, id="biosamples lookup"),
        pytest.param("/api/individuals", {"requestParameters": allele(300)}, id="allele on individuals"),
        pytest.param("/api/biosamples", {"requestParameters": allele(300)}, id="allele on biosamples"),
    ],
)
async def test_two_carriers_from_a_set_read_as_zero_under_the_floor(
    beacon: Beacon, path: str, query: dict[str, Any]
) -> None:
    client, _, _ = beacon
    assert (await counts(client, path, datasetIds=[FLO], **query)).get(FLO, 0) == 0
    assert ids(await results(client, path, datasetIds=[FLO], **query)).get(FLO) is None


@pytest.mark.parametrize("zygosity", [None, HETEROZYGOUS["id"], HOMOZYGOUS["id"], HEMIZYGOUS["id"]])
async def test_zygosity_filters_give_no_count_below_the_floor(beacon: Beacon, zygosity: str | None) -> None:
    """vMany: 4 heterozygous carriers and 1 homozygous; het, hom and all are each floored."""
    client, _, _ = beacon
    filters = [{"id": zygosity, "scope": "genomicVariation"}] if zygosity else []
    for path in ("/api/individuals", "/api/biosamples"):
        found = (await counts(client, path, datasetIds=[FLO], requestParameters=allele(400), filters=filters)).get(
            FLO, 0
        )
        assert found == 0 or found >= FLOOR, (path, zygosity, found)
        listed = ids(await results(client, path, datasetIds=[FLO], requestParameters=allele(400), filters=filters))
        assert len(listed.get(FLO, [])) in (0, *range(FLOOR, 100)), (path, zygosity, listed)


async def test_a_rebuilt_carrier_list_smaller_than_the_floor_is_left_out(beacon: Beacon) -> None:
    client, _, _ = beacon
    found = await results(client, "/api/g_variants", datasetIds=[FLO], requestParameters=RANGED)
    by_id = {r["variantInternalId"]: r for r in found[FLO]}
    assert sorted(by_id) == ["vFew", "vKeys", "vMany"]
    # Two carriers (sets) and one (keys): below the floor, left out.
    assert "caseLevelData" not in by_id["vFew"]
    assert "caseLevelData" not in by_id["vKeys"]
    # Five carriers reach the floor: the list is rebuilt from the sets in sample order, as loaded.
    assert by_id["vMany"]["caseLevelData"] == [carrier(f"S{n}", HET) for n in range(1, 5)] + [carrier("S5", HOM)]


async def test_callers_without_record_granularity_never_see_rebuilt_carriers(beacon: Beacon) -> None:
    client, issuer, _ = beacon
    for granularity in ("boolean", "count"):
        status, document = await ask(
            client, "/api/g_variants", issuer.token(), requestedGranularity=granularity, datasetIds=[REG]
        )
        assert status == 200
        assert "caseLevelData" not in str(document), granularity
    # The controlled dataset's carriers stay hidden from a registered caller at every granularity.
    status, document = await ask(client, "/api/g_variants/vCtl", issuer.token(), requestedGranularity="record")
    assert "caseLevelData" not in str(document.get("response", {}))
    assert "S1" not in str(document.get("response", {}))


async def test_pages_over_individuals_from_sets_and_keys_are_disjoint_and_complete(beacon: Beacon) -> None:
    """vFew, vMany (sets) and vKeys (keys) in one range: I1..I6, read two at a time (skip counts pages)."""
    client, _, _ = beacon
    ranged = RANGED
    seen: list[str] = []
    for skip in range(4):
        page = ids(
            await results(
                client,
                "/api/individuals",
                datasetIds=[FLO],
                requestParameters=ranged,
                pagination={"skip": skip, "limit": 2},
            )
        )
        assert len(page.get(FLO, [])) <= 2
        seen += page.get(FLO, [])
    assert sorted(seen) == [f"I{n}" for n in range(1, 7)]
    assert (await counts(client, "/api/individuals", datasetIds=[FLO], requestParameters=ranged)).get(FLO, 0) >= 6


# -- the genotype budget on every set-based form ------------------------------------------------------------------


SET_DOORS: dict[str, tuple[str, dict[str, Any]]] = {
    "/individuals with request parameters": ("/api/individuals", {"requestParameters": allele(900)}),
    "/biosamples with request parameters": ("/api/biosamples", {"requestParameters": allele(900)}),
    "/g_variants/{id}/individuals": ("/api/g_variants/vReg/individuals", {}),
    "/g_variants/{id}/biosamples": ("/api/g_variants/vReg/biosamples", {}),
    "/individuals/{id}/g_variants": ("/api/individuals/I1/g_variants", {}),
    "/biosamples/{id}/g_variants": ("/api/biosamples/S2/g_variants", {}),
    "/individuals with a hemizygous filter and the allele": (
        "/api/individuals",
        {"requestParameters": allele(900), "filters": [{"id": HEMIZYGOUS["id"], "scope": "genomicVariation"}]},
    ),
}


@pytest.mark.parametrize("door", list(SET_DOORS))
async def test_every_set_based_question_spends_the_budget(beacon: Beacon, door: str) -> None:
    client, issuer, _ = beacon
    token = issuer.token(sub=f"budget-{door}")
    path, query = SET_DOORS[door]
    answered = 0
    for _ in range(BUDGET + 1):
        status, document = await ask(client, path, token, datasetIds=[REG], **query)
        if status == 429:
            break
        assert status == 200, document
        assert document["responseSummary"]["exists"], document
        answered += 1
    # Each answer cost at least one allele: the budget ran out within BUDGET questions.
    assert status == 429, document
    assert 1 <= answered <= BUDGET


# -- crafted inputs reaching the store ------------------------------------------------------------------------------


async def test_sample_names_with_json_and_sql_metacharacters_read_back_exactly(beacon: Beacon) -> None:
    client, _, _ = beacon
    assert ids(await results(client, "/api/g_variants/vMeta/individuals", datasetIds=[PUB])) == {PUB: [META_PERSON]}
    found = await results(client, "/api/g_variants/vMeta", datasetIds=[PUB])
    assert found[PUB][0]["caseLevelData"] == [carrier(META_SAMPLE, HET)]
    # The samples table survived its name.
    assert ids(await results(client, "/api/g_variants/vT1/individuals")) == {TWO: ["I2"]}


def test_more_than_65536_samples_keep_their_indexes() -> None:
    samples = SampleIndex()
    for n in range(70_000):
        samples.add(f"S{n}", None)
    listed = [carrier("S3", HET), carrier("S65535", HOM), carrier("S65536", HET), carrier("S69999", HEMIZYGOUS)]
    sets = carrier_sets(listed, samples, {})
    assert sets is not None
    assert [members(s).tolist() for s in sets] == [[3, 65536], [65535], [69999]]


@pytest.mark.parametrize(
    "listed",
    [
        pytest.param([carrier("S1", HET), carrier("S1", HET)], id="a duplicate sample name"),
        pytest.param([], id="no carriers"),
        pytest.param([carrier("", HET)], id="an empty sample name"),
    ],
)
def test_degenerate_carrier_lists_are_not_made_sets(listed: list[dict[str, Any]]) -> None:
    samples = SampleIndex()
    samples.add("S1", "I1")
    assert carrier_sets(listed, samples, {}) is None


# -- re-loading and withdrawing a part ------------------------------------------------------------------------------


async def _reload_p2(store: Store) -> None:
    await load_all(store)
    # p2 again, its people now I9 (S9) only: index 0 is S9, and vT2 is carried by it.
    await store.replace_dataset(dataset_load(TWO, "GRCh38", "d-p2-again", two_p2((9,), "S9")(), part="p2"))


async def test_a_reloaded_part_leaves_no_stale_samples(tmp_path: Path) -> None:
    path = tmp_path / "reload.db"
    await load_into(SqliteStore(path), _reload_p2)

    def read() -> tuple[list[tuple[str, int, str]], int]:
        with sqlite3.connect(path) as conn:
            sql = "SELECT part, idx, biosample FROM samples WHERE dataset = ? ORDER BY part, idx"
            rows = conn.execute(sql, (TWO,)).fetchall()
            orphans = "SELECT count(*) FROM carriers WHERE rid NOT IN (SELECT rid FROM records)"
            return rows, conn.execute(orphans).fetchone()[0]

    rows, orphans = await asyncio.to_thread(read)
    assert rows == [("p1", 0, "S1"), ("p1", 1, "S2"), ("p2", 0, "S9")]
    assert orphans == 0


async def test_a_reloaded_part_answers_its_new_carriers_only(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    path = tmp_path / "reload.db"
    await load_into(SqliteStore(path), _reload_p2)
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{path}", *POLICIES)))
    assert ids(await results(client, "/api/g_variants/vT2/individuals")) == {TWO: ["I9"]}
    assert ids(await results(client, "/api/individuals/I8/g_variants", datasetIds=[TWO])) == {}
    assert ids(await results(client, "/api/individuals/I2/g_variants", datasetIds=[TWO])) == {TWO: ["vT1"]}


# -- old stores ------------------------------------------------------------------------------------------------------


async def test_a_store_written_before_carrier_sets_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await load_into(SqliteStore(path), lambda s: s.replace_dataset(dataset_load(PUB, "GRCh38", "d", pub_records())))

    def downgrade() -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")

    await asyncio.to_thread(downgrade)
    store = SqliteStore(path)
    with pytest.raises(StoreUnavailable) as refused:
        await store.open()
    await store.close()
    message = str(refused.value)
    assert "schema version 3" in message
    assert "\n" not in message


async def test_an_old_mongodb_database_is_refused_with_one_line(mongo_db: MongoSource) -> None:
    await load_into(mongo_db.store(), lambda s: s.replace_dataset(dataset_load(PUB, "GRCh38", "d", pub_records())))
    store = mongo_db.store()
    await store._db[META].update_one({"_id": "schema"}, {"$set": {"version": 1}}, upsert=True)
    with pytest.raises(StoreUnavailable) as refused:
        await store.open()
    await store.close()
    message = str(refused.value)
    assert "schema version 1" in message
    assert "\n" not in message


# -- listing is not querying; a hard withdrawal takes the samples with it -------------------------------------------


@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/api/g_variants/vReg/individuals", {}, id="lookup from the variant"),
        pytest.param("/api/individuals/I1/g_variants", {}, id="lookup from the individual"),
        pytest.param("/api/biosamples/S2/g_variants", {}, id="lookup from the biosample"),
        pytest.param("/api/individuals", {"requestParameters": allele(900)}, id="allele on individuals"),
    ],
)
async def test_an_anonymous_caller_reaches_no_registered_sets(beacon: Beacon, path: str, query: dict[str, Any]) -> None:
    client, _, _ = beacon
    status, document = await ask(client, path, requestedGranularity="record", datasetIds=[REG], **query)
    # 400 names the datasets the caller may ask, and the registered one is not among them.
    assert status in (200, 400, 401, 403, 404), document
    sets = document.get("response", {}).get("resultSets", [])
    assert all(not rs.get("exists") and not rs.get("results") for rs in sets if rs.get("id") == REG), document
    assert "I1" not in str(document.get("response", {}))


async def _withdraw_ctl(store: Store) -> None:
    await load_all(store)
    tombstone = Tombstone(CTL, "2026-12-06T21:00:00Z", "reviewer", "consent withdrawn", hard=True)
    assert await store.withdraw_dataset(tombstone)


async def test_a_hard_withdrawal_deletes_the_datasets_samples_and_sets_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "withdrawn.db"
    await load_into(SqliteStore(path), _withdraw_ctl)

    def left() -> tuple[int, int]:
        with sqlite3.connect(path) as conn:
            (samples,) = conn.execute("SELECT count(*) FROM samples WHERE dataset = ?", (CTL,)).fetchone()
            (orphans,) = conn.execute(
                "SELECT count(*) FROM carriers WHERE rid NOT IN (SELECT rid FROM records)"
            ).fetchone()
            return int(samples), int(orphans)

    assert await asyncio.to_thread(left) == (0, 0)


async def test_a_hard_withdrawal_deletes_the_datasets_samples_on_mongodb(mongo_db: MongoSource) -> None:
    await load_into(mongo_db.store(), _withdraw_ctl)

    async def left(store: Store) -> int:
        assert isinstance(store, MongoStore)
        await store.collect_generations()
        return int(await store._db[SAMPLES].count_documents({"ds": CTL}))

    assert await load_into(mongo_db.store(), left) == 0


# -- MongoDB: the set steps read every matching set into memory at once ----------------------------------------------

SPREAD = 12  # variants of one part, each carried by S1 (a set per variant)
BOUND = 5  # RELATED_LIMIT for this test: what the key path would pair at most


def spread_records() -> Iterator[tuple[Any, dict[str, Any]]]:
    yield from people(range(1, 3))
    for n in range(SPREAD):
        yield VARIANTS, variant(f"vSpread{n}", 1000 + 10 * n, [carrier("S1", HET), carrier("S2", HOM)])


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        # 12 carried variants pair the person with more than the bound: refused, as by the key path.
        pytest.param("/api/individuals/I1/g_variants", {}, 400, id="a person's variants"),
        # 12 variants' sets folded into one union of two people: within the bound, answered.
        pytest.param(
            "/api/individuals",
            {"filters": [{"id": HOMOZYGOUS["id"], "scope": "genomicVariation"}]},
            200,
            id="a zygosity filter alone",
        ),
    ],
)
async def test_a_mongodb_lookup_reads_no_more_sets_than_the_related_limit(
    aiohttp_client: AiohttpClient,
    mongo_db: MongoSource,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    query: dict[str, Any],
    expected: int,
) -> None:
    """No read of sets is gathered whole (they are folded as they stream by: `_rows` never returns more
    than the bound), and a pivot past the bound is refused like the key path's, not gathered."""
    from beacon.store import mongo_carriers, mongo_translate

    await load_into(mongo_db.store(), lambda s: s.replace_dataset(dataset_load(PUB, "GRCh38", "d", spread_records())))
    monkeypatch.setattr(mongo_translate, "RELATED_LIMIT", BOUND)
    read: list[int] = []
    rows = mongo_carriers._rows

    async def counted(cursor: Any) -> list[dict[str, Any]]:
        found = await rows(cursor)
        read.append(len(found))
        return found

    monkeypatch.setattr(mongo_carriers, "_rows", counted)
    client = await aiohttp_client(create_app(make_config("sqlite:///unused.db", *POLICIES), store=mongo_db.store()))
    status, document = await ask(
        client, path, requestedGranularity="record", datasetIds=[PUB], pagination={"skip": 0, "limit": 1}, **query
    )
    assert status == expected, document
    assert max(read, default=0) <= BOUND + 1, read


# -- a damaged set in the store file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/g_variants/vShared", "/api/g_variants/vShared/individuals", "/api/individuals/I1/g_variants"],
)
async def test_a_damaged_set_gives_a_beacon_error_not_a_stack_trace(
    aiohttp_client: AiohttpClient, tmp_path: Path, path: str
) -> None:
    db = tmp_path / "damaged.db"
    await load_into(SqliteStore(db), lambda s: s.replace_dataset(dataset_load(PUB, "GRCh38", "d", pub_records())))

    def damage() -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE carriers SET het = x'3b3000000100000000000000ffffffff'")

    await asyncio.to_thread(damage)
    client = await aiohttp_client(create_app(make_config(f"sqlite:///{db}", *POLICIES)))
    resp = await client.post(path, json={"meta": {"apiVersion": "v2.0.0"}, "query": {"requestedGranularity": "record"}})
    text = await resp.text()
    assert "Traceback" not in text
    assert resp.content_type == "application/json", text
    document = await resp.json()
    # A clean Beacon error (500: the damage is the store's, not the request's).
    assert resp.status == 500, document
    assert "error" in document, document
