"""A worker killed in the middle of an order: another one picks the order up where it was."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from db.models import ProductionEvent, StatusHistory
from tests.conftest import WorkerProcesses
from tests.factories import World
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
