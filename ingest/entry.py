"""The `beacon-ingest` command: starts a VCF parser process first, then loads the CLI (ingest/cli.py)."""

from __future__ import annotations

import sys

from ingest.vcf.parser_start import discard_early, start_early


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    start_early(args)
    try:
        from ingest.cli import main as cli_main  # noqa: PLC0415  after the parser is on its way

        return cli_main(args)
    finally:
        discard_early()
