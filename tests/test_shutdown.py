"""SIGTERM on `beacon serve`: requests in flight finish, the store is closed, the process exits 0."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import CINECA_ID

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, deadline_s: float = 30) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not start")


def test_sigterm_lets_requests_in_flight_finish_then_exits_cleanly(cineca_db: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "BEACON_STORE": f"sqlite:///{cineca_db}"}
    # The shipped configuration names only the demo dataset; unnamed datasets are not served (fail closed).
    config = tmp_path / "beacon.yaml"
    config.write_text((ROOT / "conf" / "beacon.yaml").read_text() + "\ndatasets_default:\n  security: public\n")
    server = subprocess.Popen(
        [BIN / "beacon", "serve", "--port", str(port), "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(port)
        answers: list[tuple[int, int]] = []
        failures: list[str] = []

        def big_request() -> None:
            # Every variant with its carriers at record granularity: long enough to be in flight at SIGTERM.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", f"/api/g_variants?requestedGranularity=record&limit=1000&datasetIds={CINECA_ID}")
                resp = conn.getresponse()
                body = json.loads(resp.read())
                answers.append((resp.status, body["responseSummary"]["numTotalResults"]))
            except Exception as exc:  # reported by the assertion below, with the server's log
                failures.append(repr(exc))
            finally:
                conn.close()

        clients = [threading.Thread(target=big_request) for _ in range(4)]
        for c in clients:
            c.start()
        time.sleep(0.3)  # the requests are being answered
        server.send_signal(signal.SIGTERM)
        for c in clients:
            c.join(60)
        exit_code = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    output, _ = server.communicate()
    assert answers == [(200, 1004)] * 4, (failures, output)
    assert exit_code == 0, output
    assert "Traceback" not in output
    assert "store sqlite closed" in output
    # A new connection after shutdown is refused: the port is closed.
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        refused = False
    except OSError:
        refused = True
    assert refused
