"""DDL of the embedded SQLite store: one records table, side tables for keys, terms, populations, values and carriers.

Secondary indexes (`INDEXES`) are dropped and built again around a load into a store that holds
little else, because SQLite loads several times faster into unindexed tables and an index built in one
pass is smaller than one grown row by row. The variant bins (`variant_groups`, `variant_bins`,
`long_variants`) serve range counts; beacon/store/sqlite_bins.py keeps them.
"""

from __future__ import annotations

# Version 4: VCF carriers are sample sets (`carriers`, `samples`; beacon/store/carriers.py), no longer key
# rows. Older stores hold their VCF carriers as keys and are refused with advice (docs/scaling.md).
# The variant bins did not raise the version: they are added to stores on open (sqlite_bins.ensure).
# Version 5: a record's `population:<name>` terms are one `populations` row, no longer `terms` rows; a record's
# own id is read from the id column, no longer a `vals` row; each VCF part keeps a sample map
# (`sample_records`, sqlite_sample_map.py). A version 4 store would answer population and id filters wrongly,
# so it is refused with the advice below.
SCHEMA_VERSION = 5
READABLE_VERSIONS = (5,)
# What a refused store is told to do: one line.
UPGRADE_ADVICE = (
    "the stored layout changed (docs/scaling.md): load the datasets again with beacon-ingest into a new store file"
)

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('max_span', '0');
CREATE TABLE IF NOT EXISTS records (
    rid INTEGER PRIMARY KEY,
    coll TEXT NOT NULL,
    dataset TEXT NOT NULL,
    part TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    v_asm TEXT, v_chr TEXT, v_start INTEGER, v_end INTEGER,
    v_ref TEXT, v_alt TEXT, v_type TEXT, v_len INTEGER
);
CREATE TABLE IF NOT EXISTS keys (
    kind TEXT NOT NULL, value TEXT NOT NULL, rid INTEGER NOT NULL,
    PRIMARY KEY (kind, value, rid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS terms (
    term TEXT NOT NULL, rid INTEGER NOT NULL,
    PRIMARY KEY (term, rid)
) WITHOUT ROWID;
-- The populations a record was observed in (its `population:<name>` terms), as a JSON array of names:
-- one row per variant instead of one `terms` row per population, and no index but the rowid's.
CREATE TABLE IF NOT EXISTS populations (rid INTEGER PRIMARY KEY, names TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vals (rid INTEGER NOT NULL, path TEXT NOT NULL, sval TEXT, nval REAL);
-- A variant's carriers: Roaring bitmaps of the sample indexes of its part, per zygosity (NULL: none).
CREATE TABLE IF NOT EXISTS carriers (rid INTEGER PRIMARY KEY, het BLOB, hom BLOB, hemi BLOB);
-- The dense sample indexes of each dataset part, and the biosample and individual of each.
CREATE TABLE IF NOT EXISTS samples (
    dataset TEXT NOT NULL, part TEXT NOT NULL, idx INTEGER NOT NULL, biosample TEXT NOT NULL, individual TEXT,
    PRIMARY KEY (dataset, part, idx)
) WITHOUT ROWID;
-- Per dataset part, link-key kind (biosample, individual) and collection: the rid of the record of that
-- part whose id a sample's biosample or individual id is, as int64 little-endian indexed by sample index
-- (0: no such record in the part). A carrier lookup maps set members to target records through it, with
-- no key seek per carrier (sqlite_translate.py `_carrier_pairs`). Written by the load (sqlite_load.py),
-- which replaces a part whole, so a rid cannot go stale.
CREATE TABLE IF NOT EXISTS sample_records (
    dataset TEXT NOT NULL, part TEXT NOT NULL, kind TEXT NOT NULL, coll TEXT NOT NULL, rids BLOB NOT NULL,
    PRIMARY KEY (dataset, part, kind, coll)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_by_biosample ON samples (dataset, biosample);
CREATE INDEX IF NOT EXISTS samples_by_individual ON samples (dataset, individual);
CREATE TABLE IF NOT EXISTS term_catalog (
    dataset TEXT NOT NULL, part TEXT NOT NULL, coll TEXT NOT NULL, term TEXT NOT NULL,
    type TEXT NOT NULL, scope TEXT NOT NULL, label TEXT,
    PRIMARY KEY (dataset, part, coll, term, scope)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasets_loaded (
    dataset TEXT NOT NULL, part TEXT NOT NULL, assembly TEXT, digest TEXT NOT NULL,
    loaded_at TEXT NOT NULL, counts TEXT NOT NULL,
    PRIMARY KEY (dataset, part)
);
CREATE TABLE IF NOT EXISTS variant_groups (
    gid INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL, part TEXT NOT NULL, chrom TEXT NOT NULL, asm TEXT,
    UNIQUE (dataset, part, chrom, asm)
);
-- Not in INDEXES: a load keeps this small table part by part and never rebuilds it.
CREATE INDEX IF NOT EXISTS variant_groups_by_chrom ON variant_groups (chrom, dataset);
CREATE TABLE IF NOT EXISTS variant_bins (
    gid INTEGER NOT NULL, bin INTEGER NOT NULL, upto INTEGER NOT NULL,
    PRIMARY KEY (gid, bin)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS long_variants (
    gid INTEGER NOT NULL, cls INTEGER NOT NULL, v_start INTEGER NOT NULL, v_end INTEGER NOT NULL, rid INTEGER NOT NULL,
    PRIMARY KEY (gid, cls, v_start, v_end, rid)
) WITHOUT ROWID;
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS records_by_id ON records (coll, id, dataset);
CREATE INDEX IF NOT EXISTS records_by_dataset ON records (coll, dataset, rid);
CREATE INDEX IF NOT EXISTS records_by_part ON records (dataset, part);
CREATE INDEX IF NOT EXISTS records_by_position ON records (coll, v_chr, v_start, v_end);
CREATE INDEX IF NOT EXISTS records_by_end ON records (coll, v_chr, v_end);
CREATE INDEX IF NOT EXISTS keys_by_rid ON keys (rid);
CREATE INDEX IF NOT EXISTS terms_by_rid ON terms (rid);
CREATE INDEX IF NOT EXISTS vals_by_text ON vals (path, sval);
CREATE INDEX IF NOT EXISTS vals_by_number ON vals (path, nval) WHERE nval IS NOT NULL;
CREATE INDEX IF NOT EXISTS vals_by_rid ON vals (rid);
"""

INDEX_STATEMENTS = tuple(s.strip() for s in INDEXES.split(";") if s.strip())
INDEX_NAMES = tuple(s.split()[5] for s in INDEX_STATEMENTS)

# Which records column holds each plan field.
COLUMNS = {
    "id": "r.id",
    "variant.assembly": "r.v_asm",
    "variant.chrom": "r.v_chr",
    "variant.start": "r.v_start",
    "variant.end": "r.v_end",
    "variant.ref": "r.v_ref",
    "variant.alt": "r.v_alt",
    "variant.type": "r.v_type",
    "variant.length": "r.v_len",
}
