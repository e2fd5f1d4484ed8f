"""A worker killed in the middle of an order: another one picks the order up where it was."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from config import Settings
from db.models import ProductionEvent, StatusHistory
from tests.factories import World
from tests.test_lifecycle import HAPPY_PATH

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def worker_process(settings: Settings, temporal_client: Client) -> Iterator[Any]:
    """Starts ``python worker.py`` on a task queue of its own; yields a starter function."""
    task_queue = f"orders-restart-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
        "TASK_QUEUE": task_queue,
    }
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=env)
        started.append(process)
        return process

    start.task_queue = task_queue  # type: ignore[attr-defined]
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


async def test_order_survives_a_killed_worker(
    world: World, api_with: Any, worker_process: Any
) -> None:
    first = worker_process()
    async with api_with(task_queue=worker_process.task_queue) as api:
        world.api = api
        order_no = await world.new_order()
        await world.approve_levels(order_no, ["sup"])
        order = await world.wait_for(order_no, "IN_PRODUCTION")
        steps = [step["name"] for step in order["production"]["steps"]]
        assert (await world.report(order_no, steps[0], "started")).status_code == 200

        # Killed in the middle of production: the next worker goes on where it stopped.
        kill(first)
        second = worker_process()
        order = await world.finish_production(order_no)
        assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200

        # Tracking events that arrive while no worker runs wait in Temporal and are not lost.
        kill(second)
        delivered = await world.carrier_event(order["shipment"]["tracking_no"], "delivered")
        assert delivered.status_code == 202, delivered.text
        await asyncio.sleep(1)
        assert (await world.order(order_no))["status"] == "SHIPPED"

        worker_process()
        await world.wait_for(order_no, "DELIVERED", timeout=60)
        done = await world.act(order_no, "confirm-delivery", as_="customer")
        assert done.status_code == 200, done.text

    order = done.json()
    assert [(h["from_status"], h["to_status"]) for h in order["history"]] == HAPPY_PATH
    assert await world.rows_for(StatusHistory, order_no) == len(HAPPY_PATH)
    # started once and completed once per step, though a worker died after the first report
    assert await world.rows_for(ProductionEvent, order_no) == 2 * len(steps)
