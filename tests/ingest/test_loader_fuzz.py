"""Every loader, fed real files broken at random, answers in one line and keeps the previous dataset.

Each case copies a real input, breaks one of its files (cut at a random offset, bytes flipped, a
JSON value of the wrong type at a random path, damaged gzip framing, a directory or an empty file
in its place) and loads it with `beacon-ingest` over a store that holds the pristine version. The
command must end with exit 0 (problems, if any, reported per record) or with one `error:` line
and a non-zero exit; never a traceback, never a line from a library; on failure the previous
version is exactly as it was.

The number of cases per input is BEACON_FUZZ_EXAMPLES (default 6, 30 cases in all; set it higher for more). A case
is named by its input, mutation and seed, and re-runs alone with `-k`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from beacon.model.plan import Query
from beacon.store.base import DatasetInfo
from beacon.store.sqlite import SqliteStore
from ingest.cli import main
from tests.conftest import DATA, PI_TEST

EXAMPLES = int(os.environ.get("BEACON_FUZZ_EXAMPLES", "6"))
TESTS_DATA = Path(__file__).resolve().parents[1] / "data"
# Lines a load may print on stderr besides its one error line.
ALLOWED = re.compile(
    r"^(rejected|not stored|repaired|note): |^[\d,]+ (records|files) read \(|^(building indexes|analysing|switching) \("
)


@dataclass(frozen=True)
class Seed:
    """A real input and how it is loaded; `files` are the ones a case may break (relative to the copy)."""

    name: str
    source: Path
    command: tuple[str, ...]  # the subcommand and its options, the input path coming first
    files: tuple[str, ...]
    dataset: str = "fz"


SEEDS = (
    Seed(
        "bff-pi-test",
        PI_TEST / "test",
        ("bff",),
        ("individuals.json.gz", "biosamples.json.gz", "targets.json.gz"),
        "test",
    ),
    Seed(
        "bff-spec-examples",
        TESTS_DATA / "bff" / "spec_filter_examples",
        ("bff",),
        ("individuals.json", "biosamples.json"),
    ),
    Seed(
        "vcf-bgzf-1000g",
        DATA / "vcf" / "1000g_grch37" / "1000G_phase3_chr22_20-21Mb_99samples.vcf.gz",
        ("vcf", "--assembly", "GRCh37", "--sites-only"),
        ("",),
    ),
    Seed(
        "vcf-plain",
        TESTS_DATA / "vcf" / "multiallelic_indel_needs_trim.vcf",
        ("vcf", "--assembly", "GRCh37"),
        ("",),
    ),
    Seed(
        "phenopackets",
        TESTS_DATA / "phenopackets",
        ("phenopackets",),
        ("demo__P1.json",),
    ),
)

# --- mutations: (random, file) -> None, breaking the file in place ---------------------------------


def truncate(rng: random.Random, path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: rng.randrange(len(data))])


def flip_bytes(rng: random.Random, path: Path) -> None:
    data = bytearray(path.read_bytes())
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] ^= rng.randint(1, 255)
    path.write_bytes(bytes(data))


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*here, key))
    elif isinstance(node, list):
        for n, value in enumerate(node[:20]):
            out += _paths(value, (*here, n))
    return out


_OTHERS: tuple[Any, ...] = ("seizure", 7, 2.5, True, None, [], {}, ["x"], {"id": 3})


def wrong_json_type(rng: random.Random, path: Path) -> None:
    """A value at a random JSON path replaced by one of another type (JSON inputs; others are cut)."""
    compressed = path.suffix == ".gz"
    raw = gzip.decompress(path.read_bytes()) if compressed else path.read_bytes()
    try:
        doc = json.loads(raw)
    except ValueError:
        truncate(rng, path)
        return
    where = rng.choice(_paths(doc)[1:] or [()])
    if not where:
        doc = rng.choice(_OTHERS)
    else:
        parent = doc
        for step in where[:-1]:
            parent = parent[step]
        current = parent[where[-1]]
        parent[where[-1]] = rng.choice([v for v in _OTHERS if type(v) is not type(current)])
    data = json.dumps(doc).encode()
    path.write_bytes(gzip.compress(data) if compressed else data)


def bad_gzip(rng: random.Random, path: Path) -> None:
    """Damaged framing: a cut trailer, a broken header, garbage after the stream, or gzip where none is expected."""
    data = path.read_bytes()
    plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    packed = gzip.compress(plain)
    choice = rng.randrange(4)
    if choice == 0:
        path.write_bytes(packed[: -rng.randint(1, 8)])
    elif choice == 1:
        path.write_bytes(packed[:3] + bytes([0xFF]) + packed[4:])
    elif choice == 2:
        path.write_bytes(packed + b"\x1f\x8b\x08garbage")
    else:
        path.write_bytes(b"\x1f\x8b" + rng.randbytes(64))


def directory(rng: random.Random, path: Path) -> None:
    path.unlink()
    path.mkdir()


def empty(rng: random.Random, path: Path) -> None:
    path.write_bytes(b"")


MUTATIONS: tuple[Callable[[random.Random, Path], None], ...] = (
    truncate,
    flip_bytes,
    wrong_json_type,
    bad_gzip,
    directory,
    empty,
)


def cases() -> list[Any]:
    out = []
    for seed in SEEDS:
        for n in range(EXAMPLES):
            mutation = MUTATIONS[n % len(MUTATIONS)]
            out.append(pytest.param(seed, mutation, n, id=f"{seed.name}-{mutation.__name__}-{n}"))
    return out


# --- the store holding each input's pristine version ------------------------------------------------


def _argv(seed: Seed, source: Path, db: Path) -> list[str]:
    return [seed.command[0], str(source), *seed.command[1:], "--dataset", seed.dataset, "--store", f"sqlite:///{db}"]


def _snapshot(db: Path, dataset: str) -> tuple[list[DatasetInfo], dict[str, list[str]]]:
    async def read() -> tuple[list[DatasetInfo], dict[str, list[str]]]:
        store = SqliteStore(db)
        await store.open()
        try:
            ids = {}
            for coll in ("individuals", "biosamples", "g_variants"):
                docs = await store.find(Query(coll, (dataset,)))
                ids[coll] = sorted(str(d.get("id") or d.get("variantInternalId")) for d in docs)
            return await store.datasets(), ids
        finally:
            await store.close()

    return asyncio.run(read())


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store per input holding its unbroken version (loaded once, copied per case)."""
    out = {}
    for seed in SEEDS:
        db = tmp_path_factory.mktemp(seed.name) / "store.db"
        assert main(_argv(seed, seed.source, db)) == 0, seed.name
        out[seed.name] = db
    return out


