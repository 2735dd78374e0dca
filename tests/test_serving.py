"""serve_until_signalled: on SIGTERM an answer already written is delivered in full to a slow reader."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

BODY_BYTES = 32 * 1024 * 1024

# A one-route app whose transport buffers the whole answer in user space, as a slow client makes it do.
APP = f"""
import logging, sys
from aiohttp import web
from beacon.serving import serve_until_signalled

async def big(request: web.Request) -> web.Response:
    request.transport.set_write_buffer_limits(high=4 * {BODY_BYTES})
    response = web.Response(body=b"x" * {BODY_BYTES})
    await response.prepare(request)
    await response.write_eof()
    print("answered", flush=True)
    return response

app = web.Application()
app.router.add_get("/big", big)
serve_until_signalled(app, host="127.0.0.1", port=int(sys.argv[1]), shutdown_timeout_s=30,
                      on_listening=lambda: print("listening", flush=True))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _line(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    return server.stdout.readline().strip()


def test_an_answer_in_the_write_buffer_at_sigterm_reaches_a_slow_reader() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", APP, str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert _line(server) == "listening"
        client = socket.socket()
        # A small receive window: most of the answer stays in the server's own buffer.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.settimeout(30)
        client.connect(("127.0.0.1", port))
        client.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _line(server) == "answered"
        server.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # the reader is slow: without the flush the process has exited by now
        received = 0
        while chunk := client.recv(1 << 20):
            received += len(chunk)
        client.close()
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()
    headers = 150  # status line and headers, a little under
    assert BODY_BYTES < received < BODY_BYTES + headers + 100
