"""Populations: an aggregated VCF (AF_NL_M-style INFO) and the genotypes it was made from give the same frequencies.

The aggregated file is written here from the genotype file by an independent count (text GTs, the
sheet read with csv), in the naming `bcftools +fill-tags -S groups` uses (AC_Hom: alleles in
homozygous genotypes), on a hand-written file (autosomes, X inside and outside PAR1, Y, males with
diploid X calls) and on a real 1000 Genomes slice.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import Query
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.errors import InputError
from ingest.vcf.info_fields import detect, read_population_map
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import DATA

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "vcf"
GENOTYPES = FIXTURES / "gdi_genotypes_with_sexes.vcf"
SHEET = FIXTURES / "gdi_sample_sheet.tsv"
MINI_NODE_BFF = FIXTURES.parent / "bff" / "mini_node_populations_key"
G1K_SLICE = DATA / "vcf/1000g_grch37/1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"
G1K_SAMPLES = DATA / "vcf/1000g_grch37/1000G_sample_metadata_candig.json"
_NON_PAR = {
    "X": ((60_001, 2_699_520), (154_931_044, 155_260_560)),
    "Y": ((10_001, 2_649_520), (59_034_050, 59_363_566)),
}


def _groups(sheet: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """Population -> samples, as the GDI names them (country, sex, country_sex, ancestry, ancestry_sex)."""
    out: dict[str, set[str]] = {}
    for sample, row in sheet.items():
        sex = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(row.get("sex", "").lower(), "")
        names = [sex] if sex else []
        for code in (row.get("country", ""), row.get("ancestry", "")):
            if code:
                names += [code, f"{code}_{sex}"] if sex else [code]
        for name in names:
            out.setdefault(name, set()).add(sample)
    return out


def _alleles(gt: str, sex: str, chrom: str, pos: int) -> list[int | None]:
    alleles = [None if a == "." else int(a) for a in re.split(r"[/|]", gt)]
    pars = _NON_PAR.get(chrom)
    if pars is None or any(lo <= pos <= hi for lo, hi in pars):
        return alleles
    if chrom == "Y" and sex == "F":
        return []
    if sex == "M" and len(alleles) == 2:
        called = {a for a in alleles if a is not None}
        return [called.pop()] if len(called) == 1 else [None]
    return alleles


def _counts(calls: list[list[int | None]], k: int) -> tuple[int, int, int, int, int]:
    ac = sum(a == k for c in calls for a in c)
    an = sum(a is not None for c in calls for a in c)
    hom = sum(len(c) == 2 and c[0] == c[1] == k for c in calls)
    het = sum(len(c) == 2 and (c[0] == k) != (c[1] == k) for c in calls)
    hemi = sum(len(c) == 1 and c[0] == k for c in calls)
    return ac, an, hom, het, hemi


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        yield from handle


def aggregate(source: Path, sheet: dict[str, dict[str, str]], target: Path) -> None:
    """Write `source` without genotypes, with AC/AN/AF/AC_Het/AC_Hom/AC_Hemi overall and per population."""
    groups = _groups(sheet)
    sex_of = {s: {"male": "M", "m": "M"}.get(r.get("sex", "").lower(), "F") for s, r in sheet.items()}
    populations = ["", *sorted(groups)]
    out: list[str] = []
    for line in _lines(source):
        if line.startswith("##"):
            if not line.startswith("##FORMAT"):
                out.append(line.rstrip("\n"))
            continue
        fields = line.rstrip("\n").split("\t")
        if line.startswith("#"):
            samples = fields[9:]
            # Populations of the file's samples only.
            groups = {p: m & set(samples) for p, m in groups.items() if m & set(samples)}
            populations = ["", *sorted(groups)]
            for pop in populations:
                suffix = f"_{pop}" if pop else ""
                for tag, number, kind in (("AC", "A", "Integer"), ("AN", "1", "Integer"), ("AF", "A", "Float")):
                    out.append(f'##INFO=<ID={tag}{suffix},Number={number},Type={kind},Description="{tag}">')
                for z in ("Het", "Hom", "Hemi"):
                    out.append(f'##INFO=<ID=AC{suffix}_{z},Number=A,Type=Integer,Description="AC {z}">')
            out.append("\t".join(fields[:8]))
            continue
        chrom, pos, alts = fields[0], int(fields[1]), fields[4].split(",")
        gts = dict(zip(samples, (g.split(":")[0] for g in fields[9:]), strict=True))
        info: list[str] = []
        for pop in populations:
            members = samples if not pop else [s for s in samples if s in groups[pop]]
            calls = [_alleles(gts[s], sex_of.get(s, ""), chrom, pos) for s in members]
            per_alt = [_counts(calls, k) for k in range(1, len(alts) + 1)]
            an = per_alt[0][1]
            suffix = f"_{pop}" if pop else ""
            info.append(f"AC{suffix}={','.join(str(c[0]) for c in per_alt)}")
            info.append(f"AN{suffix}={an}")
            info.append(f"AF{suffix}={','.join(f'{c[0] / an:.7g}' if an else '0' for c in per_alt)}")
            info.append(f"AC{suffix}_Het={','.join(str(c[3]) for c in per_alt)}")
            info.append(f"AC{suffix}_Hom={','.join(str(2 * c[2]) for c in per_alt)}")
            info.append(f"AC{suffix}_Hemi={','.join(str(c[4]) for c in per_alt)}")
        out.append("\t".join([*fields[:7], ";".join(info)]))
    target.write_text("\n".join(out) + "\n")


def _sheet(path: Path) -> dict[str, dict[str, str]]:
    with path.open() as handle:
        return {row["sample"]: row for row in csv.DictReader(handle, delimiter="\t")}


async def _frequencies(store: SqliteStore, dataset: str) -> dict[str, dict[str, dict[str, Any]]]:
    docs = await store.find(Query("g_variants", (dataset,)))
    out = {}
    for doc in docs:
        (source,) = doc["frequencyInPopulations"]
        assert source["numberOfPopulations"] == len(source["frequencies"])
        out[doc["variantInternalId"]] = {f["population"]: f for f in source["frequencies"]}
    return out


def _assert_same(aggregated: dict[str, Any], genotyped: dict[str, Any]) -> None:
    assert aggregated.keys() == genotyped.keys()
    for variant, populations in genotyped.items():
        assert aggregated[variant].keys() == populations.keys(), variant
        for name, entry in populations.items():
            other = dict(aggregated[variant][name])
            # The file's AF has float32's 7 digits; every count is exact.
            assert other.pop("alleleFrequency") == pytest.approx(entry["alleleFrequency"], rel=1e-6, abs=1e-9)
            assert other == {k: v for k, v in entry.items() if k != "alleleFrequency"}, (variant, name)


async def test_aggregated_vcf_gives_the_genotype_frequencies(store: SqliteStore, tmp_path: Path) -> None:
    aggregated = tmp_path / "gdi_aggregated.vcf"
    await asyncio.to_thread(lambda: aggregate(GENOTYPES, _sheet(SHEET), aggregated))
    names = {"frequency_source": "The Genome of Europe", "frequency_version": "1.0"}
    await load_vcf([GENOTYPES], VcfOptions("geno", "GRCh37", samples_table=SHEET, counts_only=True, **names), store)
    await load_vcf([aggregated], VcfOptions("agg", "GRCh37", **names), store)
    genotyped, from_info = await _frequencies(store, "geno"), await _frequencies(store, "agg")
    _assert_same(from_info, genotyped)
    demo = genotyped["3:45864732:T>C"]
    assert {"ALL", "M", "F", "NL", "NL_M", "NL_F", "BE", "EUR", "EUR_M", "AFR", "AFR_M"} <= demo.keys()
    # NL males: S1 0/1, S3 0/0, S7 0/1 (AC 2 of AN 6); S2 1/1 is the NL female.
    assert (demo["NL_M"]["alleleCount"], demo["NL_M"]["alleleNumber"]) == (2, 6)
    assert demo["NL_F"]["alleleCountHomozygous"] == 1
    # X outside PAR1: males S1 1/1, S5 1/1, S3 1, S7 ./1 are hemizygous, one copy each.
    x = genotyped["X:3000000:A>G"]["M"]
    assert (x["alleleCount"], x["alleleNumber"], x["alleleCountHemizygous"], x["alleleCountHomozygous"]) == (4, 4, 4, 0)
    # A male's heterozygous call there is no call; inside PAR1 males stay diploid.
    assert genotyped["X:3000100:G>C"]["M"]["alleleNumber"] == 2  # S5 0 and S7 1/1; S1, S3 0/1 are no calls
    assert genotyped["X:70000:C>T"]["M"]["alleleCountHomozygous"] == 1
    # Y: females have no call.
    assert "F" in genotyped["Y:3000000:G>A"]
    assert genotyped["Y:3000000:G>A"]["F"]["alleleNumber"] == 0
    doc = (await store.find(Query("g_variants", ("agg",))))[0]
    source = doc["frequencyInPopulations"][0]
    assert (source["source"], source["version"]) == ("The Genome of Europe", "1.0")


@pytest.mark.skipif(not G1K_SLICE.exists(), reason="BEACON_TEST_DATA not set")
async def test_real_1000_genomes_genotypes_and_their_aggregate_agree(store: SqliteStore, tmp_path: Path) -> None:
    # Countries and ancestries for the test: the 1000 Genomes population's country, the super-population.
    country = {"GBR": "GB", "FIN": "FI", "TSI": "IT", "IBS": "ES", "CHB": "CN", "JPT": "JP", "YRI": "NG"}
    ancestry = {"GBR": "EUR", "FIN": "EUR", "TSI": "EUR", "IBS": "EUR", "CEU": "EUR", "YRI": "AFR", "LWK": "AFR"}
    rows = ["sample\tsex\tcountry\tancestry"]
    for item in json.loads(await asyncio.to_thread(G1K_SAMPLES.read_text))["metadata"]:
        p = item["Patient"]
        pop = p["ethnicity"]
        rows.append(f"{p['patientId']}\t{p['gender']}\t{country.get(pop, '')}\t{ancestry.get(pop, '')}")
    sheet_path = tmp_path / "sheet.tsv"
    await asyncio.to_thread(sheet_path.write_text, "\n".join(rows) + "\n")
    aggregated = tmp_path / "g1k_aggregated.vcf"
    await asyncio.to_thread(lambda: aggregate(G1K_SLICE, _sheet(sheet_path), aggregated))
    options = VcfOptions("geno", "GRCh37", samples_table=sheet_path, counts_only=True)
    await load_vcf([G1K_SLICE], options, store)
    await load_vcf([aggregated], VcfOptions("agg", "GRCh37"), store)
    # Sequence alleles (the slice's few copy-number alleles are not compared here).
    genotyped = {k: v for k, v in (await _frequencies(store, "geno")).items() if ">" in k}
    assert len(genotyped) > 1000
    _assert_same({k: v for k, v in (await _frequencies(store, "agg")).items() if ">" in k}, genotyped)


def test_naming_families_are_detected() -> None:
    layout = detect(["AC", "AN", "AF", "AF_NL_M", "AC_NL_M", "AN_NL_M", "AC_NL_M_Het", "AC_Hom_NL_M", "DP", "AF_EXAC"])
    assert dict(layout.populations) == {
        "": (("alleleCount", "AC"), ("alleleNumber", "AN"), ("alleleFrequency", "AF")),
        "NL_M": (
            ("alleleFrequency", "AF_NL_M"),
            ("alleleCount", "AC_NL_M"),
            ("alleleNumber", "AN_NL_M"),
            ("alleleCountHeterozygous", "AC_NL_M_Het"),
            ("homozygousAlleles", "AC_Hom_NL_M"),
        ),
    }
    gnomad = dict(
        detect(["AC_afr", "AN_afr", "nhomalt_afr", "AF_joint_afr", "AF_afr_XX", "AF_raw", "AF_popmax"]).populations
    )
    assert gnomad == {
        "afr": (("alleleCount", "AC_afr"), ("alleleNumber", "AN_afr"), ("alleleCountHomozygous", "nhomalt_afr"),
                ("alleleFrequency", "AF_joint_afr")),
        "afr_F": (("alleleFrequency", "AF_afr_XX"),),
    }  # fmt: skip
    assert dict(detect(["EUR_AF", "AF"]).populations) == {
        "": (("alleleFrequency", "AF"),),
        "EUR": (("alleleFrequency", "EUR_AF"),),
    }


def test_population_map_errors_name_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("populations:\n  NL:\n    alleleCount: AC_NL\n    alleleCounts: AN_NL\n")
    with pytest.raises(InputError, match=r"map.yaml: populations.NL.alleleCounts: unknown measure"):
        read_population_map(path)
    path.write_text(
        "source: GoE\nversion: 2\noverall: TOTAL\npopulations:\n  TOTAL: {alleleFrequency: AF}\n  NL: {alleleFrequency: AF_NL}\n"
    )
    mapped = read_population_map(path)
    assert mapped.version == "2"
    assert mapped.layout is not None
    assert mapped.layout.populations == (("", (("alleleFrequency", "AF"),)), ("NL", (("alleleFrequency", "AF_NL"),)))


async def test_mapped_fields_and_overall_name(store: SqliteStore, tmp_path: Path) -> None:
    vcf = tmp_path / "mapped.vcf"
    await asyncio.to_thread(
        vcf.write_text,
        "##fileformat=VCFv4.2\n##contig=<ID=3>\n"
        '##INFO=<ID=FREQ,Number=A,Type=Float,Description="f">\n##INFO=<ID=NL_FREQ,Number=A,Type=Float,Description="f">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n3\t100\t.\tA\tG\t.\tPASS\tFREQ=0.25;NL_FREQ=0.5\n",
    )
    mapping = tmp_path / "map.yaml"
    await asyncio.to_thread(
        mapping.write_text,
        "overall: TOTAL\npopulations:\n  TOTAL: {alleleFrequency: FREQ}\n  NL: {alleleFrequency: NL_FREQ}\n",
    )
    await load_vcf([vcf], VcfOptions("m", "GRCh37", populations_map=mapping), store)
    (doc,) = await store.find(Query("g_variants", ("m",)))
    assert doc["frequencyInPopulations"] == [
        {"source": "m", "sourceReference": "dataset:m", "numberOfPopulations": 2, "frequencies": [
            {"population": "TOTAL", "alleleFrequency": 0.25}, {"population": "NL", "alleleFrequency": 0.5}]}
    ]  # fmt: skip


async def test_bff_populations_key_of_the_mini_node_is_stored_as_frequencies(store: SqliteStore) -> None:
    folder = MINI_NODE_BFF
    report = await load_bff(folder, "gdi", store, assembly="GRCh37")
    assert [p.message for p in report.repairs] == ["populations[] read as frequencies[]"]
    (doc,) = await store.find(Query("g_variants", ("gdi",)))
    (source,) = doc["frequencyInPopulations"]
    assert "populations" not in source
    assert [f["population"] for f in source["frequencies"]] == ["NL", "NL_M"]
    assert (source["version"], source["numberOfPopulations"]) == ("1.0", 2)
