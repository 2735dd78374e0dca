"""Plain sequence alleles straight into the load's bulk columns, without the document (the loader's hot path).

For an allele of A, C, G and T without ANN/CSQ annotations, `DirectRows` appends exactly what
`site_document` → `index_record` → `LoadPacker.add` would: the record row with its text as
`beacon.store.compact.encode` writes it (variation and genomic HGVS id left to the columns, frequency sources
without their own sourceReference), the carriers as sample sets (beacon/store/carriers.py; as keys only
when the samples' indexes do not follow the file's order), the hgvs and cohort keys, the GENO terms, the
populations and the text values. tests/ingest/test_vcf_rows.py holds the two paths equal on public files; every other
allele takes the document path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import numpy.typing as npt

from beacon.genome.assemblies import refseq_accession
from beacon.genome.hgvs import genomic_expression
from beacon.model.entry_types import EntryType
from beacon.model.populations import OVERALL, TERM_PREFIX, observed
from beacon.store.bulk import LoadPacker, populations_text
from beacon.store.carriers import ZYGOSITIES, bitmap_bytes, sets_from_codes
from beacon.store.compact import HGVS_FLAG, SOURCE_REFERENCE_FLAG
from beacon.store.indexing import LoadContext
from ingest.vcf.genotypes import GenotypeTable
from ingest.vcf.identifiers import alternative_ids
from ingest.vcf.info_text import InfoText
from ingest.vcf.normalize import sequence_type
from ingest.vcf.parse import Site, VcfFile

_json = json.JSONEncoder(separators=(",", ":")).encode
_quote_text: Any = encode_basestring_ascii  # what _json gives a str, without the encoder's dispatch
_MAX_TEXT = 256  # indexing's cut of text values
_ALTERNATIVE_ID = "identifiers.variantAlternativeIds.id"


class _Carriers:
    """Per file: each sample's caseLevelData entry for each zygosity, the JSON names of it and its individual,
    and its index in the load's samples (-1 until the load meets it)."""

    def __init__(self, samples: list[str], owners: dict[str, str], known: dict[str, int]) -> None:
        self.samples = samples
        self.index = np.array([known.get(s, -1) for s in samples], dtype=np.int64)
        quoted = [_json(s) for s in samples]
        self.entries = np.array(
            [[f'{{"biosampleId":{q},"zygosity":{_json(z)}}}' for q in quoted] for z in ZYGOSITIES], dtype=object
        )
        self.names = np.array(quoted, dtype=object)
        individuals = [owners.get(s) for s in samples]
        self.individuals = np.array([_json(i) if i else "" for i in individuals], dtype=object)
        self.owned = np.array([bool(i) for i in individuals], dtype=bool)
        self.indexed()

    def indexed(self) -> None:
        """Note whether every sample has its index, and whether the indexes ascend in file order: then the
        carriers of every record (ascending file positions) have ascending indexes without a check each."""
        index = self.index
        self.complete = bool((index >= 0).all())
        self.ascending = self.complete and bool(np.all(index[1:] > index[:-1]))
        # Each sample's index is its file position (the load met the file's samples first, in order).
        self.positional = self.ascending and (len(index) == 0 or int(index[-1]) == len(index) - 1)


