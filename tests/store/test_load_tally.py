"""What a load records besides its records, and how a catalog's parts read back as DatasetInfo."""

from __future__ import annotations

from beacon.store.base import IndexedRecord, LoadedPart, LoadTally, VariantPosition, merge_parts


def _variant(rid: str, hgvs: str, start: int, end: int) -> IndexedRecord:
    position = VariantPosition("GRCh38", "22", start, end, "A", "G", "SNP", 1)
    return IndexedRecord("g_variants", "genomicVariation", rid, {}, keys=(("hgvs", hgvs),), variant=position)


def test_transcript_annotated_variants_are_a_field_not_a_collection() -> None:
    tally = LoadTally()
    tally.add(_variant("v1", "NM_000546.6:c.215C>G", 10, 11))
    tally.add(_variant("v2", "NC_000022.11:g.100A>G", 100, 350))
    later = LoadTally()
    later.add(_variant("v3", "NP_000537.3:p.Pro72Arg", 5, 6))
    tally.merge(later)
    assert tally.counts == {"g_variants": 3}
    assert tally.transcript_annotated_variants == 2
    assert tally.max_span == 250


def test_parts_read_back_with_their_transcript_annotated_variants_summed() -> None:
    first, second = LoadTally(), LoadTally()
    first.add(_variant("v1", "NM_000546.6:c.215C>G", 10, 11))
    second.add(_variant("v2", "NM_000546.6:c.216C>G", 11, 12))
    second.add(_variant("v3", "NC_000022.11:g.100A>G", 100, 101))
    parts = [
        LoadedPart("d", "bff", "GRCh38", "a", "2026-01-01", first.catalog_counts()),
        LoadedPart("d", "vcf", "GRCh38", "b", "2026-01-02", second.catalog_counts()),
    ]
    (info,) = merge_parts(parts)
    assert info.transcript_annotated_variants == 2
    assert info.counts["g_variants"] == 3


def test_a_catalog_without_transcript_annotations_keeps_only_collections() -> None:
    tally = LoadTally()
    tally.add(_variant("v1", "NC_000022.11:g.100A>G", 100, 101))
    assert tally.catalog_counts() == {"g_variants": 1}
    (info,) = merge_parts([LoadedPart("d", "main", None, "a", "t", tally.catalog_counts())])
    assert info.transcript_annotated_variants == 0


def test_a_variant_position_lists_the_stores_columns_in_order() -> None:
    position = VariantPosition("GRCh38", "22", 100, 103, "ACG", "A", "DEL", 2)
    assert position.columns() == ("GRCh38", "22", 100, 103, "ACG", "A", "DEL", 2)
    assert position.span == 3
