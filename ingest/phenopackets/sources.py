"""Phenopacket files from paths given on the command line: files, directories and tar archives.

JSON and YAML (`.json`, `.yaml`, `.yml`) are read; other files in directories and archives are
ignored. Each source carries the cohort it belongs to (docs/phenopackets.md): the file-name prefix
before `__` (phenopacket-store's `<COHORT>__<file>.json`), else the name of its folder.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ingest.errors import InputError

SUFFIXES = (".json", ".yaml", ".yml")
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Source:
    """One phenopacket file: where it is (for messages) and how to read it."""

    name: str  # "dir/file.json" or "archive.tar.xz:member/file.json"
    cohort: str | None
    path: Path
    member: str | None = None  # set when the file is inside an archive


def cohort_of(file_name: str, folder: str | None) -> str | None:
    stem = file_name.rsplit(".", 1)[0]
    if "__" in stem:
        return stem.split("__", 1)[0] or None
    return folder or None


def _is_archive(path: Path) -> bool:
    return any(path.name.endswith(s) for s in _ARCHIVES)


def _wanted(name: str) -> bool:
    return name.lower().endswith(SUFFIXES) and not PurePosixPath(name).name.startswith(".")


def find_sources(inputs: list[Path]) -> list[Source]:
    """Every phenopacket file under `inputs`, in a stable order.

    :raise InputError: an input that does not exist, an unreadable archive, or no phenopacket at all.
    """
    found: list[Source] = []
    for path in inputs:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p.name)):
                folder = file.parent.name if file.parent != path else path.resolve().name
                found.append(Source(str(file), cohort_of(file.name, folder), file))
        elif path.is_file() and _is_archive(path):
            try:
                with tarfile.open(path) as archive:
                    # Archive order, not sorted: compressed archives can only be read forward cheaply.
                    members = [m.name for m in archive.getmembers() if m.isfile() and _wanted(m.name)]
            except (tarfile.TarError, OSError, EOFError) as exc:
                msg = f"{path}: not a readable tar archive ({exc})"
                raise InputError(msg) from exc
            for member in members:
                pure = PurePosixPath(member)
                cohort = cohort_of(pure.name, pure.parent.name or None)
                found.append(Source(f"{path.name}:{member}", cohort, path, member))
        elif path.is_file():
            found.append(Source(str(path), cohort_of(path.name, None), path))
        else:
            msg = f"{path}: no such file or directory"
            raise InputError(msg)
    if not found:
        msg = f"{', '.join(map(str, inputs))}: no phenopacket files (*.json, *.yaml, *.yml) found"
        raise InputError(msg)
    return found


def _parse(text: bytes, name: str) -> Any:
    if name.lower().endswith(".json"):
        return json.loads(text)
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506  the loader is a safe loader


def read_sources(sources: list[Source]) -> Iterator[tuple[Source, Any | Exception]]:
    """(source, parsed document or the parse error), opening each archive once for all its members."""
    archives: dict[Path, tarfile.TarFile] = {}
    try:
        for source in sources:
            try:
                if source.member is None:
                    data = source.path.read_bytes()
                else:
                    if source.path not in archives:
                        archives[source.path] = tarfile.open(source.path)  # noqa: SIM115  closed below
                    handle = archives[source.path].extractfile(source.member)
                    if handle is None:
                        raise OSError("not a regular file")
                    data = handle.read()
                yield source, _parse(data, source.member or source.name)
            except (ValueError, yaml.YAMLError, OSError, tarfile.TarError) as exc:
                yield source, exc
    finally:
        for archive in archives.values():
            archive.close()