class DirectRows:
    """Appends the rows of plain alleles to a LoadPacker's batch (see the module docstring)."""

    def __init__(
        self, packer: LoadPacker, ctx: LoadContext, assembly: str, variants: EntryType, *, counts_only: bool = False
    ) -> None:
        # index_record also gives keys of explicitly listed cohort members: VCF loads have none.
        assert not ctx.cohort_members, "direct rows give whole-dataset cohort keys only"
        self._packer = packer
        self._collection = variants.collection
        packer.scopes[variants.collection] = variants.scope
        self._ctx = ctx
        self._assembly = assembly
        self._dataset = _json(packer.dataset)
        self._accessions: dict[str, str | None] = {}
        self._own_reference = f"dataset:{packer.dataset}"
        self._counts_only = counts_only
        self._carriers: _Carriers | None = None
        self._populations: list[str] = []  # JSON-quoted labels
        self._info: InfoText | None = None
        self._info_distinct = True
        # Per population name: its term's catalog key, None for the overall one.
        self._population_term: dict[str, tuple[str, str, str] | None] = {}
        # Per set of population names a variant was seen in: its `populations` text and catalog entries.
        self._population_rows: dict[tuple[str, ...], tuple[str | None, list[tuple[tuple[str, str, str], str]]]] = {}
        self._catalog: dict[tuple[str, str, str], str | None] | None = None  # the batch catalog `_catalogued` is of
        self._catalogued: set[tuple[str, ...]] = set()

    def start_file(self, file: VcfFile) -> None:
        """Per-file constants: each sample's carrier entry, population labels."""
        wanted = file.samples and not self._counts_only
        ctx = self._ctx
        self._carriers = _Carriers(file.samples, ctx.biosample_individual, ctx.samples.positions) if wanted else None
        labels = file.populations.labels if file.populations is not None else ()
        self._populations = [_json(label) for label in labels]
        # INFO frequencies (files without genotypes): written as text straight away (ingest/vcf/info_text.py).
        self._info = InfoText(file.frequencies) if file.frequencies.layout else None
        # Two populations may be stored under one name (the overall one renamed as another): their terms once.
        names = file.frequencies.population_names
        self._info_distinct = len(set(names)) == len(names)

    def add(self, site: Site, file: VcfFile) -> None:
        """The rows of one plain allele (Site.plain) of a record without ANN/CSQ."""
        packer = self._packer
        batch = packer.batch
        if self._ctx.samples.fresh:
            batch.samples.extend(self._ctx.samples.take())
        n = packer.number()
        _, record, chrom, (pos, ref, alt, index), genotypes, _ = site
        start = pos - 1
        vtype = "SNP" if len(ref) == 1 == len(alt) else sequence_type(ref, alt)
        internal = f"{chrom}:{pos}:{ref}>{alt}"
        accession = self._accessions.get(chrom, "")
        if accession == "":
            accession = self._accessions[chrom] = refseq_accession(chrom, self._assembly)
        parts: list[str] = []
        # No value for variantInternalId: the id column holds it (store/bulk.py).
        vals = batch.values
        if accession is None:
            flags = 0
        else:
            # genomic_expression's output is already canonical_hgvs's key form (no bases after del/dup).
            hgvs = (
                f"{accession}:g.{pos}{ref}>{alt}"
                if vtype == "SNP"
                else genomic_expression(accession, pos, ref, alt, vtype)
            )
            flags = HGVS_FLAG
            batch.keys.append(("hgvs", hgvs, n))
            vals.append((n, "identifiers.genomicHGVSId", hgvs[:_MAX_TEXT], None))
        ids = alternative_ids(record.ID)
        if ids:
            # records.site_document puts them right after the genomic HGVS id, which the columns spell.
            if len(ids) == 1:
                references = f'{{"id":{_quote_text(ids[0])}}}'
                vals.append((n, _ALTERNATIVE_ID, ids[0][:_MAX_TEXT], None))
            else:
                references = ",".join([f'{{"id":{_quote_text(i)}}}' for i in ids])
                vals.extend([(n, _ALTERNATIVE_ID, i[:_MAX_TEXT], None) for i in ids])
            parts.append(f'"identifiers":{{"variantAlternativeIds":[{references}]}}')
        weight = 4
        if genotypes is not None:
            weight += self._genotyped(n, index, genotypes, parts, file)
            flags |= SOURCE_REFERENCE_FLAG if file.frequencies.names.source_reference == self._own_reference else 0
        elif self._info is not None:
            found = self._info.of(record, index)
            if found is not None:
                flags |= SOURCE_REFERENCE_FLAG if found.own else 0
                parts.append(found.text)
                self._observed_terms(n, found.observed if self._info_distinct else dict.fromkeys(found.observed))
        text = f"[{flags},{{{','.join(parts)}}}]"
        end = start + len(ref)
        length = len(ref) if len(ref) == len(alt) else abs(len(alt) - len(ref))
        batch.records.append(
            (n, self._collection, packer.dataset, packer.part, internal, text,
             self._assembly, chrom, start, end, ref, alt, vtype, length)
        )  # fmt: skip
        for cohort in self._ctx.cohorts:
            batch.keys.append(("cohort", cohort, n))
        tally = batch.tally
        tally.counts[self._collection] = tally.counts.get(self._collection, 0) + 1
        if end - start > tally.max_span:
            tally.max_span = end - start
        packer.weight += weight + len(text) // 256

    def _genotyped(self, n: int, index: int, genotypes: GenotypeTable, parts: list[str], file: VcfFile) -> int:
        """frequencyInPopulations; unless counts only, caseLevelData, carrier keys and GENO terms. Returns a weight."""
        populations = file.populations if self._populations else None
        carriers = self._carriers
        # Carriers whose indexes ascend in file order become sets straight from the positions of each
        # zygosity (`zygosity_groups`); any other file takes the carrier list, which registers new samples.
        as_sets = carriers is not None and carriers.ascending
        tallies = genotypes.tallies(index, populations, carriers=not (self._counts_only or as_sets))
        sources = file.frequencies.from_counts(tallies.total, tallies.by_group)
        frequencies, _ = file.frequencies.json_part(sources)
        self._population_terms(n, sources)
        if carriers is None:
            parts.append(frequencies)
            return 0
        batch = self._packer.batch
        total = tallies.total
        present = (total.heterozygous, total.homozygous, total.hemizygous)
        carried = sum(present)
        if not carried:
            parts.append('"caseLevelData":[]')
            parts.append(frequencies)
            return 0
        if as_sets:
            self._terms(n, present)
            # As store/indexing.py: the sets hold the carriers, the document an empty list.
            parts.append('"caseLevelData":[]')
            parts.append(frequencies)
            by_code = genotypes.zygosity_groups(index, populations, total)
            load_index = None if carriers.positional else carriers.index  # file position -> sample index
            het, hom, hemi = (
                None if p is None else bitmap_bytes(p if load_index is None else load_index[p]) for p in by_code
            )
            batch.carrier_sets.append((n, het, hom, hemi))
            return 1 + carried // 512
        samples, codes = tallies.carriers, tallies.codes
        indexes = self._indexes(samples)
        self._terms(n, present)
        if len(indexes) < 2 or bool(np.all(indexes[1:] > indexes[:-1])):
            parts.append('"caseLevelData":[]')
            parts.append(frequencies)
            batch.carrier_sets.append((n, *sets_from_codes(indexes, codes, np.array(present))))
            return 1 + carried // 512
        parts.append(f'"caseLevelData":[{",".join(carriers.entries[codes, samples].tolist())}]')
        parts.append(frequencies)
        batch.key_lists.append(("biosample", n, f"[{','.join(carriers.names[samples].tolist())}]"))
        owned = samples[carriers.owned[samples]]
        if len(owned):
            batch.key_lists.append(("individual", n, f"[{','.join(carriers.individuals[owned].tolist())}]"))
        return 2 * carried

    def _indexes(self, samples: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
        """The load's sample indexes of these file positions, registering (in this order) those not met yet."""
        carriers = self._carriers
        assert carriers is not None
        indexes = carriers.index[samples]
        if not carriers.complete and bool((indexes < 0).any()):
            known, owners = self._ctx.samples, self._ctx.biosample_individual
            for position in samples[indexes < 0].tolist():
                name = carriers.samples[position]
                carriers.index[position] = known.add(name, owners.get(name))
            indexes = carriers.index[samples]
            carriers.indexed()
            self._packer.batch.samples.extend(known.take())
        return indexes

    def _population_terms(self, n: int, sources: list[dict[str, Any]]) -> None:
        """The `population:<name>` terms index_record gives a variant (store/indexing.py)."""
        names = [e["population"] for source in sources for e in source["frequencies"] if observed(e)]
        self._observed_terms(n, dict.fromkeys(names))

    def _observed_terms(self, n: int, names: Iterable[str]) -> None:
        """The `population:<name>` terms of the populations a variant was observed in (`names`, distinct, in
        entry order): one `populations` row (store/bulk.py), each term in the catalog."""
        key = names if type(names) is tuple else tuple(names)
        found = self._population_rows.get(key)
        if found is None:
            found = self._population_rows[key] = self._population_row(key)
        text, entries = found
        if text is None:
            return
        batch = self._packer.batch
        batch.populations.append((n, text))
        catalog = batch.tally.catalog
        if catalog is not self._catalog:
            self._catalog, self._catalogued = catalog, set()
        if key not in self._catalogued:
            # Once per batch and set of names: each batch carries its own catalog.
            self._catalogued.add(key)
            for term, name in entries:
                if catalog.get(term) is None:
                    catalog[term] = name

    def _population_row(self, names: tuple[str, ...]) -> tuple[str | None, list[tuple[tuple[str, str, str], str]]]:
        """The `populations` text of these names (None when none has a term) and their catalog entries.

        Variants share a few sets of populations (1000 Genomes: at most 32), so each set's text is made once.
        """
        entries = []
        for name in names:
            term = self._population_term[name] if name in self._population_term else self._term_of(name)
            if term is not None:
                entries.append((term, name))
        return (populations_text([name for _, name in entries]) if entries else None), entries

    def _term_of(self, name: str) -> tuple[str, str, str] | None:
        """The catalog key of population `name`'s term; None for the overall population."""
        term = TERM_PREFIX + name
        found = None if name == OVERALL else (self._collection, term, self._packer.scopes[self._collection])
        self._population_term[name] = found
        return found

    def _terms(self, n: int, present: tuple[int, int, int]) -> None:
        """The GENO terms of the zygosities with carriers (`present`: carriers per ZYGOSITIES code)."""
        batch = self._packer.batch
        catalog, collection = batch.tally.catalog, self._collection
        scope = self._packer.scopes[collection]
        for term, carried in zip(ZYGOSITIES, present, strict=True):
            if not carried:
                continue
            batch.terms.append((term["id"], n))
            if catalog.get((collection, term["id"], scope)) is None:
                catalog[(collection, term["id"], scope)] = term["label"]
