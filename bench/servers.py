"""Server subprocesses of the bench on free loopback ports: `beacon serve` and the bare ceiling app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import stores

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on {port} after {timeout_s} s")


class Server:
    """A server subprocess on a free loopback port, stopped on exit."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stderr=subprocess.DEVNULL)
        wait_for(self.port, self.proc)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def beacon_server(store: stores.BuiltStore) -> Server:
    bin_dir = Path(sys.executable).parent
    argv = [str(bin_dir / "beacon"), "serve", "--config", str(BENCH / "beacon.yaml"), "--port", "{port}"]
    return Server(argv, env={"BEACON_STORE": store.uri})


def ceiling_server(variants: stores.BuiltStore, cohort: stores.BuiltStore, term: str, sex: str) -> Server:
    return Server(
        [
            sys.executable,
            str(BENCH / "ceiling.py"),
            "--variants",
            str(variants.path),
            "--dataset",
            variants.dataset,
            "--cohort",
            str(cohort.path),
            "--term",
            term,
            "--sex",
            sex,
            "--port",
            "{port}",
        ]
    )
