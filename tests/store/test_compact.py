"""Compact variant documents: what the columns hold is dropped on write and put back exactly on read."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from beacon.store.compact import decode, encode
from tests.documents import snp_variation

COLS = ("ds", "22:16050607:G>A", "GRCh37", "22", 16050606, 16050607, "G", "A", "SNP")


def vcf_doc() -> dict[str, Any]:
    return {
        "variantInternalId": "22:16050607:G>A",
        "variation": snp_variation("refseq:NC_000022.10", 16050606, "G", "A"),
        "identifiers": {"genomicHGVSId": "NC_000022.10:g.16050607G>A", "transcriptHGVSIds": ["NM_1:c.1G>A"]},
        "frequencyInPopulations": [
            {"source": "f.vcf INFO/AF", "sourceReference": "dataset:ds", "frequencies": [{"alleleFrequency": 0.1}]}
        ],
    }


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON text: values, types and key order."""
    return json.dumps(a) == json.dumps(b)


def test_a_vcf_variant_is_stored_without_what_its_columns_hold_and_read_back_exactly() -> None:
    doc = vcf_doc()
    text = encode(copy.deepcopy(doc), COLS)
    assert text.startswith("[3,")
    assert "variation" not in text
    assert "g.16050607G>A" not in text
    assert "dataset:ds" not in text
    assert _same(decode(text, COLS), doc)


def test_a_variant_with_only_the_genomic_hgvs_id_loses_its_identifiers_and_gets_them_back() -> None:
    doc = vcf_doc()
    doc["identifiers"] = {"genomicHGVSId": "NC_000022.10:g.16050607G>A"}
    text = encode(copy.deepcopy(doc), COLS)
    assert "identifiers" not in text
    assert _same(decode(text, COLS), doc)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["variation"]["location"]["interval"]["start"].update(value=16050606.0), "float start"),
        (lambda d: d["variation"].update(variantType="SNV"), "other type"),
        (lambda d: d["variation"]["location"].update(sequence_id="GRCh37:22"), "other sequence id"),
        (lambda d: d["variation"].update(extra=1), "extra field"),
        (lambda d: d.update(variantInternalId="other"), "other id"),
    ],
    ids=lambda p: p if isinstance(p, str) else "",
)
def test_a_document_the_columns_do_not_reproduce_is_stored_whole(change: Any, path: str) -> None:
    doc = vcf_doc()
    change(doc)
    text = encode(copy.deepcopy(doc), COLS)
    assert text.startswith("{")
    assert _same(decode(text, COLS), doc)


def test_fields_that_differ_from_what_the_columns_spell_are_kept() -> None:
    doc = vcf_doc()
    doc["identifiers"]["genomicHGVSId"] = "NC_000022.10:g.16050607G>T"
    doc["frequencyInPopulations"].append({"source": "x", "sourceReference": "dataset:other"})
    text = encode(copy.deepcopy(doc), COLS)
    assert text.startswith("[0,")
    assert _same(decode(text, COLS), doc)


def test_documents_without_variant_columns_are_stored_whole() -> None:
    doc = {"id": "HG1", "sex": {"id": "NCIT:C16576"}}
    assert _same(decode(encode(doc, None), COLS), doc)
