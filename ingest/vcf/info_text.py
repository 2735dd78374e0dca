"""A plain allele's INFO frequencies as stored text, without building the frequency documents (the direct rows).

`FrequencyWriter.from_info` → `json_part` → the population terms is the reference (ingest/vcf/populations.py,
ingest/vcf/info_fields.py: `info_counts`): this module writes the same `"frequencyInPopulations":[…]`
text and names the same observed populations, reading each INFO field once and formatting the JSON
itself instead of building dictionaries for the encoder (most of the sites-only load's time, on files
like 1000 Genomes' with six populations). Values JSON cannot spell as Python does (infinities)
return None, and they go the reference way here. tests/ingest/test_vcf_rows.py holds the direct rows equal
to the documents' rows, tests/ingest/test_vcf_info_text.py this text equal to the reference's.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from beacon.model.populations import observed
from ingest.vcf.info_fields import AC, AF, AN, HEMI, HET, HOM, HOM_ALLELES, OVERALL, _as_written
from ingest.vcf.populations import FrequencyWriter

_quote = json.JSONEncoder(separators=(",", ":")).encode
_INTEGERS = (AC, AN, HOM, HET, HEMI)
_CACHED = 1 << 16  # texts kept per population, forgotten all at once when full


class _Population(NamedTuple):
    name: str  # as stored (the overall one renamed)
    head: str  # '{"population":<name>,"alleleFrequency":'
    af: int  # slot of its alleleFrequency field in the record's values, -1 (always None) without
    ac: int  # slot of alleleCount, -1 without
    an: int  # slot of alleleNumber, -1 without
    # (',"<measure>":', slot, slot of homozygousAlleles halved when the first is missing or -1, is alleleCount),
    # in entry order
    counts: tuple[tuple[str, int, int, bool], ...]
    # Without counts, the whole entry and whether it is observed by the INFO frequency value: they repeat.
    entries: dict[Any, tuple[str, bool]]


class InfoFrequencies(NamedTuple):
    text: str  # "frequencyInPopulations":[…]
    own: bool  # the sourceReference was left out (the store puts `dataset:<id>` back)
    observed: list[str]  # names of the populations whose entry says the allele was seen, in entry order


def _population(stored: str, fields: tuple[tuple[str, str], ...], slot: dict[str, int]) -> _Population:
    of = {measure: slot[field] for measure, field in fields}
    counts = []
    for measure in _INTEGERS:
        fallback = of.get(HOM_ALLELES, -1) if measure == HOM else -1
        if measure in of or fallback >= 0:
            counts.append((f',"{measure}":', of.get(measure, -1), fallback, measure == AC))
    head = f'{{"population":{_quote(stored)},"alleleFrequency":'
    return _Population(stored, head, of.get(AF, -1), of.get(AC, -1), of.get(AN, -1), tuple(counts), {})


class InfoText:
    """Per file: the frequency text of a record's ALT from the file's INFO layout.

    The header decides once which INFO fields are read (each once per record, whichever populations
    share it) and each population's JSON pieces; a record then costs one `INFO.get` per field and
    string joins, no dictionaries.
    """

    def __init__(self, writer: FrequencyWriter) -> None:
        names = writer.names
        slot: dict[str, int] = {}
        for _, fields in writer.layout.populations:
            for _, field in fields:
                slot.setdefault(field, len(slot))
        self._fields = tuple(slot)
        self._populations = [
            _population(names.overall if name == OVERALL else name, fields, slot)
            for name, fields in writer.layout.populations
        ]
        self.own = names.source_reference == f"dataset:{writer.dataset}"
        head = f'"frequencyInPopulations":[{{"source":{_quote(names.source)}'
        if not self.own:
            head += f',"sourceReference":{_quote(names.source_reference)}'
        if names.version is not None:
            head += f',"version":{_quote(names.version)}'
        self._head = head + ',"numberOfPopulations":'
        # An INFO frequency's text and whether it is non-zero, None when JSON cannot spell it: the values
        # repeat (1000 Genomes' have four decimals), so each is formatted once per file.
        self._frequency_text: dict[Any, tuple[str, bool] | None] = {}
        self._writer = writer

    def __bool__(self) -> bool:
        return bool(self._populations)

    def _values(self, record: Any, index: int) -> list[Any]:
        """Each field's value for ALT `index` (Number=A, R or 1 alike), None when missing, NaN or text; then a
        None, the value of slot -1."""
        get = record.INFO.get
        values: list[Any] = []
        alts = 0
        for field in self._fields:
            value = get(field)
            kind = type(value)
            if kind is int:
                values.append(value)
                continue
            if kind is tuple:  # Number=R (the reference's first), A or a fixed number
                if not alts:
                    alts = len(record.ALT)
                at = index if len(value) == alts + 1 else index - 1
                value = value[at] if at < len(value) else None
            if value is not None and (value != value or isinstance(value, str)):  # NaN is a missing value
                value = None
            values.append(value)
        values.append(None)
        return values

    def _frequency(self, value: Any) -> tuple[str, bool] | None:
        # Missed values go through _as_written, the reference's own (cached) rounding.
        frequency = _as_written(value)
        found = (repr(frequency), frequency != 0) if math.isfinite(frequency) else None
        self._frequency_text[value] = found
        return found

    def of(self, record: Any, index: int) -> InfoFrequencies | None:
        """The text of ALT `index`; None when the file gives no frequency."""
        values = self._values(record, index)
        known = self._frequency_text
        entries: list[str] = []
        observed: list[str] = []
        for population in self._populations:
            af = values[population.af]
            if af is not None and not population.counts:
                entry = population.entries.get(af)
                if entry is None:
                    found = known.get(af)
                    if found is None:
                        found = self._frequency(af)
                        if found is None:
                            return self._reference(record, index)
                    entry = (f"{population.head}{found[0]}}}", found[1])
                    if len(population.entries) >= _CACHED:
                        population.entries.clear()
                    population.entries[af] = entry
                entries.append(entry[0])
                if entry[1]:
                    observed.append(population.name)
                continue
            if af is not None:
                found = known.get(af)
                if found is None:
                    found = self._frequency(af)
                    if found is None:
                        return self._reference(record, index)
                text, seen = found
            else:
                ac, an = values[population.ac], values[population.an]
                if ac is None or an is None:
                    continue
                frequency = round(ac / an, 8) if an else 0.0
                if not math.isfinite(frequency):
                    return self._reference(record, index)
                text, seen = repr(frequency), frequency != 0
            parts = [population.head, text]
            for key, at, halved, is_count in population.counts:
                value = values[at]
                if value is not None:
                    count = int(value)
                elif values[halved] is not None:
                    count = int(values[halved]) // 2
                else:
                    continue
                parts.append(key)
                parts.append(str(count))
                if is_count:
                    seen = count != 0
            parts.append("}")
            entries.append("".join(parts))
            if seen:
                observed.append(population.name)
        if not entries:
            return None
        text = f'{self._head}{len(entries)},"frequencies":[{",".join(entries)}]}}]'
        return InfoFrequencies(text, self.own, observed)

    def _reference(self, record: Any, index: int) -> InfoFrequencies | None:
        sources = self._writer.from_info(record, index)
        if sources is None:
            return None
        text, own = self._writer.json_part(sources)
        seen = [e["population"] for source in sources for e in source["frequencies"] if observed(e)]
        return InfoFrequencies(text, own, seen)
