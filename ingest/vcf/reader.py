"""Opening and iterating VCF files with cyvcf2: header checks, parse errors as InputError, what the header declares.

cyvcf2 signals unreadable input and malformed records with bare Exception/OSError; this module is
where they stop.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyvcf2 import VCF
from cyvcf2.cyvcf2 import set_htslib_log_level

from ingest.errors import InputError
from ingest.vcf.annotations import csq_fields


def open_vcf(path: Path, sites_only: bool) -> Any:
    """An open cyvcf2 reader; `sites_only` skips the sample columns (no genotypes are decoded).

    :raise InputError: not a VCF, or htslib cannot read it.
    """
    check_header(path)
    # htslib writes its own messages straight to the process's stderr; the problems it reports reach
    # the steward as this module's one-line InputErrors instead.
    set_htslib_log_level(0)
    try:
        # lazy=True segfaults in cyvcf2 0.35 when FORMAT of some records is read (COLO829 longranger file).
        return VCF(str(path), samples=[] if sites_only else None)
    except Exception as exc:  # noqa: BLE001
        msg = f"{path}: not a readable VCF ({exc})"
        raise InputError(msg) from exc


def check_header(path: Path) -> int:
    """Number of header lines, read from the file itself (htslib adds lines to the header it reports).

    :raise InputError: not a file, the first line is not ##fileformat=VCF…, compressed data that ends or
        breaks inside the header, or a BGZF file without its end-of-file block (cut short).
    """
    if path.is_dir():
        msg = f"{path}: a directory, not a VCF file (name the .vcf or .vcf.gz files in it)"
        raise InputError(msg)
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
        if compressed and _bgzf_without_eof(path):
            msg = f"{path.name}: the BGZF file has no end-of-file block: it was cut short (copy or download it again)"
            raise InputError(msg)
        return _header_lines(path, compressed)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        msg = f"{path.name}: the compressed data is damaged or cut short inside the header ({exc})"
        raise InputError(msg) from exc
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror or exc})"
        raise InputError(msg) from exc


def _compressed(path: Path) -> bool:
    with path.open("rb") as raw:
        return raw.read(2) == b"\x1f\x8b"


def check_intact(path: Path) -> None:
    """Read a gzip file that is not BGZF to its end: htslib stops at a cut without saying so.

    (A BGZF file shows a cut by its missing end-of-file block, checked by `check_header`.)
    :raise InputError: the compressed data ends early or is damaged.
    """
    with path.open("rb") as raw:
        head = raw.read(18)
    if head[:2] != b"\x1f\x8b" or (len(head) == 18 and head[3] & 4 and head[12:14] == b"BC"):
        return
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        msg = f"{path.name}: the compressed data is damaged or cut short ({exc})"
        raise InputError(msg) from exc


# The empty block every BGZF file ends with (SAM/BAM specification, section 4.1.2).
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def _bgzf_without_eof(path: Path) -> bool:
    """A BGZF file (gzip with the BC extra field) whose last 28 bytes are not the end-of-file block."""
    with path.open("rb") as raw:
        head = raw.read(18)
        if len(head) < 18 or head[3] & 4 == 0 or head[12:14] != b"BC":
            return False
        raw.seek(0, 2)
        size = raw.tell()
        if size < len(_BGZF_EOF):
            return True
        raw.seek(size - len(_BGZF_EOF))
        return raw.read() != _BGZF_EOF


def _header_lines(path: Path, compressed: bool) -> int:
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


def header_value(path: Path, key: str) -> str | None:
    """The value of the first `##key=` header line of a readable VCF (check_header passed), or None."""
    opener = gzip.open if _compressed(path) else open
    prefix = f"##{key}="
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for text in handle:
            if not text.startswith("##"):
                return None
            if text.startswith(prefix):
                return text[len(prefix) :].strip() or None
    return None


def records(path: Path, vcf: Any, header_lines: int, start: int = 0) -> Iterator[Any]:
    """The records of an open VCF (or of a region of it); a parse failure becomes an InputError naming the
    line after the last good one, records before POS `start` not counted (a region's lead-in)."""
    line = header_lines
    iterator = iter(vcf)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001  cyvcf2 raises bare Exception on malformed records
            if "ret: -2" in str(exc) and _compressed(path):
                # htslib's read error: the bytes, not the record's text, are broken.
                msg = f"{path.name}:{line + 1}: unreadable: the compressed data is damaged or cut short here"
            else:
                msg = f"{path.name}:{line + 1}: malformed record ({exc})"
            raise InputError(msg) from exc
        if start <= record.POS:
            line += 1
        yield record


@dataclass(frozen=True)
class HeaderInfo:
    """What the header declares that changes how records are read."""

    csq_order: tuple[str, ...]
    # Looking up an INFO field a file does not declare costs as much as reading one: skip them.
    annotated: bool
    # Copies of the reference in a <CNn> allele: 1 per haplotype (VCF 4.3, 1000 Genomes), or 2 when
    # the header's ##ALT says <CN2> is the normal state (callers that count copies per sample).
    reference_copies: int = 1


# Words of an ##ALT=<ID=CN2,Description=…> that make two copies the normal state ("Copy number 2 (normal)").
_NORMAL_WORDS = ("normal", "neutral", "diploid", "reference")


def header_info(vcf: Any) -> HeaderInfo:
    csq_order: tuple[str, ...] = ()
    info_ids: set[str] = set()
    reference_copies = 1
    for h in vcf.header_iter():
        # htslib files ##ALT lines as structured lines of no known kind ("STR").
        if h.type in ("ALT", "STR") and h.info().get("ID") == "CN2":
            described = str(h.info().get("Description", "")).lower()
            if any(word in described for word in _NORMAL_WORDS):
                reference_copies = 2
        if h.type == "INFO":
            info_ids.add(h.info().get("ID"))
            if h.info().get("ID") == "CSQ":
                csq_order = csq_fields(h.info().get("Description", ""))
    return HeaderInfo(csq_order, bool(info_ids & {"ANN", "CSQ"}), reference_copies)


def sample_names(paths: list[Path]) -> list[str]:
    """The samples of the files, first appearance first."""
    names: dict[str, None] = {}
    for path in paths:
        for name in open_vcf(path, sites_only=False).samples:
            names[name] = None
    return list(names)
