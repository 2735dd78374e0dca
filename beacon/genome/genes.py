"""Gene regions from a BED or GTF file, so `geneId` also finds variants that carry no gene annotation."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from beacon.errors import ConfigError
from beacon.genome.assemblies import canonical_chromosome

_GTF_NAME = re.compile(r'gene_name "([^"]+)"')


@dataclass(frozen=True)
class GeneRegion:
    chrom: str
    start: int  # 0-based
    end: int  # exclusive


@dataclass(frozen=True)
class GeneTable:
    """Gene symbol (upper-cased) -> regions, for one assembly."""

    assembly: str
    regions: dict[str, tuple[GeneRegion, ...]] = field(default_factory=dict)

    def lookup(self, symbol: str) -> tuple[GeneRegion, ...]:
        return self.regions.get(symbol.upper(), ())


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        yield from handle


def load_gene_table(assembly: str, path: Path) -> GeneTable:
    """Read BED (chrom, start, end, name; 0-based) or GTF (`gene` features with gene_name; 1-based).

    :raise ConfigError: the file is missing or a line is malformed (file and line named).
    """
    if not path.is_file():
        msg = f"genes ({assembly}): {path} not found"
        raise ConfigError(msg)
    is_gtf = ".gtf" in path.name or ".gff" in path.name
    found: dict[str, list[GeneRegion]] = {}
    for number, line in enumerate(_lines(path), start=1):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        cols = line.rstrip("\n").split("\t")
        try:
            if is_gtf:
                if len(cols) < 9 or cols[2] != "gene":
                    continue
                m = _GTF_NAME.search(cols[8])
                if not m:
                    continue
                name, start, end = m.group(1), int(cols[3]) - 1, int(cols[4])
            else:
                name, start, end = cols[3], int(cols[1]), int(cols[2])
        except (IndexError, ValueError):
            msg = f"{path}:{number}: expected {'GTF' if is_gtf else 'BED with a name column'}"
            raise ConfigError(msg) from None
        chrom = canonical_chromosome(cols[0])
        if chrom is None:
            continue
        found.setdefault(name.upper(), []).append(GeneRegion(chrom, start, end))
    return GeneTable(assembly, {k: tuple(v) for k, v in found.items()})
