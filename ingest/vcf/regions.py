"""Splitting an indexed, bgzipped VCF into consecutive regions of about equal compressed size (`--jobs`).

The index (tabix .tbi or .csi, beside the file) says where in the compressed file each 16 kb window
(TBI's finest bin; a CSI's finest is 2^min_shift bases) starts. Regions are cut at such bin starts so
that each holds about `piece_bytes` of compressed input, and listed in file order: every record
belongs to exactly one region, the one holding its POS, so parsing the regions one after the other
reads the file's records in the file's order. A file that cannot be split says why in one line.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

# htslib's largest position: a region up to it runs to the contig's end.
CONTIG_END = (1 << 31) - 1
# Compressed bytes per region: small enough that a parser waiting for its turn holds little (the
# parent buffers at most a few batches per parser), large enough that opening a region costs nothing.
PIECE_BYTES = 1 << 20


@dataclass(frozen=True)
class Region:
    """Records of file `file` (an index into the load's paths) on `contig` with `start` <= POS <= `end`."""

    file: int
    contig: str
    start: int
    end: int

    def query(self, lead_in: int = 0) -> str:
        """The htslib region string, starting `lead_in` bases early (records before `start` are read, not kept)."""
        return f"{self.contig}:{max(1, self.start - lead_in)}-{self.end}"


class NotSplittable(Exception):  # noqa: N818  a reason, not a failure: the load falls back to one parser
    """The file cannot be split: the message says why, in one line."""


@dataclass(frozen=True)
class _Contig:
    name: str
    first_offset: int  # compressed offset of its first record
    cuts: list[tuple[int, int]]  # (leaf bin start position, compressed offset), by position


def index_of(path: Path) -> Path | None:
    """The tabix or CSI index beside `path`, if any (the names htslib looks for)."""
    for suffix in (".tbi", ".csi"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def split(paths: list[Path], pieces_of: int | None = None) -> list[Region]:
    """Regions covering every record of `paths`, in file order, each about `pieces_of` (default PIECE_BYTES)
    compressed bytes.

    :raise NotSplittable: a file is not BGZF-compressed, has no index, or its index cannot be read.
    """
    regions: list[Region] = []
    for number, path in enumerate(paths):
        with path.open("rb") as raw:
            head = raw.read(18)
        if head[:2] != b"\x1f\x8b" or len(head) < 18 or not head[3] & 4 or head[12:14] != b"BC":
            what = "plain gzip" if head[:2] == b"\x1f\x8b" else "not compressed"
            msg = f"{path.name} is {what}, not bgzipped: regions cannot be read on their own"
            raise NotSplittable(msg)
        index = index_of(path)
        if index is None:
            msg = f"{path.name} has no .tbi or .csi index beside it (make one with `tabix -p vcf`)"
            raise NotSplittable(msg)
        try:
            contigs = _read_index(index)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile, struct.error, UnicodeDecodeError, ValueError) as exc:
            msg = f"{index.name}: not a readable index ({exc})"
            raise NotSplittable(msg) from exc
        regions += _cut(number, contigs, PIECE_BYTES if pieces_of is None else pieces_of)
    return regions


def _cut(number: int, contigs: list[_Contig], pieces_of: int) -> list[Region]:
    regions: list[Region] = []
    for contig in sorted(contigs, key=lambda c: c.first_offset):
        start, since = 1, contig.first_offset
        for position, offset in contig.cuts:
            if offset - since >= pieces_of and position + 1 > start:
                regions.append(Region(number, contig.name, start, position))
                start, since = position + 1, offset
        regions.append(Region(number, contig.name, start, CONTIG_END))
    return regions


def _read_index(index: Path) -> list[_Contig]:
    """The contigs of a .tbi or .csi index (both BGZF-compressed) with their finest bins' offsets."""
    data = gzip.decompress(index.read_bytes())
    magic = data[:4]
    if magic == b"TBI\x01":
        min_shift, depth = 14, 5
        (n_ref,) = struct.unpack_from("<i", data, 4)
        names, at = _names(data, 8)
    elif magic == b"CSI\x01":
        min_shift, depth, l_aux = struct.unpack_from("<iii", data, 4)
        names, _ = _names(data, 16) if l_aux >= 28 else ([], 0)
        at = 16 + l_aux
        (n_ref,) = struct.unpack_from("<i", data, at)
        at += 4
    else:
        msg = "neither TBI nor CSI"
        raise ValueError(msg)
    if len(names) != n_ref:
        msg = f"{n_ref} contigs but {len(names)} names"
        raise ValueError(msg)
    first_leaf = ((1 << 3 * depth) - 1) // 7
    contigs = []
    for name in names:
        (n_bin,) = struct.unpack_from("<i", data, at)
        at += 4
        cuts: dict[int, int] = {}
        first = None
        for _ in range(n_bin):
            (bin_number,) = struct.unpack_from("<I", data, at)
            at += 4 if magic == b"TBI\x01" else 12  # a CSI bin also has its loffset
            (n_chunk,) = struct.unpack_from("<i", data, at)
            at += 4
            chunks = struct.unpack_from(f"<{2 * n_chunk}Q", data, at)
            at += 16 * n_chunk
            begin = min(chunks[0::2]) >> 16 if n_chunk else None
            if begin is None or bin_number > first_leaf + (1 << 3 * depth):  # the pseudo-bin of statistics
                continue
            first = begin if first is None else min(first, begin)
            if bin_number >= first_leaf:
                cuts[(bin_number - first_leaf) << min_shift] = begin
        if magic == b"TBI\x01":
            (n_intv,) = struct.unpack_from("<i", data, at)
            at += 4 + 8 * n_intv
        if first is not None:
            contigs.append(_Contig(name, first, sorted(cuts.items())))
    return contigs


def _names(data: bytes, at: int) -> tuple[list[str], int]:
    """The contig names of a tabix header (format, columns, meta, skip, then l_nm bytes of names) at `at`."""
    (l_nm,) = struct.unpack_from("<i", data, at + 24)
    raw = data[at + 28 : at + 28 + l_nm]
    return [n.decode() for n in raw.split(b"\0") if n], at + 28 + l_nm
