"""Reference sequence access for REF checks and left-alignment: plain FASTA (random access through a .fai,
built in memory when absent) or gzipped FASTA (one chromosome decompressed at a time)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from beacon.genome.assemblies import canonical_chromosome
from ingest.errors import InputError


@dataclass(frozen=True)
class _Entry:
    name: str
    length: int
    offset: int
    bases_per_line: int
    bytes_per_line: int


def _index(path: Path) -> dict[str, _Entry]:
    """The .fai beside the file, or one built by reading the file once."""
    fai = path.with_name(path.name + ".fai")
    entries: dict[str, _Entry] = {}
    if fai.is_file():
        for line in fai.read_text().splitlines():
            cols = line.split("\t")
            entries[cols[0]] = _Entry(cols[0], int(cols[1]), int(cols[2]), int(cols[3]), int(cols[4]))
        return entries
    with path.open("rb") as handle:
        name = ""
        length, offset, bases, width, position = 0, 0, 0, 0, 0
        for raw in handle:
            if raw.startswith(b">"):
                if name:
                    entries[name] = _Entry(name, length, offset, bases, width)
                name = raw[1:].split()[0].decode()
                length, bases, width = 0, 0, 0
                offset = position + len(raw)
            else:
                stripped = raw.rstrip(b"\r\n")
                if not bases:
                    bases, width = len(stripped), len(raw)
                length += len(stripped)
            position += len(raw)
        if name:
            entries[name] = _Entry(name, length, offset, bases, width)
    return entries


@dataclass
class Reference:
    """Bases of a reference genome by canonical chromosome name (1-based positions, as in VCF)."""

    path: Path
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)
    _handle: BinaryIO | None = None
    _cached: tuple[str, str] | None = None

    @classmethod
    def open(cls, path: Path) -> Reference:
        """:raise InputError: the file is missing or not FASTA."""
        if not path.is_file():
            msg = f"--fasta: {path} not found"
            raise InputError(msg)
        ref = cls(path)
        if path.suffix == ".gz":
            with gzip.open(path, "rt") as handle:
                names = [line[1:].split()[0] for line in handle if line.startswith(">")]
        else:
            ref._entries = _index(path)
            names = list(ref._entries)
            ref._handle = path.open("rb")
        if not names:
            msg = f"--fasta: {path} holds no sequence"
            raise InputError(msg)
        ref._names = {canonical_chromosome(n) or n: n for n in names}
        return ref

    def has(self, chrom: str) -> bool:
        return chrom in self._names

    def fetch(self, chrom: str, pos: int, length: int = 1) -> str:
        """`length` bases from 1-based `pos` (fewer at the chromosome's end); upper case."""
        name = self._names[chrom]
        if self._handle is None:
            return self._whole(name)[pos - 1 : pos - 1 + length]
        entry = self._entries[name]
        start, end = pos - 1, min(pos - 1 + length, entry.length)
        if start >= end:
            return ""
        first = entry.offset + (start // entry.bases_per_line) * entry.bytes_per_line + start % entry.bases_per_line
        last = (
            entry.offset + ((end - 1) // entry.bases_per_line) * entry.bytes_per_line + (end - 1) % entry.bases_per_line
        )
        self._handle.seek(first)
        return self._handle.read(last - first + 1).replace(b"\n", b"").replace(b"\r", b"").decode().upper()

    def _whole(self, name: str) -> str:
        if self._cached is None or self._cached[0] != name:
            parts: list[str] = []
            with gzip.open(self.path, "rt") as handle:
                inside = False
                for line in handle:
                    if line.startswith(">"):
                        if inside:
                            break
                        inside = line[1:].split()[0] == name
                    elif inside:
                        parts.append(line.strip())
            self._cached = (name, "".join(parts).upper())
        return self._cached[1]

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def left_align(chrom: str, pos: int, ref: str, alt: str, reference: Reference) -> tuple[int, str, str]:
    """Shift an indel to its leftmost equivalent position, as `bcftools norm -f` does; others unchanged."""
    if len(ref) == len(alt):
        return pos, ref, alt
    while True:
        if ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        elif not ref or not alt:
            if pos <= 1:
                break
            pos -= 1
            base = reference.fetch(chrom, pos)
            ref, alt = base + ref, base + alt
        else:
            break
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt
