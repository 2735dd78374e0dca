"""Which INFO fields of an aggregated VCF hold which population's counts: detected from the header, or mapped in YAML.

Three naming families are recognised (docs/populations.md):

- GDI / `bcftools +fill-tags`: `AC`, `AN`, `AF`, `AC_Het`, `AC_Hom`, `AC_Hemi`, each with a population
  suffix (`AF_NL`, `AC_NL_M`, `AC_NL_M_Het` or `AC_Het_NL_M`); populations are a country or ancestry
  code with an optional sex (`NL`, `NL_M`, `EUR_F`) or a sex alone (`M`, `F`).
- gnomAD: `AC_afr`, `AN_afr`, `AF_afr`, `nhomalt_afr`, `AF_joint_afr`, sexes `XX`/`XY` (or `female`/`male`)
  named `F`/`M` here (`AC_afr_XX` is population `afr_F`).
- 1000 Genomes: `EUR_AF`.

`AC_Hom` counts the alleles in homozygous genotypes (bcftools' definition, two per diploid person):
it is halved into `alleleCountHomozygous`, which counts homozygous genotypes as gnomAD's `nhomalt`
and the genotype path do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

from ingest.errors import InputError

# What a field measures: a frequency entry's key, or HOM_ALLELES (halved into alleleCountHomozygous).
AC, AN, AF = "alleleCount", "alleleNumber", "alleleFrequency"
HOM, HET, HEMI = "alleleCountHomozygous", "alleleCountHeterozygous", "alleleCountHemizygous"
HOM_ALLELES: Final = "homozygousAlleles"
MEASURES: Final = (AC, AN, AF, HOM, HET, HEMI, HOM_ALLELES)
# The overall population's place-holder name until the load names it (--overall-population).
OVERALL: Final = ""

_POP = r"(?:[A-Z]{2,3}(?:_[MF])?|[MF])"
_ZYGOSITY = {"Het": HET, "Hom": HOM_ALLELES, "Hemi": HEMI}
_BASIC = {"AC": AC, "AN": AN, "AF": AF}
_GDI_OVERALL = re.compile(r"^(AC|AN|AF)(?:_(Het|Hom|Hemi))?$")
_GDI_SUFFIX = re.compile(rf"^(AC|AN|AF)_({_POP})(?:_(Het|Hom|Hemi))?$")
_GDI_INFIX = re.compile(rf"^AC_(Het|Hom|Hemi)_({_POP})$")
_G1K = re.compile(rf"^({_POP})_AF$")
_SEX_WORD = r"(?:XX|XY|male|female)"
_GNOMAD = re.compile(rf"^(AC|AN|AF|nhomalt|nhemi)(_joint)?(?:_([a-z]{{2,9}}(?:_{_SEX_WORD})?|{_SEX_WORD}))?$")
_GNOMAD_MEASURE = {"AC": AC, "AN": AN, "AF": AF, "nhomalt": HOM, "nhemi": HEMI}
_GNOMAD_SEX = {"XX": "F", "female": "F", "XY": "M", "male": "M"}
_NOT_POPULATIONS = frozenset({"raw", "adj", "popmax", "grpmax", "joint"})


@dataclass(frozen=True)
class InfoLayout:
    """Per population (the overall one named OVERALL), the INFO field of each measure it has, in file order."""

    populations: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    def __bool__(self) -> bool:
        return bool(self.populations)


def _gnomad_name(rest: str | None) -> str | None:
    if rest is None:
        return OVERALL
    parts = rest.split("_")
    if parts[0] in _NOT_POPULATIONS:
        return None
    parts[-1] = _GNOMAD_SEX.get(parts[-1], parts[-1])
    return "_".join(parts)


def _parsed(field: str) -> tuple[str, str, int] | None:
    """(population, measure, rank) named by an INFO id; rank 1 for gnomAD's joint fields (used when nothing else)."""
    if m := _GDI_OVERALL.match(field):
        return OVERALL, _ZYGOSITY[m[2]] if m[2] else _BASIC[m[1]], 0
    if (m := _GDI_SUFFIX.match(field)) and (m[1] == "AC" or not m[3]):
        return m[2], _ZYGOSITY[m[3]] if m[3] else _BASIC[m[1]], 0
    if m := _GDI_INFIX.match(field):
        return m[2], _ZYGOSITY[m[1]], 0
    if m := _G1K.match(field):
        return m[1], AF, 0
    if m := _GNOMAD.match(field):
        name = _gnomad_name(m[3])
        if name is not None:
            return name, _GNOMAD_MEASURE[m[1]], 1 if m[2] else 0
    return None


