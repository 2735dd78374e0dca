"""Variant queries against VCF-loaded data: HGVS and sequence queries agree, synonyms and breakend mates work."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.app import create_app
from beacon.config import GeneFile, LiftoverChain
from beacon.store.base import Store
from beacon.store.sqlite import SqliteStore
from ingest.vcf.load import VcfOptions, load_vcf
from tests.backends import load_into, sqlite_loaded
from tests.conftest import DATA, AiohttpClient, fetch, make_config, refusal, test_data

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vcf"
BND = test_data("vcf/sv/cgbeacon2/BND.SV.vcf")
TRIO = test_data("vcf/sv/cgbeacon2/test_trio.SV.vcf.gz")


async def _load(store: Store) -> None:
    await load_vcf([FIXTURES / "multiallelic_indel_needs_trim.vcf"], VcfOptions("small", "GRCh37"), store)
    await load_vcf([BND, TRIO], VcfOptions("sv", "GRCh37"), store)


@pytest.fixture(scope="module")
def vcf_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_loaded(tmp_path_factory.mktemp("vcf") / "v.db", _load)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, vcf_db: Path) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(make_config(f"sqlite:///{vcf_db}")))


async def ids(client: TestClient[Any, Any], **params: str) -> set[str]:
    doc = await fetch(
        client, "GET", "/api/g_variants", params={**params, "requestedGranularity": "record", "limit": "0"}
    )
    return {r["variantInternalId"] for s in doc["response"]["resultSets"] for r in s["results"]}


@pytest.mark.parametrize(
    ("hgvs", "sequence", "expected"),
    [
        ("NC_000001.10:g.66381T>A", {"start": "66380", "referenceBases": "T", "alternateBases": "A"}, "1:66381:T>A"),
        (
            "NC_000001.10:g.66382_66386del",
            {"start": "66380", "referenceBases": "TATATA", "alternateBases": "T"},
            "1:66381:TATATA>T",
        ),
        ("1:g.70001del", {"start": "69999", "referenceBases": "GT", "alternateBases": "G"}, "1:70000:GT>G"),
    ],
    ids=["substitution", "deletion by accession", "deletion by chromosome name"],
)
async def test_hgvs_and_sequence_queries_find_the_same_variant(
    client: TestClient[Any, Any], hgvs: str, sequence: dict[str, str], expected: str
) -> None:
    assert await ids(client, genomicAlleleShortForm=hgvs) == {expected}
    assert await ids(client, referenceName="1", **sequence) == {expected}
    wrong = {**sequence, "alternateBases": "C" if sequence["alternateBases"] != "C" else "G"}
    assert await ids(client, referenceName="1", **wrong) == set()


async def test_variant_type_synonyms_reach_structural_variants(client: TestClient[Any, Any]) -> None:
    deletions = await ids(client, variantType="DEL", datasetIds="sv")
    assert deletions
    assert await ids(client, variantType="EFO:0030067", datasetIds="sv") == deletions
    assert await ids(client, variantType="SO:0000159", datasetIds="sv") == deletions
    copy_number = await ids(client, variantType="CNV", datasetIds="sv")
    assert deletions <= copy_number


async def test_breakends_are_stored_with_their_mate(client: TestClient[Any, Any]) -> None:
    breakends = await ids(client, variantType="BND", datasetIds="sv")
    assert len(breakends) >= 6


@pytest.mark.parametrize(
    ("reference", "mate", "expected"),
    [("2", "17", {"bnd_W"}), ("chr2", "13", {"bnd_V"}), ("13", "2", {"bnd_U"}), ("17", "1", set())],
)
async def test_mate_name_finds_breakends_by_their_mate(
    client: TestClient[Any, Any], reference: str, mate: str, expected: set[str]
) -> None:
    found = await ids(client, referenceName=reference, mateName=mate, datasetIds="sv")
    assert {i.rsplit(":", 1)[-1] for i in found} == expected


GRCH38 = DATA / "vcf/1000g_grch38/1000G_GRCh38_chr22_10516173-11016173_2548samples"


@pytest.fixture(scope="module")
def grch38_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = GRCH38.with_name(GRCH38.name + ".vcf.gz")

    async def load(store: Store) -> None:
        await load_vcf([source], VcfOptions("g38", "GRCh38", sites_only=True), store)

    return sqlite_loaded(tmp_path_factory.mktemp("grch38") / "g.db", load)


async def test_every_normalised_record_is_found_and_a_wrong_base_is_not(
    aiohttp_client: AiohttpClient, grch38_db: Path
) -> None:
    from cyvcf2 import VCF

    client = await aiohttp_client(create_app(make_config(f"sqlite:///{grch38_db}")))
    expected = [
        (r.CHROM, r.POS, r.REF, r.ALT[0])
        for r in VCF(str(GRCH38.with_name(GRCH38.name + ".bcftools_norm_expected.vcf.gz")), samples=[])
    ]
    assert len(expected) == 3042
    for chrom, pos, ref, alt in expected:
        params = {"assemblyId": "GRCh38", "referenceName": chrom, "start": str(pos - 1), "referenceBases": ref,
                  "alternateBases": alt, "requestedGranularity": "count"}  # fmt: skip
        resp = await client.get("/api/g_variants", params=params)
        doc = await resp.json()
        assert doc["responseSummary"]["numTotalResults"] >= 1, (chrom, pos, ref, alt)
        wrong = "A" if alt[-1] != "A" else "C"
        resp = await client.get("/api/g_variants", params={**params, "alternateBases": alt[:-1] + wrong})
        doc = await resp.json()
        assert doc["responseSummary"]["exists"] is False, (chrom, pos, ref, alt, wrong)


@pytest.fixture
async def mixed(aiohttp_client: AiohttpClient, tmp_path: Path) -> TestClient[Any, Any]:
    db = tmp_path / "mixed.db"

    async def load(store: Store) -> None:
        await load_vcf([FIXTURES / "multiallelic_indel_needs_trim.vcf"], VcfOptions("g37", "GRCh37"), store)
        await load_vcf([FIXTURES / "haploid_x_and_missing_calls.vcf"], VcfOptions("g38", "GRCh38"), store)

    await load_into(SqliteStore(db), load)
    return await aiohttp_client(create_app(make_config(f"sqlite:///{db}")))


async def test_coordinates_without_assembly_are_refused_when_assemblies_differ(mixed: TestClient[Any, Any]) -> None:
    params = {"referenceName": "1", "start": "66380", "alternateBases": "A"}
    message = await refusal(mixed, "GET", "/api/g_variants", params=params)
    assert "assemblyId is required: the datasets searched are in GRCh37, GRCh38" in message
    one = await fetch(
        mixed, "GET", "/api/g_variants", params={**params, "datasetIds": "g37", "requestedGranularity": "count"}
    )
    assert one["responseSummary"]["numTotalResults"] == 1


async def test_datasets_of_another_assembly_are_named_never_silently_empty(mixed: TestClient[Any, Any]) -> None:
    params = {
        "assemblyId": "hg19",
        "referenceName": "1",
        "start": "66380",
        "alternateBases": "A",
        "requestedGranularity": "count",
    }
    doc = await fetch(mixed, "GET", "/api/g_variants", params=params)
    assert doc["responseSummary"]["numTotalResults"] == 1
    assert doc["info"]["warnings"] == [
        "dataset g38 is on GRCh38, the query on GRCh37: not searched (no liftover configured)"
    ]
    gene_only = await fetch(mixed, "GET", "/api/g_variants", params={"geneId": "X"})
    assert "info" not in gene_only


# chr1 of "GRCh37" [0, 1 Mb) maps onto chr1 of "GRCh38" shifted by +100; nothing else maps.
CHAIN = "chain 1000 chr1 249250621 + 0 1000000 chr1 248956422 + 100 1000100 1\n1000000\n\n"


@pytest.fixture
async def lifted(aiohttp_client: AiohttpClient, tmp_path: Path) -> TestClient[Any, Any]:
    db = tmp_path / "lift.db"
    await asyncio.to_thread((tmp_path / "37to38.chain").write_text, CHAIN)
    # The fixture's variants, loaded as GRCh38: the same alleles 100 bases to the right of GRCh37.
    trim = FIXTURES / "multiallelic_indel_needs_trim.vcf"
    await load_into(SqliteStore(db), lambda store: load_vcf([trim], VcfOptions("g38", "GRCh38"), store))
    config = replace(
        make_config(f"sqlite:///{db}"), liftover=(LiftoverChain("GRCh37", "GRCh38", tmp_path / "37to38.chain"),)
    )
    return await aiohttp_client(create_app(config))


async def test_a_grch37_query_is_lifted_onto_grch38_data_and_says_so(lifted: TestClient[Any, Any]) -> None:
    params = {"assemblyId": "GRCh37", "referenceName": "1", "start": "66280", "referenceBases": "T", "alternateBases": "A",
              "requestedGranularity": "record"}  # fmt: skip
    doc = await fetch(lifted, "GET", "/api/g_variants", params=params)
    assert [r["variantInternalId"] for s in doc["response"]["resultSets"] for r in s["results"]] == ["1:66381:T>A"]
    assert doc["info"]["liftover"] == [
        {"datasets": ["g38"], "assemblyId": "GRCh38", "referenceName": "1", "start": [66380]}
    ]
    ranged = await fetch(
        lifted,
        "GET",
        "/api/g_variants",
        params={
            "assemblyId": "hg19",
            "referenceName": "chr1",
            "start": "66200",
            "end": "69950",
            "requestedGranularity": "count",
        },
    )
    assert ranged["responseSummary"]["numTotalResults"] == 3
    assert ranged["info"]["liftover"][0]["end"] == [70050]


async def test_a_position_that_does_not_lift_is_reported(lifted: TestClient[Any, Any]) -> None:
    params = {
        "assemblyId": "GRCh37",
        "referenceName": "2",
        "start": "100",
        "alternateBases": "A",
        "requestedGranularity": "count",
    }
    doc = await fetch(lifted, "GET", "/api/g_variants", params=params)
    assert doc["responseSummary"]["exists"] is False
    assert doc["info"]["warnings"] == [
        "dataset g38 is on GRCh38: not searched (2:101 on GRCh37 has no unique position on GRCh38)"
    ]


def _spans(path: Path) -> list[tuple[str, int, int, str]]:
    """(chrom, 0-based start, exclusive end, id prefix) of the alleles, computed from the VCF directly.

    Sequence alleles span their REF; a symbolic allele starts after the padding base at POS and
    ends at END, at least one base long (an insertion has END = POS).
    """
    from cyvcf2 import VCF

    out = []
    for r in VCF(str(path)):
        chrom = r.CHROM.removeprefix("chr")
        end = r.INFO.get("END")
        for alt in r.ALT:
            if alt.startswith("<") and end is not None:
                span_end = max(int(end), r.POS + 1)
                out.append((chrom, r.POS, span_end, f"{chrom}:{r.POS}:{alt.strip('<>')}:{span_end}"))
            elif set(alt) <= set("ACGT") and len(alt) < len(r.REF) and r.REF.startswith(alt):
                out.append((chrom, r.POS - 1, r.POS - 1 + len(r.REF), f"{chrom}:{r.POS}:{r.REF}>{alt}"))
    return out


SV_SPANS = _spans(TRIO)


def _range_cases() -> list[Any]:
    cases = []
    for chrom, start, end, _ in SV_SPANS[:5]:
        name = f"{chrom}:{start}-{end}"
        cases += [
            pytest.param(chrom, start - 10, start, id=f"{name}: range ending at its start"),
            pytest.param(chrom, start - 10, start + 1, id=f"{name}: range covering its first base"),
            pytest.param(chrom, end - 1, end + 10, id=f"{name}: range starting at its last base"),
            pytest.param(chrom, end, end + 10, id=f"{name}: range starting at its end"),
        ]
    return cases


@pytest.mark.parametrize(("chrom", "start", "end"), _range_cases())
async def test_range_hits_exactly_the_overlapping_variants(
    client: TestClient[Any, Any], chrom: str, start: int, end: int
) -> None:
    found = await ids(client, assemblyId="GRCh37", referenceName=chrom, start=str(start), end=str(end), datasetIds="sv")
    found_symbolic = {i for i in found if any(i.startswith(p) for *_, p in SV_SPANS)}
    expected = {p for c, s, e, p in SV_SPANS if c == chrom and s < end and e > start}
    assert {next(p for *_, p in SV_SPANS if i.startswith(p)) for i in found_symbolic} == expected


@pytest.mark.parametrize(
    ("delta_start", "delta_end", "hit"),
    [
        ((0, 0), (0, 0), True),
        ((1, 5), (0, 0), False),
        ((-5, -1), (0, 0), False),
        ((0, 0), (1, 5), False),
        ((0, 0), (-5, -1), False),
        ((-5, 5), (-5, 5), True),
    ],
    ids=[
        "exact brackets hit",
        "start bracket after its start misses",
        "start bracket before its start misses",
        "end bracket after its end misses",
        "end bracket before its end misses",
        "wide brackets hit",
    ],
)
async def test_bracket_boundaries(
    client: TestClient[Any, Any], delta_start: tuple[int, int], delta_end: tuple[int, int], hit: bool
) -> None:
    chrom, start, end, prefix = next(s for s in SV_SPANS if ":DEL:" in s[3])
    params = {
        "assemblyId": "GRCh37", "referenceName": chrom, "datasetIds": "sv", "variantType": "DEL",
        "start": f"{start + delta_start[0]},{start + delta_start[1]}", "end": f"{end + delta_end[0]},{end + delta_end[1]}",
    }  # fmt: skip
    found = await ids(client, **params)
    assert any(i.startswith(prefix) for i in found) is hit


@pytest.fixture
async def with_genes(aiohttp_client: AiohttpClient, vcf_db: Path, tmp_path: Path) -> TestClient[Any, Any]:
    bed = "track name=genes\n1\t66000\t66400\tMYGENE\n1\t69990\t70010\tOTHER\n"
    gtf = '1\tsrc\tgene\t70001\t70002\t.\t+\t.\tgene_id "G1"; gene_name "GTFGENE";\n1\tsrc\texon\t1\t2\t.\t+\t.\tgene_name "NOPE";\n'
    await asyncio.to_thread((tmp_path / "genes.bed").write_text, bed)
    await asyncio.to_thread((tmp_path / "genes.gtf").write_text, gtf)
    config = replace(
        make_config(f"sqlite:///{vcf_db}"),
        genes=(GeneFile("GRCh37", tmp_path / "genes.bed"), GeneFile("GRCh38", tmp_path / "genes.gtf")),
    )
    return await aiohttp_client(create_app(config))


@pytest.mark.parametrize(
    ("gene", "expected"),
    [
        ("MYGENE", {"1:66381:T>A", "1:66381:TATATA>T"}),
        ("mygene", {"1:66381:T>A", "1:66381:TATATA>T"}),
        ("OTHER", {"1:70000:GT>G"}),
        ("GTFGENE", set()),
        ("NOPE", set()),
    ],
    ids=[
        "BED region",
        "symbols are case-insensitive",
        "a region overlapping a deletion",
        "GTF table is for another assembly",
        "unknown gene",
    ],
)
async def test_gene_regions_find_unannotated_variants(
    with_genes: TestClient[Any, Any], gene: str, expected: set[str]
) -> None:
    assert await ids(with_genes, geneId=gene, datasetIds="small") == expected


def test_gtf_gene_features_are_read_one_based() -> None:
    import tempfile

    from beacon.genome.genes import GeneRegion, load_gene_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "g.gtf"
        path.write_text('chr7\tx\tgene\t117480025\t117668665\t.\t+\t.\tgene_id "ENSG1"; gene_name "CFTR";\n')
        assert load_gene_table("GRCh38", path).lookup("cftr") == (GeneRegion("7", 117480024, 117668665),)


@pytest.fixture
async def brca2(aiohttp_client: AiohttpClient, tmp_path: Path) -> TestClient[Any, Any]:
    db = tmp_path / "brca2.db"
    annotated = FIXTURES / "brca2_c5946del_annotated.vcf"
    await load_into(SqliteStore(db), lambda store: load_vcf([annotated], VcfOptions("clinic", "GRCh38"), store))
    return await aiohttp_client(create_app(make_config(f"sqlite:///{db}")))


@pytest.mark.parametrize(
    "params",
    [
        {"genomicAlleleShortForm": "NM_000059.4:c.5946del"},
        {"genomicAlleleShortForm": "NM_000059.4:c.5946delT"},
        {"genomicAlleleShortForm": "NC_000013.11:g.32340301del"},
        {
            "assemblyId": "GRCh38",
            "referenceName": "chr13",
            "start": "32340299",
            "referenceBases": "GT",
            "alternateBases": "G",
        },
        {"geneId": "BRCA2", "aminoacidChange": "p.Ser1982fs"},
        {"geneId": "BRCA2", "variantType": "INDEL"},
    ],
    ids=[
        "transcript HGVS",
        "transcript HGVS with the deleted base",
        "genomic HGVS",
        "sequence query",
        "gene and protein change",
        "gene and INDEL",
    ],
)
async def test_the_clinicians_question_gets_one_answer_however_it_is_asked(
    brca2: TestClient[Any, Any], params: dict[str, str]
) -> None:
    doc = await fetch(brca2, "GET", "/api/g_variants", params={**params, "requestedGranularity": "record"})
    (result,) = [r for s in doc["response"]["resultSets"] for r in s["results"]]
    assert result["variantInternalId"] == "13:32340300:GT>G"
    assert result["identifiers"]["transcriptHGVSIds"] == ["NM_000059.4:c.5946delT"]
    frequency = result["frequencyInPopulations"][0]["frequencies"][0]
    assert (frequency["alleleCount"], frequency["alleleNumber"]) == (1, 4)


async def test_an_unknown_assembly_is_named_even_when_several_are_loaded(mixed: TestClient[Any, Any]) -> None:
    params = {"assemblyId": "hg99", "referenceName": "1", "start": "66380", "alternateBases": "A"}
    message = await refusal(mixed, "GET", "/api/g_variants", params=params)
    assert message.startswith("assemblyId: unknown assembly 'hg99'; known: GRCh38 (grch38, hg38")


async def test_a_transcript_expression_without_annotations_to_match_is_a_400(client: TestClient[Any, Any]) -> None:
    doc = await fetch(
        client, "GET", "/api/g_variants", params={"genomicAlleleShortForm": "NM_000059.4:c.5946del"}, status=400
    )
    message = doc["error"]["errorMessage"]
    assert "carry no transcript annotations to match it" in message
    assert "genomic (g.) expression or with coordinates" in message


async def test_a_transcript_expression_is_searched_where_annotations_exist(brca2: TestClient[Any, Any]) -> None:
    miss = await fetch(
        brca2,
        "GET",
        "/api/g_variants",
        params={"genomicAlleleShortForm": "NM_000059.4:c.1A>G", "requestedGranularity": "count"},
    )
    assert miss["responseSummary"]["exists"] is False
