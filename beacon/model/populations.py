"""Population names and the portal's population filters (`sexFilter`, `countryFilter`, `ancestryFilter`).

A variant's `frequencyInPopulations[].frequencies[].population` names are indexed as terms
`population:<name>` (store/indexing.py), so a population filter is a term condition on both backends
and `/filtering_terms` lists the names loaded. Names follow the GDI scheme (docs/populations.md):
`M`, `F`, a country (`NL`) or ancestry (`EUR`) alone or with a sex (`NL_M`, `EUR_F`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

TERM_PREFIX: Final = "population:"
SCOPE: Final = "population"
SEX, COUNTRY, ANCESTRY = "sexFilter", "countryFilter", "ancestryFilter"
FILTER_IDS: Final = (SEX, COUNTRY, ANCESTRY)
_SEXES = ("M", "F")
# The loader's default name of the population of all samples: no filter value selects it.
OVERALL: Final = "ALL"
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ANCESTRY = re.compile(r"^[A-Za-z][A-Za-z0-9]{2,}$")


def population_names(doc: dict[str, Any]) -> Iterator[str]:
    """The populations a genomicVariation's allele was observed in (frequency records), in document order.

    A population filter asks "is it found there": an entry counting 0 alleles does not name its population.
    """
    sources = doc.get("frequencyInPopulations")
    if not isinstance(sources, list):
        return
    for source in sources:
        frequencies = source.get("frequencies") if isinstance(source, dict) else None
        for entry in frequencies if isinstance(frequencies, list) else ():
            name = entry.get("population") if isinstance(entry, dict) else None
            if isinstance(name, str) and name and observed(entry):
                yield name


def observed(entry: dict[str, Any]) -> bool:
    """True unless the frequency entry says the allele was not seen (alleleCount, else alleleFrequency, is 0)."""
    count = entry.get("alleleCount", entry.get("alleleFrequency"))
    return not (isinstance(count, (int, float)) and count == 0)


def filter_values(name: str) -> dict[str, str]:
    """What a population name stands for, by filter id (`NL_M` -> countryFilter NL, sexFilter M); {} if nothing."""
    if name in _SEXES:
        return {SEX: name}
    if name == OVERALL:
        return {}
    base, _, sex = name.rpartition("_") if name[-2:] in ("_M", "_F") else (name, "", "")
    found = {SEX: sex} if sex else {}
    if _COUNTRY.match(base):
        return {COUNTRY: base, **found}
    if _ANCESTRY.match(base):
        return {ANCESTRY: base, **found}
    return {}


def population_name(values: dict[str, str]) -> str | None:
    """The population that `filter id -> value` selects (the inverse of `filter_values`); None if none can."""
    sex, country, ancestry = values.get(SEX), values.get(COUNTRY), values.get(ANCESTRY)
    if country and ancestry:
        return None
    base = country or ancestry
    if base is None:
        return sex
    return f"{base}_{sex}" if sex else base


def filter_terms(names: Iterable[str]) -> dict[str, list[str]]:
    """Filter id -> the values the loaded population `names` offer (for /filtering_terms)."""
    out: dict[str, set[str]] = {}
    for name in names:
        for fid, value in filter_values(name).items():
            out.setdefault(fid, set()).add(value)
    return {fid: sorted(out[fid]) for fid in FILTER_IDS if fid in out}
