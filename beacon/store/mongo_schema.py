"""Document layout and index definitions of the MongoDB store (golden-tested).

One MongoDB collection per entry collection (`individuals`, `g_variants`, ...). Each document wraps
the Beacon record in `doc` and keeps what queries need beside it, under short names because they
repeat in every one of hundreds of millions of documents:

    ds    dataset id                  part  dataset part ("bff", "vcf", ...)
    gen   load generation (int)       seq   load order (gen * 2**32 + position in the load)
    rid   record id                   v     variant position: asm chr start end ref alt type len
    keys  ["kind:value", ...]         terms ontology/custom term ids
    vals  [{p: path, s: text, n: number}, ...] for alphanumeric filters
    cs    a variant's carriers: [het, hom, hemi] Roaring bitmaps (binary, null when empty) of the
          sample indexes of its generation (beacon/store/carriers.py); its doc.caseLevelData is then []

The `samples` collection maps each generation's sample indexes to ids: {gen, ds, idx, b: biosample,
i: individual}; it is a generation's like the records, written and collected with them.

Readers only see generations named in the `datasets_loaded` catalog, so a load writes a new
generation unseen and becomes visible when the catalog switches to it (docs/decisions.md).
"""

from __future__ import annotations

from typing import Any

from beacon.model.entry_types import DEFAULT_TABLE

# Catalog collections; entry collections take the entry types' collection names.
DATASETS_LOADED = "datasets_loaded"
TERM_CATALOG = "term_catalog"
META = "meta"
SAMPLES = "samples"

# Version 2: VCF carriers are sample sets (`cs`, `samples`), no longer keys.
SCHEMA_VERSION = 2

# Which document field holds each plan field.
FIELDS = {
    "id": "rid",
    "variant.assembly": "v.asm",
    "variant.chrom": "v.chr",
    "variant.start": "v.start",
    "variant.end": "v.end",
    "variant.ref": "v.ref",
    "variant.alt": "v.alt",
    "variant.type": "v.type",
    "variant.length": "v.len",
}
VARIANT_FIELDS = ("asm", "chr", "start", "end", "ref", "alt", "type", "len")

IndexSpec = dict[str, Any]  # {"name": ..., "keys": [[field, 1], ...]}


def _index(name: str, *keys: str, unique: bool = False) -> IndexSpec:
    spec: IndexSpec = {"name": name, "keys": [[k, 1] for k in keys]}
    if unique:
        spec["options"] = {"unique": True}
    return spec


# Every entry collection: dataset scans in load order and generation deletes; id lookups and
# cross-entity pivots (keys); ontology filters (terms); alphanumeric filters (vals).
RECORD_INDEXES: tuple[IndexSpec, ...] = (
    _index("by_generation", "gen", "seq"),
    _index("by_id", "rid", "gen"),
    _index("by_key", "keys", "gen"),
    _index("by_term", "terms", "gen"),
    _index("by_text_value", "vals.p", "vals.s"),
    _index("by_number_value", "vals.p", "vals.n"),
)

# Genomic variants also answer sequence, range and bracket queries: a position index bounds them,
# and the end index serves `end > x` when the longest loaded span is large. Both end in `gen`, which
# every filter carries, so a range count is answered from the index without reading a document.
POSITION_INDEX = "by_position_gen"
VARIANT_INDEXES: tuple[IndexSpec, ...] = (
    _index(POSITION_INDEX, "v.chr", "v.start", "v.end", "gen"),
    _index("by_end_gen", "v.chr", "v.end", "gen"),
)

CATALOG_INDEXES: dict[str, tuple[IndexSpec, ...]] = {
    # Unique: two first loads of a part racing cannot both create its catalog document (mongo_generations).
    DATASETS_LOADED: (_index("one_per_part", "dataset", "part", unique=True),),
    TERM_CATALOG: (_index("by_generation", "gen", "coll"),),
    # Set members to ids (by_index), and ids to set members for lookups towards variants.
    SAMPLES: (
        _index("by_index", "gen", "idx"),
        _index("by_biosample", "gen", "b"),
        _index("by_individual", "gen", "i"),
    ),
}


def indexes_for(collection: str) -> tuple[IndexSpec, ...]:
    """Index definitions of an entry collection or a catalog collection."""
    if collection in CATALOG_INDEXES:
        return CATALOG_INDEXES[collection]
    return RECORD_INDEXES + (VARIANT_INDEXES if collection in DEFAULT_TABLE.variant_collections() else ())