def detect(info_ids: Iterable[str]) -> InfoLayout:
    """The populations the header's INFO ids name, overall first, the others in the order first seen."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for field in info_ids:
        parsed = _parsed(field)
        if parsed is None:
            continue
        name, measure, rank = parsed
        known = found.setdefault(name, {})
        if measure not in known or known[measure][0] > rank:
            known[measure] = (rank, field)
    ordered = sorted(found.items(), key=lambda item: item[0] != OVERALL)
    return InfoLayout(
        tuple((name, tuple((m, f) for m, (_, f) in fields.items())) for name, fields in ordered if _usable(fields))
    )


def _usable(fields: Mapping[str, Any]) -> bool:
    """A population is kept when its frequency can be given: AF, or AC with AN."""
    return AF in fields or (AC in fields and AN in fields)


@dataclass(frozen=True)
class PopulationMap:
    """A steward's mapping file: the frequency source's names and, optionally, the fields of each population."""

    source: str | None = None
    source_reference: str | None = None
    version: str | None = None
    overall: str | None = None
    layout: InfoLayout | None = None


_TOP_KEYS = {"source": str, "sourceReference": str, "version": str, "overall": str, "populations": dict}


def read_population_map(path: Path) -> PopulationMap:
    """The YAML mapping file (docs/populations.md). :raise InputError: unreadable, or a key or value out of place."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        msg = f"{path}: cannot read the population map ({exc.strerror})"
        raise InputError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML ({str(exc).splitlines()[0]})"
        raise InputError(msg) from None
    if not isinstance(data, dict):
        msg = f"{path}: expected a mapping with keys {', '.join(_TOP_KEYS)}"
        raise InputError(msg)
    for key, value in data.items():
        kind = _TOP_KEYS.get(key)
        if kind is None:
            msg = f"{path}: {key}: unknown key (known: {', '.join(_TOP_KEYS)})"
            raise InputError(msg)
        if not isinstance(value, kind):
            value = str(value) if kind is str and isinstance(value, int | float) else value
            if not isinstance(value, kind):
                msg = f"{path}: {key}: expected a {'mapping' if kind is dict else 'text'}"
                raise InputError(msg)
            data[key] = value
    overall = data.get("overall")
    layout = None
    if "populations" in data:
        populations = []
        for name, fields in data["populations"].items():
            where = f"{path}: populations.{name}"
            if not isinstance(fields, dict) or not fields:
                msg = f"{where}: expected a mapping of measure to INFO field"
                raise InputError(msg)
            unknown = sorted(set(fields) - set(MEASURES))
            if unknown:
                msg = f"{where}.{unknown[0]}: unknown measure (known: {', '.join(MEASURES)})"
                raise InputError(msg)
            if not _usable(fields):
                msg = f"{where}: needs alleleFrequency, or alleleCount with alleleNumber"
                raise InputError(msg)
            label = OVERALL if str(name) == overall else str(name)
            populations.append((label, tuple((m, str(f)) for m, f in fields.items())))
        populations.sort(key=lambda item: item[0] != OVERALL)
        layout = InfoLayout(tuple(populations))
    return PopulationMap(data.get("source"), data.get("sourceReference"), data.get("version"), overall, layout)


def info_counts(record: Any, index: int, fields: tuple[tuple[str, str], ...]) -> dict[str, Any] | None:
    """One population's measures for ALT `index`, in frequency-entry order; None without a frequency.

    alleleFrequency is the INFO AF value as the file writes it (float32 noise removed), else
    alleleCount / alleleNumber to 8 decimals, as the genotype path gives it. Values are read for
    Number=A (one per ALT), R (the reference's first) and 1 fields alike.
    """
    info = record.INFO
    raw: dict[str, Any] = {}
    for measure, field in fields:
        value = info.get(field)
        if type(value) is tuple:
            alts = len(record.ALT)
            value = value[index] if len(value) == alts + 1 else value[index - 1] if len(value) >= index else None
        if value is not None and value == value and not isinstance(value, str):  # NaN is a missing value
            raw[measure] = value
    if AF in raw:
        entry: dict[str, Any] = {AF: _as_written(raw[AF])}
    elif AC in raw and AN in raw:
        entry = {AF: round(raw[AC] / raw[AN], 8) if raw[AN] else 0.0}
    else:
        return None
    for measure in (AC, AN, HOM, HET, HEMI):
        if measure in raw:
            entry[measure] = int(raw[measure])
        elif measure == HOM and HOM_ALLELES in raw:
            entry[HOM] = int(raw[HOM_ALLELES]) // 2
    return entry


@lru_cache(maxsize=1 << 16)
def _as_written(value: float) -> float:
    """A float32 INFO value as its shortest decimal (0.0819, not 0.08190000057220459); values repeat, so cached."""
    return float(f"{value:.7g}") if isinstance(value, float) else float(value)
