"""Closed-loop HTTP/1.1 load generator: keep-alive connections on raw asyncio protocols, pre-encoded requests.

An aiohttp client spends more CPU per request than the bare server it measures, so this client
writes pre-built request bytes and parses only the status line and Content-Length. Each client
process drives its share of the connections; every connection sends its next request as soon as
the previous answer is complete. Each process also reports the CPU it used over the window, so a
saturated client (the client as the bottleneck) shows up in the results instead of hiding in them.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

_HEADER_END = b"\r\n\r\n"


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()


def post(path: str, body: object) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


@dataclass
class Outcome:
    """What one window of load produced, merged over client processes."""

    seconds: float
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    client_cpu: float = 0.0  # CPU seconds / wall seconds of the busiest client process

    @property
    def rps(self) -> float:
        return len(self.latencies_s) / self.seconds

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_s) * 1000 if self.latencies_s else float("nan")


class _Connection(asyncio.Protocol):
    def __init__(self, requests: list[bytes], start: int, deadline: float, out: Outcome, done: asyncio.Future[None]):
        self.requests, self.next, self.deadline, self.out, self.done = requests, start, deadline, out, done
        self.buffer = b""
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if time.perf_counter() >= self.deadline:
            self.transport.close()
            if not self.done.done():
                self.done.set_result(None)
            return
        request = self.requests[self.next % len(self.requests)]
        self.next += 1
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(_HEADER_END)
        if end < 0:
            return
        head = self.buffer[:end]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                self._fail("chunked responses are not supported")
                return
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        status = int(head[9:12])
        if status == 200:
            self.out.latencies_s.append(time.perf_counter() - self.sent_at)
        else:
            self.out.errors += 1
            if not self.out.first_error:
                self.out.first_error = f"HTTP {status}: {self.buffer[end + 4 : total][:300].decode(errors='replace')}"
        self.buffer = self.buffer[total:]
        self._send()

    def _fail(self, why: str) -> None:
        self.out.errors += 1
        self.out.first_error = self.out.first_error or why
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if time.perf_counter() < self.deadline:
                self.out.errors += 1
                self.out.first_error = self.out.first_error or f"connection lost: {exc}"
            self.done.set_result(None)


async def _drive(host: str, port: int, requests: list[bytes], connections: int, offset: int, seconds: float) -> Outcome:
    loop = asyncio.get_running_loop()
    out = Outcome(seconds)
    deadline = time.perf_counter() + seconds
    cpu = time.process_time()
    started = time.perf_counter()
    waits = []
    for n in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        start = (offset + n) * 7919  # spread connections over the request list
        await loop.create_connection(lambda d=done, s=start: _Connection(requests, s, deadline, out, d), host, port)
        waits.append(done)
    await asyncio.gather(*waits)
    out.seconds = time.perf_counter() - started
    out.client_cpu = (time.process_time() - cpu) / out.seconds
    return out


def _worker(host: str, port: int, requests: list[bytes], connections: int, offset: int, seconds: float) -> Outcome:
    try:
        import uvloop  # optional, as in the server

        return uvloop.run(_drive(host, port, requests, connections, offset, seconds))
    except ImportError:
        return asyncio.run(_drive(host, port, requests, connections, offset, seconds))


class LoadGenerator:
    """A pool of client processes kept alive across windows (process start-up stays out of the numbers)."""

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))

    def close(self) -> None:
        self._pool.shutdown()

    def run(self, host: str, port: int, requests: list[bytes], concurrency: int, seconds: float) -> Outcome:
        """Keep `concurrency` requests in flight for `seconds`; latencies of 200 answers, other answers as errors."""
        procs = max(1, min(self.processes, concurrency))
        shares = [concurrency // procs + (1 if n < concurrency % procs else 0) for n in range(procs)]
        offsets = [sum(shares[:n]) for n in range(procs)]
        futures = [
            self._pool.submit(_worker, host, port, requests, share, offset, seconds)
            for share, offset in zip(shares, offsets, strict=True)
        ]
        parts = [f.result() for f in futures]
        merged = Outcome(max(p.seconds for p in parts))
        for part in parts:
            merged.latencies_s.extend(part.latencies_s)
            merged.errors += part.errors
            merged.first_error = merged.first_error or part.first_error
            merged.client_cpu = max(merged.client_cpu, part.client_cpu)
        return merged
