"""The default-model entry-type table: the single source of routes, /map, /entry_types, store collections and lookups.

Everything that differs between entry types is a value in this table; handlers, the store and the
tests derive their behaviour from it instead of branching on entry-type names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from beacon.model.granularity import Granularity


@dataclass(frozen=True)
class LinkKey:
    """A key a record exposes for cross-entity lookups, read from a document path.

    `path` is dotted; a `[]` suffix on a segment iterates an array (`caseLevelData[].biosampleId`).
    """

    kind: str
    path: str


@dataclass(frozen=True)
class Lookup:
    """`/{source}/{id}/{target}`: target records sharing a `via` key with the source record."""

    target: str
    via: str


@dataclass(frozen=True)
class EntryType:
    """One entry type of the Beacon model."""

    id: str
    path: str
    name: str
    description: str
    ontology_term: tuple[str, str]
    schema_file: str
    schema_id: str
    id_field: str = "id"
    scope: str = ""
    collection_of: tuple[tuple[str, str], ...] = ()
    links: tuple[LinkKey, ...] = ()
    lookups: tuple[Lookup, ...] = ()
    filtering_terms_per_record: bool = False
    max_granularity: Granularity = Granularity.RECORD
    enabled: bool = True
    non_filtered_queries_allowed: bool = True
    # Position in a dataset load: collections before their members, biosamples before the variants
    # whose carriers name them (beacon/store/loading.py).
    load_order: int = 0
    # A record's filtering terms are those of every record it holds (datasets, cohorts), not its own.
    terms_over_all_entries: bool = False
    # The records are the datasets themselves: listed by their own rule (security.list_inaccessible_datasets),
    # annotated with the caller's access, related to other records by the dataset holding them.
    lists_datasets: bool = False
    # The records are genomic variants: placed on the genome (variant columns, position indexes, range
    # counts), the entry type request parameters (alleles, ranges, genes) ask about, budgeted when protected.
    holds_variants: bool = False

    @property
    def is_collection(self) -> bool:
        """Datasets and cohorts answer with `response.collections`, others with resultSets."""
        return bool(self.collection_of)

    @property
    def collection(self) -> str:
        """Name of the store collection (table) holding these records."""
        return self.path

    @property
    def schema_version(self) -> str:
        return "v2.0.0"

    @property
    def embedded_groups(self) -> tuple[str, ...]:
        """Top-level arrays whose items link to records of other entry types (a variant's carriers).

        Each is a group of other records shown inside this one, so the count floor applies to its size.
        """
        heads = (k.path.split(".") for k in self.links)
        # An array of objects carrying a link (`caseLevelData[].individualId`), not an array of values.
        return tuple(dict.fromkeys(h[0].removesuffix("[]") for h in heads if len(h) > 1 and h[0].endswith("[]")))

    @property
    def own_kind(self) -> str | None:
        """The link-key kind whose value is the record's own id (`individual` for individuals), if any."""
        return next((k.kind for k in self.links if k.path == self.id_field), None)


_CARRIER = "caseLevelData[]"
_RECORD_TYPES = ("analysis", "biosample", "genomicVariant", "individual", "run")


def _members_by(kind: str) -> tuple[Lookup, ...]:
    """A collection's lookups (datasets, cohorts): the records of every record entry type holding its `kind` key."""
    return tuple(Lookup(target, kind) for target in _RECORD_TYPES)


DEFAULT_ENTRY_TYPES: tuple[EntryType, ...] = (
    EntryType(
        id="analysis",
        path="analyses",
        name="Bioinformatics analysis",
        description="Apply analytical methods to existing data of a specific type.",
        ontology_term=("edam:operation_2945", "Analysis"),
        schema_file="analyses/defaultSchema.json",
        schema_id="ga4gh-beacon-analysis-v2.0.0",
        scope="analysis",
        links=(
            LinkKey("analysis", "id"),
            LinkKey("run", "runId"),
            LinkKey("biosample", "biosampleId"),
            LinkKey("individual", "individualId"),
        ),
        lookups=(
            Lookup("biosample", "biosample"),
            Lookup("genomicVariant", "biosample"),
            Lookup("individual", "individual"),
            Lookup("run", "run"),
        ),
        load_order=5,
    ),
    EntryType(
        id="biosample",
        path="biosamples",
        name="Biological Sample",
        description="Any material sample taken from a biological entity for testing, diagnostic, "
        "propagation, treatment or research purposes.",
        ontology_term=("NCIT:C70699", "Biospecimen"),
        schema_file="biosamples/defaultSchema.json",
        schema_id="ga4gh-beacon-biosample-v2.0.0",
        scope="biosample",
        links=(LinkKey("biosample", "id"), LinkKey("individual", "individualId")),
        lookups=(
            Lookup("analysis", "biosample"),
            Lookup("genomicVariant", "biosample"),
            Lookup("individual", "individual"),
            Lookup("run", "biosample"),
        ),
        load_order=3,
    ),
    EntryType(
        id="cohort",
        path="cohorts",
        name="Cohort",
        description="A group of individuals, identified by a common characteristic.",
        ontology_term=("NCIT:C61512", "Cohort"),
        schema_file="cohorts/defaultSchema.json",
        schema_id="ga4gh-beacon-cohort-v2.0.0",
        scope="cohort",
        collection_of=(("individual", "Individuals"),),
        links=(LinkKey("cohort", "id"),),
        lookups=_members_by("cohort"),
        filtering_terms_per_record=True,
        load_order=1,
        terms_over_all_entries=True,
    ),
    EntryType(
        id="dataset",
        path="datasets",
        name="Dataset",
        description="A collection of related sets of information, e.g. genomic variations together "
        "with associated procedural and biological metadata.",
        ontology_term=("NCIT:C47824", "Data set"),
        schema_file="datasets/defaultSchema.json",
        schema_id="ga4gh-beacon-dataset-v2.0.0",
        scope="dataset",
        collection_of=(("genomicVariant", "Genomic Variants"), ("individual", "Individuals")),
        links=(LinkKey("dataset", "id"),),
        lookups=_members_by("dataset"),
        filtering_terms_per_record=True,
        load_order=0,
        terms_over_all_entries=True,
        lists_datasets=True,
    ),
    EntryType(
        id="genomicVariant",
        path="g_variants",
        name="Genomic Variants",
        description="The location of a sequence.",
        ontology_term=("ENSGLOSSARY:0000092", "Variant"),
        schema_file="genomicVariations/defaultSchema.json",
        schema_id="ga4gh-beacon-variant-v2.0.0",
        id_field="variantInternalId",
        scope="genomicVariation",
        links=(
            LinkKey("biosample", f"{_CARRIER}.biosampleId"),
            LinkKey("individual", f"{_CARRIER}.individualId"),
            LinkKey("run", f"{_CARRIER}.runId"),
            LinkKey("analysis", f"{_CARRIER}.analysisId"),
            # Not lookups: exact-match indexes for gene, HGVS and amino-acid queries.
            LinkKey("gene", "molecularAttributes.geneIds[]"),
            LinkKey("hgvs", "identifiers.genomicHGVSId"),
            LinkKey("hgvs", "identifiers.transcriptHGVSIds[]"),
            LinkKey("hgvs", "identifiers.proteinHGVSIds[]"),
            LinkKey("aminoacidChange", "molecularAttributes.aminoacidChanges[]"),
            LinkKey("mate", "variantLevelData.mateName"),
        ),
        lookups=(
            Lookup("analysis", "biosample"),
            Lookup("biosample", "biosample"),
            Lookup("individual", "individual"),
            Lookup("run", "biosample"),
        ),
        load_order=6,
        holds_variants=True,
    ),
    EntryType(
        id="individual",
        path="individuals",
        name="Individual",
        description="A human being. It could be a Patient, a Tissue Donor, a Participant, a Human Study Subject, etc.",
        ontology_term=("NCIT:C25190", "Person"),
        schema_file="individuals/defaultSchema.json",
        schema_id="ga4gh-beacon-individual-v2.0.0",
        scope="individual",
        links=(LinkKey("individual", "id"),),
        lookups=(
            Lookup("analysis", "individual"),
            Lookup("biosample", "individual"),
            Lookup("genomicVariant", "individual"),
            Lookup("run", "individual"),
        ),
        filtering_terms_per_record=True,
        load_order=2,
    ),
    EntryType(
        id="run",
        path="runs",
        name="Sequencing run",
        description="The valid and completed operation of a high-throughput sequencing instrument "
        "for a single sequencing process.",
        ontology_term=("NCIT:C148088", "Sequencing run"),
        schema_file="runs/defaultSchema.json",
        schema_id="ga4gh-beacon-run-v2.0.0",
        scope="run",
        links=(
            LinkKey("run", "id"),
            LinkKey("biosample", "biosampleId"),
            LinkKey("individual", "individualId"),
        ),
        lookups=(
            Lookup("analysis", "run"),
            Lookup("biosample", "biosample"),
            Lookup("genomicVariant", "biosample"),
            Lookup("individual", "individual"),
        ),
        load_order=4,
    ),
)

# Keys that are not stored per record but restrict which datasets are searched.
DATASET_KEY = "dataset"


@dataclass(frozen=True)
class EntryTypeTable:
    """The enabled entry types, indexed by id and by path."""

    types: tuple[EntryType, ...] = field(default=DEFAULT_ENTRY_TYPES)

    def __post_init__(self) -> None:
        ids = {t.id for t in self.types}
        if len(ids) != len(self.types) or len({t.path for t in self.types}) != len(self.types):
            msg = "entry types: ids and paths must be unique"
            raise ValueError(msg)
        if sum(t.holds_variants for t in self.types) > 1:
            msg = "entry types: at most one holds genomic variants"
            raise ValueError(msg)
        for t in self.types:
            for lookup in t.lookups:
                if lookup.target not in ids:
                    msg = f"entry type {t.id}: lookup target {lookup.target!r} is not an entry type"
                    raise ValueError(msg)

    def enabled(self) -> tuple[EntryType, ...]:
        return tuple(t for t in self.types if t.enabled)

    def in_load_order(self) -> tuple[EntryType, ...]:
        """Every entry type, enabled or not, in the order a dataset load must write them."""
        return tuple(sorted(self.types, key=lambda t: t.load_order))

    def collections(self) -> tuple[str, ...]:
        """Every store collection, in load order (stores keep disabled types' collections too)."""
        return tuple(t.collection for t in self.in_load_order())

    def variants(self) -> EntryType | None:
        """The enabled entry type holding genomic variants, if any."""
        return next((t for t in self.enabled() if t.holds_variants), None)

    def dataset_type(self) -> EntryType:
        """The entry type whose records describe datasets, enabled or not (every load writes one).

        :raise KeyError: the table has none.
        """
        return self._only(lambda t: t.lists_datasets, "listing datasets")

    def variant_type(self) -> EntryType:
        """The entry type holding genomic variants, enabled or not (variant parameters are asked of it).

        :raise KeyError: the table has none.
        """
        return self._only(lambda t: t.holds_variants, "holding variants")

    def _only(self, has: Callable[[EntryType], bool], what: str) -> EntryType:
        found = next((t for t in self.types if has(t)), None)
        if found is None:
            msg = f"the entry-type table has no entry type {what}"
            raise KeyError(msg)
        return found

    def variant_collections(self) -> frozenset[str]:
        """Collections of genomic variants, enabled or not (position columns and indexes are kept for them)."""
        return frozenset(t.collection for t in self.types if t.holds_variants)

    def by_id(self, entry_id: str) -> EntryType:
        for t in self.types:
            if t.id == entry_id:
                return t
        raise KeyError(entry_id)

    def by_path(self) -> Mapping[str, EntryType]:
        return {t.path: t for t in self.enabled()}

    def by_scope(self) -> Mapping[str, EntryType]:
        return {t.scope: t for t in self.enabled()}

    def lookups_of(self, source: EntryType) -> tuple[tuple[Lookup, EntryType], ...]:
        """The enabled lookups of `source` with their target entry types."""
        enabled = {t.id: t for t in self.enabled()}
        return tuple((lk, enabled[lk.target]) for lk in source.lookups if lk.target in enabled)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, object]]) -> EntryTypeTable:
        """Apply `conf` overrides keyed by entry-type path (`enabled`, `max_granularity`)."""
        updated = []
        for t in self.types:
            o = overrides.get(t.path, {})
            changes: dict[str, object] = {}
            if "enabled" in o:
                changes["enabled"] = bool(o["enabled"])
            if "max_granularity" in o:
                changes["max_granularity"] = Granularity(str(o["max_granularity"]))
            if "non_filtered_queries_allowed" in o:
                changes["non_filtered_queries_allowed"] = bool(o["non_filtered_queries_allowed"])
            updated.append(replace(t, **changes) if changes else t)  # type: ignore[arg-type]
        return EntryTypeTable(tuple(updated))


@cache
def _segments(path: str) -> tuple[tuple[str, bool], ...]:
    """`a.b[].c` → (("a", False), ("b", True), ("c", False)); link paths are few, so parse each once."""
    return tuple((p[:-2], True) if p.endswith("[]") else (p, False) for p in path.split("."))


def iter_path(doc: Mapping[str, object], path: str) -> Iterable[object]:
    """Yield the values at a dotted `path`, iterating arrays marked `[]` and skipping missing parts."""
    current: list[object] = [doc]
    for name, is_array in _segments(path):
        nxt: list[object] = []
        for node in current:
            # Documents come from JSON: plain dicts (an ABC isinstance check costs 3x more per call).
            if type(node) is not dict or name not in node:
                continue
            value = node[name]
            if is_array:
                if isinstance(value, list):
                    nxt.extend(value)
            else:
                nxt.append(value)
        if not nxt:
            return nxt  # nothing further down: this runs for every link of every record loaded
        current = nxt
    return current


# The built-in table: what stores derive their collections from (conf overrides change only
# enabled, granularity and unfiltered queries, never paths, so collections are the same).
DEFAULT_TABLE = EntryTypeTable()
