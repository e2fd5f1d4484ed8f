"""A worker killed in the middle of an order: another one picks the order up where it was."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.testing import WorkflowEnvironment

from db.models import ProductionEvent, StatusHistory
from devstack.temporal_cli import ensure_temporal_cli
from tests.conftest import WorkerProcesses
from tests.factories import World, eventually
from tests.mail import free_port
from tests.test_lifecycle import HAPPY_PATH


async def test_order_survives_a_killed_worker(
    world: World, api_with: Any, worker_process: WorkerProcesses
) -> None:
    first = worker_process.start()
    # The first request after a kill waits for Temporal to give up on the dead worker (its
    # sticky queue), longer than an API call's usual bound.
    async with api_with(
        task_queue=worker_process.task_queue, update_wait=timedelta(seconds=60)
    ) as api:
        world.api = api
        order_no = await world.new_order()
        await world.approve_levels(order_no, ["sup"])
        order = await world.wait_for(order_no, "IN_PRODUCTION")
        steps = [step["name"] for step in order["production"]["steps"]]
        assert (await world.report(order_no, steps[0], "started")).status_code == 200

        # Killed in the middle of production: the next worker goes on where it stopped.
        worker_process.kill(first)
        second = worker_process.start()
        order = await world.finish_production(order_no)
        assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200

        # Tracking events that arrive while no worker runs wait in Temporal and are not lost.
        worker_process.kill(second)
        delivered = await world.carrier_event(order["shipment"]["tracking_no"], "delivered")
        assert delivered.status_code == 202, delivered.text
        await asyncio.sleep(1)
        assert (await world.order(order_no))["status"] == "SHIPPED"

        worker_process.start()
        await world.wait_for(order_no, "DELIVERED", timeout=60)
        done = await world.act(order_no, "confirm-delivery", as_="customer")
        assert done.status_code == 200, done.text

    order = done.json()
    assert [(h["from_status"], h["to_status"]) for h in order["history"]] == HAPPY_PATH
    assert await world.rows_for(StatusHistory, order_no) == len(HAPPY_PATH)
    # started once and completed once per step, though a worker died after the first report
    assert await world.rows_for(ProductionEvent, order_no) == 2 * len(steps)


async def test_a_worker_started_before_temporal_waits_for_it(
    worker_process: WorkerProcesses, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "worker.log"
    worker = worker_process.start_logged(log, TEMPORAL_ADDRESS=f"127.0.0.1:{port}")

    def logged() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    async def read_log() -> str:
        return logged()

    await eventually(read_log, lambda text: "not reachable" in text, timeout=30)
    assert worker.poll() is None, logged()

    cli = ensure_temporal_cli()
    server = await WorkflowEnvironment.start_local(
        port=port,
        dev_server_existing_path=str(cli) if cli else None,
        dev_server_log_level="error",
    )
    try:
        # Once Temporal answers, the worker registers the order's search attributes and polls.
        async def pollers() -> int:
            described = await server.client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=server.client.namespace,
                    task_queue=TaskQueue(name=worker_process.task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                )
            )
            return len(described.pollers)

        await eventually(pollers, lambda count: count > 0, timeout=60)
        assert "polling" in logged()
    finally:
        await server.shutdown()
