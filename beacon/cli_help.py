"""The help conventions both command lines (`beacon`, `beacon-ingest`) share: every command ends its help with examples.

tests/packaging/test_cli_conventions.py holds every parser to them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

# A string: argparse's class is not subscriptable at run time, only to the type checker.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class CommandLine:
    """A command taking one required subcommand; `examples` holds the examples block of each, by name."""

    parser: argparse.ArgumentParser
    sub: Subcommands
    examples: Mapping[str, str]

    def add(self, name: str, text: str) -> argparse.ArgumentParser:
        """The subcommand `name`, described by `text`, its help ending with its examples."""
        return subcommand(self.sub, name, text, self.examples[name])


def command_line(
    prog: str, description: str, version: str, examples: Mapping[str, str], commands: Sequence[str]
) -> CommandLine:
    """The top-level parser of `prog` (with --version, its help ending with `examples[prog]`) and its subcommands.

    `commands` names every subcommand, in the order the usage line lists them (some are added by other modules).
    """
    parser = argparse.ArgumentParser(
        prog=prog, description=description, epilog=examples[prog], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(commands) + "}")
    return CommandLine(parser, sub, examples)


def subcommand(sub: Subcommands, name: str, text: str, examples: str) -> argparse.ArgumentParser:
    """A subcommand described by `text`, its help ending with `examples` (a block starting "examples:")."""
    return sub.add_parser(
        name, help=text, description=text, epilog=examples, formatter_class=argparse.RawDescriptionHelpFormatter
    )
