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


class _Population(NamedTuple):
    name: str  # as stored (the overall one renamed)
    head: str  # '{"population":<name>,"alleleFrequency":'
    fields: tuple[tuple[str, str], ...]  # (measure, INFO id), as InfoLayout gives them


class InfoFrequencies(NamedTuple):
    text: str  # "frequencyInPopulations":[…]
    own: bool  # the sourceReference was left out (the store puts `dataset:<id>` back)
    observed: list[str]  # names of the populations whose entry says the allele was seen, in entry order


class InfoText:
    """Per file: the frequency text of a record's ALT from the file's INFO layout."""

    def __init__(self, writer: FrequencyWriter) -> None:
        names = writer.names
        self._populations = [
            _Population(stored, f'{{"population":{_quote(stored)},"alleleFrequency":', fields)
            for name, fields in writer.layout.populations
            for stored in [names.overall if name == OVERALL else name]
        ]
        self.own = names.source_reference == f"dataset:{writer.dataset}"
        head = f'"frequencyInPopulations":[{{"source":{_quote(names.source)}'
        if not self.own:
            head += f',"sourceReference":{_quote(names.source_reference)}'
        if names.version is not None:
            head += f',"version":{_quote(names.version)}'
        self._head = head + ',"numberOfPopulations":'
        self._writer = writer

    def __bool__(self) -> bool:
        return bool(self._populations)

    def of(self, record: Any, index: int) -> InfoFrequencies | None:
        """The text of ALT `index`; None when the file gives no frequency."""
        info = record.INFO
        entries: list[str] = []
        observed: list[str] = []
        for population in self._populations:
            raw: dict[str, Any] = {}
            for measure, field in population.fields:
                value = info.get(field)
                if type(value) is tuple:  # Number=R (the reference's first), A or a fixed number
                    at = index if len(value) == len(record.ALT) + 1 else index - 1
                    value = value[at] if at < len(value) else None
                if value is not None and value == value and not isinstance(value, str):  # NaN is a missing value
                    raw[measure] = value
            if AF in raw:
                frequency = _as_written(raw[AF])
            elif AC in raw and AN in raw:
                frequency = round(raw[AC] / raw[AN], 8) if raw[AN] else 0.0
            else:
                continue
            if not math.isfinite(frequency):
                return self._reference(record, index)
            text = population.head + repr(frequency)
            seen = frequency != 0
            for measure in _INTEGERS:
                if measure in raw:
                    count = int(raw[measure])
                elif measure == HOM and HOM_ALLELES in raw:
                    count = int(raw[HOM_ALLELES]) // 2
                else:
                    continue
                text += f',"{measure}":{count}'
                if measure == AC:
                    seen = count != 0
            entries.append(text + "}")
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
