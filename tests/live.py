"""Serve an ASGI app over real HTTP inside the test's event loop.

For parts that talk to each other over the network (the carrier simulator posting to a
receiver, the worker's adapter calling the simulator), an in-memory transport would skip the
very thing under test: a real socket, real headers, real connection errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT_SECONDS = 10.0


class _InProcessServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling alone, so Ctrl-C still reaches pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _listening_socket() -> socket.socket:
    # Bound here and handed to uvicorn, so no other process can take the port in between.
    # IPPROTO_TCP spelled out: asyncio turns TCP_NODELAY on only for connections whose socket
    # says so, and without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serve(app: ASGIApp | Callable[..., object]) -> AsyncIterator[str]:
    """Run ``app`` (lifespan included) on a free loopback port; yields its base URL."""
    sock = _listening_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        # Bounds the exit when a test leaves a request hanging (a slow cancel, say).
        timeout_graceful_shutdown=5,
    )
    server = _InProcessServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await _until_started(server, task)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def _until_started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            # Start-up failed (the app's lifespan raised, say): surface uvicorn's reason.
            task.result()
            raise RuntimeError("the server stopped before it started")
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"the server did not start in {STARTUP_TIMEOUT_SECONDS}s")
        await asyncio.sleep(0.01)
