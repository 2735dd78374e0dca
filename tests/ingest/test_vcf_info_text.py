"""The direct rows' INFO frequency text equals the frequency documents' (FrequencyWriter), record by record."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from beacon.model.populations import observed
from ingest.vcf.info_fields import AC, AF, AN, HOM, HOM_ALLELES, OVERALL, InfoLayout, detect
from ingest.vcf.info_text import InfoText
from ingest.vcf.populations import FrequencyWriter, SourceNames
from ingest.vcf.reader import open_vcf
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[1]
_HEADER = """##fileformat=VCFv4.2
##contig=<ID=1>
##INFO=<ID=AC,Number=A,Type=Integer,Description="count">
##INFO=<ID=AN,Number=1,Type=Integer,Description="number">
##INFO=<ID=AF,Number=A,Type=Float,Description="frequency">
##INFO=<ID=AC_NL,Number=R,Type=Integer,Description="count, with the reference's first">
##INFO=<ID=AN_NL,Number=1,Type=Integer,Description="number">
##INFO=<ID=AC_Hom_NL,Number=A,Type=Integer,Description="alleles in homozygous calls">
##INFO=<ID=EUR_AF,Number=A,Type=Float,Description="frequency">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""
# Missing values, NaN, infinity, zero counts (not observed), Number=R, counts without a frequency, 2 ALTs.
_RECORDS = [
    "AC=3;AN=10;AF=0.3;AC_NL=7,3;AN_NL=10;AC_Hom_NL=2;EUR_AF=0.1",
    "AC=0;AN=10;AF=0;AC_NL=10,0;AN_NL=10;EUR_AF=0",
    "AC=1,2;AN=10;AC_NL=7,1,2;AN_NL=0;EUR_AF=.,0.25",
    "AF=nan;EUR_AF=inf",
    "AN=8;AC_NL=.;EUR_AF=0.0001996805",
    "DP=3",
]


def _written(path: Path) -> Path:
    alts = ["A", "A", "A,C", "A", "A", "A"]
    path.write_text(_HEADER + "".join(f"1\t{10 * i + 1}\t.\tG\t{a}\t.\tPASS\t{info}\n" for i, (a, info) in
                                      enumerate(zip(alts, _RECORDS, strict=True))))  # fmt: skip
    return path


def _files(tmp_path: Path) -> list[Path]:
    files = [_written(tmp_path / "cases.vcf"), ROOT / "data/gdi/goe_aggregated_country_sex.vcf"]
    slice_ = DATA / "vcf/1000g_grch37/1000G_phase3_chr22_20-21Mb_99samples.vcf.gz"
    return [*files, slice_] if slice_.exists() else files


@pytest.mark.parametrize(
    "names",
    [SourceNames("d", "dataset:d"), SourceNames('The \u00e9 "source"', "doi:1", "v2", "EUR_total")],
    ids=["own source, default names", "another source with a version and an overall name"],
)
def test_the_text_equals_the_frequency_documents(tmp_path: Path, names: SourceNames) -> None:
    compared = 0
    for path in _files(tmp_path):
        vcf = open_vcf(path, sites_only=True)
        layout = detect(h.info().get("ID") for h in vcf.header_iter() if h.type == "INFO")
        assert layout, path
        compared += len(_compared(FrequencyWriter("d", names, layout=layout), vcf))
    # The two small files alone have 9 alleles with frequencies (a bare clone has no 1000 Genomes slice).
    assert compared >= 9


def _compared(writer: FrequencyWriter, records: Iterable[Any]) -> list[str]:
    """Each allele's InfoText against the writer's own documents; the texts of the alleles with frequencies."""
    text = InfoText(writer)
    texts: list[str] = []
    for record in records:
        for index in range(1, len(record.ALT) + 1):
            sources = writer.from_info(record, index)
            found = text.of(record, index)
            if sources is None:
                assert found is None
                continue
            assert found is not None
            assert (found.text, found.own) == writer.json_part(sources)
            assert found.observed == [e["population"] for e in sources[0]["frequencies"] if observed(e)]
            texts.append(found.text)
    return texts


def test_a_file_without_frequencies_has_no_text() -> None:
    assert not InfoText(FrequencyWriter("d", SourceNames("d", "dataset:d"), layout=InfoLayout(())))


def test_shared_fields_and_the_homozygous_fallback_of_a_mapped_layout(tmp_path: Path) -> None:
    """Populations reading the same INFO field keep their own names; alleleCountHomozygous falls back to halved
    homozygous alleles only where its own field is missing; a second pass over the file (texts remembered
    per value) gives the same answers."""
    layout = InfoLayout(
        (
            (OVERALL, ((AF, "AF"), (AC, "AC"), (AN, "AN"))),
            ("EUR", ((AF, "EUR_AF"),)),
            ("EUR_F", ((AF, "EUR_AF"),)),
            ("NL", ((AC, "AC_NL"), (AN, "AN_NL"), (HOM, "AC_Hom_NL"), (HOM_ALLELES, "AC"))),
        )
    )
    writer = FrequencyWriter("d", SourceNames("d", "dataset:d"), layout=layout)
    path = _written(tmp_path / "cases.vcf")
    # Twice through one InfoText: the second pass answers from the texts it remembered.
    seen = _compared(writer, [*open_vcf(path, sites_only=True), *open_vcf(path, sites_only=True)])
    assert any('"population":"EUR_F","alleleFrequency":0.1}' in t for t in seen)
    assert any('"alleleCountHomozygous":2' in t for t in seen)  # AC_Hom_NL=2, its own field
    assert any('"alleleCountHomozygous":1' in t for t in seen)  # AC_Hom_NL missing: the second ALT's AC=2, halved
