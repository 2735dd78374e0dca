"""Starting the VCF parser process before the ingest's own imports, so the two overlap.

`beacon-ingest` (ingest/entry.py) calls `start_early` before importing the loaders (about 0.4 s of
imports, during which the child does its own); `load_vcf` takes the process with `take_early` when it
parses in a child and the entry point ends it otherwise (`discard_early`). This module imports
nothing of the project: it runs before anything else is loaded.
"""

from __future__ import annotations

import subprocess
import sys

# Imported rather than run as __main__, so what the child pickles names ingest.vcf.worker. Ctrl-C
# reaches the whole process group: the parent handles it and ends the child, from its first moment.
_ENTRY = (
    "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "from ingest.vcf.worker import main; raise SystemExit(main())"
)

_early: subprocess.Popen[bytes] | None = None


def start_parser() -> subprocess.Popen[bytes]:
    """A new parser process waiting for its job on stdin (ingest/vcf/worker.py)."""
    # stderr is shared: htslib's warnings reach the terminal as they would from this process.
    return subprocess.Popen([sys.executable, "-c", _ENTRY], stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # noqa: S603


def start_early(argv: list[str]) -> None:
    """Start a parser now if these command-line arguments may load VCF files into a store."""
    global _early  # noqa: PLW0603  one process per command line
    if argv[:1] == ["vcf"] and "--validate-only" not in argv and "-h" not in argv and "--help" not in argv:
        _early = start_parser()


def take_early() -> subprocess.Popen[bytes] | None:
    """The parser started early, if any (once)."""
    global _early  # noqa: PLW0603
    process, _early = _early, None
    return process


def discard_early() -> None:
    """End a parser started early that no load took (small input, bad arguments, an error first)."""
    process = take_early()
    if process is not None:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
