"""What every bench mode shares: the stack, the bench data, a Temporal client, the baseline
worker, the process sampler and the shared HTTP client.

``async with harness(stack, ...) as h:`` starts the stack (or checks an external one), writes
the bench data, starts the baseline worker when asked, and on the way out stops what it
started, in reverse order, whatever happened in between.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from bench.actors import Api
from bench.baseline_driver import BaselineWorkerProcess
from bench.procstats import Tracked, UsageSampler
from bench.setup_data import BenchData, prepare_bench_data
from bench.stack import Endpoints, ExternalStack, LocalStack, own_process
from devstack.paths import project_root


@dataclass
class Harness:
    run_id: str
    started_at: str
    endpoints: Endpoints
    data: BenchData
    temporal: Client
    sampler: UsageSampler
    stack: LocalStack | ExternalStack
    baseline_worker: BaselineWorkerProcess | None


def _log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def _log_dir(stack: LocalStack | ExternalStack) -> Path:
    if isinstance(stack, LocalStack):
        return stack.data_dir
    return project_root() / ".data" / "bench-external"


@contextlib.asynccontextmanager
async def harness(
    stack: LocalStack | ExternalStack, *, restock_units: int, with_baseline_worker: bool
) -> AsyncIterator[Harness]:
    now = datetime.now(UTC).replace(microsecond=0)
    run_id = now.strftime("%Y%m%dT%H%M%SZ")
    baseline: BaselineWorkerProcess | None = None
    try:
        endpoints = await stack.start()
        _log(f"stack up: API {endpoints.api_url}, Temporal {endpoints.temporal_address}")
        data = await prepare_bench_data(endpoints.database_url, run_id, restock_units)
        temporal = await Client.connect(endpoints.temporal_address, namespace=endpoints.namespace)
        groups: list[Tracked] = stack.tracked()
        if with_baseline_worker:
            baseline = BaselineWorkerProcess(
                endpoints.temporal_address,
                endpoints.namespace,
                _log_dir(stack) / "baseline-worker.log",
            )
            await baseline.start()
            groups.append(own_process("baseline worker", baseline.pid))
        groups.append(own_process("bench driver", os.getpid()))
        yield Harness(
            run_id=run_id,
            started_at=now.isoformat(),
            endpoints=endpoints,
            data=data,
            temporal=temporal,
            sampler=UsageSampler(groups),
            stack=stack,
            baseline_worker=baseline,
        )
    finally:
        if baseline is not None:
            await baseline.stop()
        await stack.stop()


def http_client(api_url: str, concurrency: int) -> httpx.AsyncClient:
    """The one client every actor shares: a keep-alive pool sized for the load."""
    size = max(64, concurrency * 4)
    return httpx.AsyncClient(
        base_url=api_url,
        timeout=httpx.Timeout(120.0, connect=10.0),
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
    )


async def signed_in_api(
    h: Harness, client: httpx.AsyncClient, poll_interval: float, stuck_after: float
) -> Api:
    api = Api(
        client, h.endpoints.carrier_secret, poll_interval=poll_interval, stuck_after=stuck_after
    )
    await api.sign_in(h.data.usernames)
    return api


def passed_through_settings() -> dict[str, str]:
    """The caller's product knobs the stack inherited, for the record (``WORKER_*`` and the
    review clocks); secrets are never recorded."""
    prefixes = ("WORKER_", "REMIND_", "ESCALATE_", "AUTO_CONFIRM_", "TASK_QUEUE")
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith(prefixes)}
