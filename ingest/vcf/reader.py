"""Opening and iterating VCF files with cyvcf2: header checks, parse errors as InputError, what the header declares.

cyvcf2 signals unreadable input and malformed records with bare Exception/OSError; this module is
where they stop.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyvcf2 import VCF

from ingest.errors import InputError
from ingest.vcf.annotations import csq_fields


def open_vcf(path: Path, sites_only: bool) -> Any:
    """An open cyvcf2 reader; `sites_only` skips the sample columns (no genotypes are decoded).

    :raise InputError: not a VCF, or htslib cannot read it.
    """
    check_header(path)
    try:
        # lazy=True segfaults in cyvcf2 0.35 when FORMAT of some records is read (COLO829 longranger file).
        return VCF(str(path), samples=[] if sites_only else None)
    except Exception as exc:  # noqa: BLE001
        msg = f"{path}: not a readable VCF ({exc})"
        raise InputError(msg) from exc


def check_header(path: Path) -> int:
    """Number of header lines, read from the file itself (htslib adds lines to the header it reports).

    :raise InputError: the first line is not ##fileformat=VCF….
    """
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    lines = 0
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for text in handle:
            if lines == 0 and not text.startswith("##fileformat=VCF"):
                msg = f"{path.name}:1: the file does not start with ##fileformat=VCF"
                raise InputError(msg)
            if not text.startswith("#"):
                break
            lines += 1
    if lines == 0:
        msg = f"{path.name}: empty file, not a VCF"
        raise InputError(msg)
    return lines


def records(path: Path, vcf: Any, header_lines: int) -> Iterator[Any]:
    """The records of an open VCF; a parse failure becomes an InputError naming the line after the last good one."""
    line = header_lines
    iterator = iter(vcf)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001  cyvcf2 raises bare Exception on malformed records
            msg = f"{path.name}:{line + 1}: malformed record ({exc})"
            raise InputError(msg) from exc
        line += 1
        yield record


@dataclass(frozen=True)
class HeaderInfo:
    """What the header declares that changes how records are read."""

    csq_order: tuple[str, ...]
    # Looking up an INFO field a file does not declare costs as much as reading one: skip them.
    annotated: bool


def header_info(vcf: Any) -> HeaderInfo:
    csq_order: tuple[str, ...] = ()
    info_ids: set[str] = set()
    for h in vcf.header_iter():
        if h.type == "INFO":
            info_ids.add(h.info().get("ID"))
            if h.info().get("ID") == "CSQ":
                csq_order = csq_fields(h.info().get("Description", ""))
    return HeaderInfo(csq_order, bool(info_ids & {"ANN", "CSQ"}))


def sample_names(paths: list[Path]) -> list[str]:
    """The samples of the files, first appearance first."""
    names: dict[str, None] = {}
    for path in paths:
        for name in open_vcf(path, sites_only=False).samples:
            names[name] = None
    return list(names)