@pytest.mark.parametrize(("seed", "mutation", "n"), cases())
def test_a_broken_input_is_one_line_and_the_previous_dataset_stays(
    seed: Seed,
    mutation: Callable[[random.Random, Path], None],
    n: int,
    pristine: dict[str, Path],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(f"{seed.name}-{n}")
    source = tmp_path / seed.source.name
    if seed.source.is_dir():
        shutil.copytree(seed.source, source, ignore=shutil.ignore_patterns("other"))
    else:
        shutil.copyfile(seed.source, source)
    target = source / rng.choice(seed.files) if seed.files != ("",) else source
    mutation(rng, target)
    db = tmp_path / "store.db"
    shutil.copyfile(pristine[seed.name], db)
    before = _snapshot(db, seed.dataset)
    capfd.readouterr()

    code = main(_argv(seed, source, db))

    _, err = capfd.readouterr()
    lines = err.splitlines()
    assert "Traceback" not in err
    errors = [line for line in lines if line.startswith("error: ")]
    assert [line for line in lines if not ALLOWED.match(line) and line not in errors] == []
    if code == 0:
        assert errors == []
        after = _snapshot(db, seed.dataset)
        lost = [c for c, ids in before[1].items() if ids and not after[1][c]]
        assert lost == [], "a load that exit 0 kept every collection the previous version had"
    else:
        assert code in (2, 3, 4)
        assert len(errors) == 1
        assert lines[-1] == errors[0]
        assert _snapshot(db, seed.dataset) == before
