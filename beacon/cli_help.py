"""The help conventions both command lines (`beacon`, `beacon-ingest`) share: every command ends its help with examples.

tests/packaging/test_cli_conventions.py holds every parser to them.
"""

from __future__ import annotations

import argparse
from typing import TypeAlias

# A string: argparse's class is not subscriptable at run time, only to the type checker.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def command_parser(prog: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A top-level parser whose help ends with `examples` (a block starting "examples:")."""
    return argparse.ArgumentParser(
        prog=prog, description=description, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def subcommand(sub: Subcommands, name: str, text: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand described by `text`, its help ending with `examples`."""
    return sub.add_parser(
        name, help=text, description=text, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter
    )
