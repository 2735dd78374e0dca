"""Run an aiohttp application until SIGTERM or SIGINT, then shut down without cutting answers short.

aiohttp's own `run_app` waits for handlers in flight and then closes their connections, but a closed
transport still holds the tail of its answer in user space until the event loop writes it out. `run_app`
closes the loop right after its cleanup, so a client that was slow to read (a phone, a congested
link, a busy reader) lost the last kilobytes of an answer the server had logged as 200. Here the
loop stays up until every connection open at shutdown has written everything, bounded by the same
shutdown timeout.
"""

from __future__ import annotations

import asyncio
import math
import signal
import time
from collections.abc import Callable

from aiohttp import web

_FLUSH_POLL_S = 0.02


class _FlushingRunner(web.AppRunner):
    """An AppRunner that remembers the connections open at shutdown so they can be flushed."""

    def __init__(self, app: web.Application, shutdown_timeout_s: float) -> None:
        super().__init__(app, handle_signals=False, access_log=None, shutdown_timeout=shutdown_timeout_s)
        self._closing: list[asyncio.WriteTransport] = []

    async def shutdown(self) -> None:
        # aiohttp calls this after the sites stopped accepting and before it closes the connections.
        server = self.server
        if server is not None:
            self._closing = [c.transport for c in server.connections if isinstance(c.transport, asyncio.WriteTransport)]
        await super().shutdown()

    async def flushed(self, timeout_s: float) -> None:
        """Wait until every connection seen at shutdown has written its buffered bytes, or the timeout."""
        # A transport offers no awaitable for "buffer written": a bounded number of short polls.
        for _ in range(math.ceil(timeout_s / _FLUSH_POLL_S)):
            if not any(t.get_write_buffer_size() for t in self._closing):
                return
            await asyncio.sleep(_FLUSH_POLL_S)


async def _serve(
    app: web.Application, host: str, port: int, shutdown_timeout_s: float, on_listening: Callable[[], None]
) -> None:
    runner = _FlushingRunner(app, shutdown_timeout_s)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, host, port).start()
        on_listening()
        await stop.wait()
    finally:
        started = time.monotonic()
        await runner.cleanup()
        await runner.flushed(max(0.0, shutdown_timeout_s - (time.monotonic() - started)))


def serve_until_signalled(
    app: web.Application, *, host: str, port: int, shutdown_timeout_s: float, on_listening: Callable[[], None]
) -> None:
    """Serve `app` on host:port; on SIGTERM/SIGINT stop accepting, finish and deliver answers in flight, return."""
    asyncio.run(_serve(app, host, port, shutdown_timeout_s, on_listening))
