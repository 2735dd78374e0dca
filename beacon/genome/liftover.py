"""Coordinate liftover between assemblies with UCSC chain files (pyliftover), for queries and ingest.

Chain files name chromosomes `chr1`…; canonical names (`1`, `X`, `MT`) are translated both ways.
A position that does not lift, or whose bases land on different chromosomes or out of order, is
reported as not liftable rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from beacon.errors import ConfigError
from beacon.genome.assemblies import canonical_chromosome
from beacon.model.request import VariantParams

if TYPE_CHECKING:
    # pyliftover pulls in urllib and http.client (a tenth of a VCF parser's start): read only with a chain file.
    from pyliftover import LiftOver


class NotLiftable(ValueError):
    """The query's coordinates have no unique counterpart in the other assembly."""


@dataclass(frozen=True)
class Lifter:
    """One chain file: coordinates of `source` to coordinates of `target`."""

    source: str
    target: str
    chain: LiftOver

    @classmethod
    def load(cls, source: str, target: str, path: Path) -> Lifter:
        """Read a chain file.

        :raise ConfigError: the file is missing or not a chain file.
        """
        if not path.is_file():
            msg = f"liftover {source}->{target}: chain file {path} not found"
            raise ConfigError(msg)
        from pyliftover import LiftOver  # noqa: PLC0415  see the TYPE_CHECKING import

        try:
            chain = LiftOver(str(path), use_web=False, write_cache=False)
        except (OSError, ValueError, IndexError) as exc:
            msg = f"liftover {source}->{target}: {path} is not a readable chain file ({exc})"
            raise ConfigError(msg) from exc
        return cls(source, target, chain)

    def position(self, chrom: str, pos: int) -> tuple[str, int, str]:
        """(chromosome, 0-based position, strand) of a 0-based position.

        :raise NotLiftable: no unique mapping.
        """
        for name in (f"chr{'M' if chrom == 'MT' else chrom}", chrom):
            hits = self.chain.convert_coordinate(name, pos)
            if hits is None:
                continue
            if len(hits) != 1:
                break
            lifted, lifted_pos, strand, _ = hits[0]
            target_chrom = canonical_chromosome(lifted)
            if target_chrom is None:
                break
            return target_chrom, int(lifted_pos), strand
        msg = f"{chrom}:{pos + 1} on {self.source} has no unique position on {self.target}"
        raise NotLiftable(msg)

    def params(self, params: VariantParams) -> VariantParams:
        """The same query in the target assembly.

        Starts lift as positions; an exclusive end lifts as its last base plus one.

        :raise NotLiftable: a position does not lift, the lifted positions leave the chromosome, or the
            region maps to the minus strand (alleles and intervals would invert; not supported).
        """
        assert params.referenceName is not None
        chrom = canonical_chromosome(params.referenceName) or params.referenceName
        starts = [self.position(chrom, p) for p in params.start]
        ends = [self.position(chrom, p - 1) for p in params.end]
        lifted = [*starts, *ends]
        if len({c for c, _, _ in lifted}) != 1:
            msg = f"{chrom}:{params.start[0] + 1} on {self.source} maps to several chromosomes on {self.target}"
            raise NotLiftable(msg)
        if any(strand != "+" for _, _, strand in lifted):
            msg = f"{chrom}:{params.start[0] + 1} on {self.source} maps to the minus strand of {self.target}"
            raise NotLiftable(msg)
        return replace(
            params,
            assemblyId=self.target,
            referenceName=lifted[0][0],
            start=tuple(p for _, p, _ in starts),
            end=tuple(p + 1 for _, p, _ in ends),
        )
