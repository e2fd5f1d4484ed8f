"""Driving the baseline through the Temporal Python SDK, and the bare-update probe.

:class:`BaselineWorkerProcess` starts ``python -m bench.baseline_worker`` against the bench
stack's Temporal and stops it again. :func:`run_baseline_order` walks one baseline order
through the same messages as the product's median order, timing each call under the same kinds
as the HTTP actors. :class:`UpdateProbe` sends a no-op update to an idle workflow every
~100 ms while a phase runs; it starts a fresh probe workflow every few hundred pings so that no
history grows long.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from temporalio.client import Client, WorkflowHandle

from bench.actors import CARRIER_STATUSES, BenchFailure, Latencies
from bench.baseline import TASK_QUEUE, BaselineOrderWorkflow, OrderShape, ProbeWorkflow
from bench.baseline_worker import READY
from bench.stack import spawn

T = TypeVar("T")
_READY_TIMEOUT = 60.0


class BaselineWorkerProcess:
    """The baseline worker as a child process, its output in ``log_path``."""

    def __init__(self, temporal_address: str, namespace: str, log_path: Path) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "bench.baseline_worker",
            "--address",
            temporal_address,
            "--namespace",
            namespace,
        ]
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = spawn(self.argv, self._log)
        deadline = time.monotonic() + _READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailure(
                    f"the baseline worker exited with code {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            if READY in self.log_path.read_text(errors="replace"):
                return
            await asyncio.sleep(0.2)
        raise BenchFailure(f"the baseline worker was not ready in time; see {self.log_path}")

    async def stop(self) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self._log is not None:
            self._log.close()
        self.process = None


async def _timed(latencies: Latencies, kind: str, call: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await call
    latencies.add(kind, time.perf_counter() - started)
    return result


async def run_baseline_order(
    client: Client, shape: OrderShape, workflow_id: str, latencies: Latencies
) -> float:
    """One baseline order from start to COMPLETED; returns its seconds."""
    started = time.perf_counter()
    handle = await _timed(
        latencies,
        "create",
        client.start_workflow(
            BaselineOrderWorkflow.run, shape, id=workflow_id, task_queue=TASK_QUEUE
        ),
    )
    for _ in range(shape.review_levels):
        await _timed(latencies, "decide", handle.execute_update(BaselineOrderWorkflow.decide))
    for step in range(shape.production_steps):
        await _timed(
            latencies,
            "production report",
            handle.execute_update(BaselineOrderWorkflow.report_production, step),
        )
    await _timed(latencies, "dispatch", handle.execute_update(BaselineOrderWorkflow.dispatch))
    for status in CARRIER_STATUSES[: shape.carrier_events]:
        await _timed(
            latencies, "carrier event", handle.signal(BaselineOrderWorkflow.carrier_event, status)
        )
    await _timed(
        latencies, "confirm", handle.execute_update(BaselineOrderWorkflow.confirm_delivery)
    )
    outcome = await handle.result()
    if outcome != "COMPLETED":
        raise BenchFailure(f"baseline {workflow_id} ended {outcome}")
    return time.perf_counter() - started


@dataclass
class ProbeSamples:
    seconds: list[float] = field(default_factory=list)
    errors: int = 0


class UpdateProbe:
    """A no-op update to an idle workflow every ``interval`` seconds while a phase runs."""

    def __init__(
        self, client: Client, run_id: str, interval: float = 0.1, pings_per_workflow: int = 300
    ) -> None:
        self.client = client
        self.run_id = run_id
        self.interval = interval
        self.pings_per_workflow = pings_per_workflow
        self.workflow_ids: list[str] = []

    async def _fresh_workflow(self) -> WorkflowHandle[ProbeWorkflow, None]:
        workflow_id = f"bench-probe-{self.run_id}-{len(self.workflow_ids) + 1}"
        self.workflow_ids.append(workflow_id)
        return await self.client.start_workflow(
            ProbeWorkflow.run, id=workflow_id, task_queue=TASK_QUEUE
        )

    async def _ping_until(self, stop: asyncio.Event, samples: ProbeSamples) -> None:
        """Ping until ``stop`` is set. Stopping is an event, not a task cancellation: the SDK
        turns a cancelled update call into an ordinary error, which a loop would outlive."""
        handle = await self._fresh_workflow()
        # One warm-up ping: the first workflow task of a fresh probe is not a bare update.
        await handle.execute_update(ProbeWorkflow.ping)
        pings = 0
        try:
            while not stop.is_set():
                due = time.perf_counter() + self.interval
                if pings == self.pings_per_workflow:
                    await handle.signal(ProbeWorkflow.finish)
                    handle = await self._fresh_workflow()
                    await handle.execute_update(ProbeWorkflow.ping)
                    pings = 0
                started = time.perf_counter()
                try:
                    await handle.execute_update(ProbeWorkflow.ping)
                except Exception:
                    samples.errors += 1
                else:
                    samples.seconds.append(time.perf_counter() - started)
                pings += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, due - time.perf_counter()))
        finally:
            with contextlib.suppress(Exception):
                await handle.signal(ProbeWorkflow.finish)

    @contextlib.asynccontextmanager
    async def measuring(self) -> AsyncIterator[ProbeSamples]:
        samples = ProbeSamples()
        stop = asyncio.Event()
        task = asyncio.create_task(self._ping_until(stop, samples))
        try:
            yield samples
        finally:
            stop.set()
            # Ends after the ping in flight, if any.
            await task
