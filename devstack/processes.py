"""The children of the development stack: each started in its own session with its output
copied to ours, raced against a request to stop, watched until one exits, and stopped by
process group.

Children run in their own sessions so that a Ctrl-C reaches only the supervisor, which then
stops them deliberately; on Linux each child also gets SIGTERM if the supervisor itself is
killed without a chance to clean up.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from devstack.paths import project_root

T = TypeVar("T")

_GRACE_SECONDS = 8.0  # how long a child may take to exit after SIGTERM before SIGKILL
_PR_SET_PDEATHSIG = 1


class Interrupted(Exception):
    """Ctrl-C, SIGTERM or SIGHUP arrived (or a child died) while starting up."""


def log(message: str) -> None:
    """One line of the supervisor's own output, told apart from its children's."""
    print(f"devstack: {message}", flush=True)


def _die_with_parent() -> None:
    """In a freshly forked child: get SIGTERM if the supervisor itself is killed (Linux only).

    The children run in their own sessions so that Ctrl-C does not hit them all at once; this
    keeps them from outliving a supervisor that was killed without a chance to clean up.
    """
    if _libc_prctl is not None:
        _libc_prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _load_prctl() -> Callable[..., int] | None:
    # Loaded once in the parent: a forked child must not import or dlopen anything.
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_libc_prctl = _load_prctl()


@dataclass
class Child:
    """A process we started, with the task copying its output to our terminal."""

    name: str
    process: asyncio.subprocess.Process
    pump: asyncio.Task[None] | None = None
    #: Set once we asked it to stop: the dev server's shutdown chatter is not worth showing.
    quiet: bool = False


@dataclass
class Supervisor:
    """The children started so far, and the stop request that start-up and supervision race
    against (set by a signal handler)."""

    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    children: list[Child] = field(default_factory=list)
    exit_code: int = 0

    async def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        """Start ``argv`` in its own session, its output prefixed with ``name``."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=project_root(),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        child = Child(name, process)
        child.pump = asyncio.create_task(_pump(child))
        self.children.append(child)
        return child

    async def until_stopped(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, or raise :class:`Interrupted` if a stop is requested first."""
        task: asyncio.Future[T] = asyncio.ensure_future(awaitable)
        stop = asyncio.ensure_future(self.stop_requested.wait())
        racing: list[asyncio.Future[Any]] = [task, stop]
        await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise Interrupted

    def raise_if_stopped(self) -> None:
        """Raise :class:`Interrupted` if a stop was requested while we were busy."""
        if self.stop_requested.is_set():
            raise Interrupted

    async def supervise(self) -> None:
        """Return when a stop is requested or any child exits (which is then an error)."""
        waits = {asyncio.create_task(c.process.wait()): c for c in self.children}
        stop = asyncio.create_task(self.stop_requested.wait())
        done, _ = await asyncio.wait([*waits, stop], return_when=asyncio.FIRST_COMPLETED)
        for task in [*waits, stop]:
            task.cancel()
        for task in done:
            if task in waits:
                child = waits[task]
                log(f"{child.name} exited with code {child.process.returncode}; stopping")
                self.exit_code = 1


async def _pump(child: Child) -> None:
    """Copy a child's output to our stdout, each line prefixed with the child's name."""
    stream = child.process.stdout
    assert stream is not None
    prefix = f"{child.name:>8} | ".encode()
    out = sys.stdout.buffer
    while True:
        try:
            line = await stream.readline()
        except ValueError:  # a single line longer than the stream's buffer limit
            line = await stream.read(65536)
        if not line:
            return
        if child.quiet:
            continue
        out.write(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")
        out.flush()


async def terminate(child: Child) -> None:
    """SIGTERM a child's whole process group; SIGKILL it if it outlives the grace period."""
    process = child.process
    if process.returncode is None:
        child.quiet = child.name == "temporal"
        _signal_group(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), _GRACE_SECONDS)
        except TimeoutError:
            log(f"{child.name} did not stop within {_GRACE_SECONDS:.0f}s; killing it")
            _signal_group(process.pid, signal.SIGKILL)
            await process.wait()
    # Stragglers in its group (if any) go too; the group id is the child's pid.
    _signal_group(process.pid, signal.SIGKILL)
    if child.pump is not None:
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(child.pump, 2)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
