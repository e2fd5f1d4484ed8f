"""A customer's confirmation racing the auto-confirm timer completes the order once.

Found by the chaos run (``make chaos``): a worker was killed while the order's workflow task
held a confirmation; the auto-confirm timer fired before another worker took the task over,
so the confirmation and the timer reached the workflow together. The confirmation completed
the order, and the main flow, woken by the timer, wrote COMPLETED a second time (history
``COMPLETED -> COMPLETED``). Here no worker runs while the confirmation waits and the timer
fires, which brings both to the next worker at once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.carriers import BuiltinCarrier
from config import Settings
from db.models import StatusHistory
from db.session import create_session_factory
from tests.factories import World, eventually
from tests.test_lifecycle import ship_and_deliver
from worker import build_worker, worker_activities, worker_engine
from workflows.messages import workflow_id_for

AUTO_CONFIRM = timedelta(seconds=2)


async def test_confirmation_arriving_with_the_timer_completes_the_order_once(
    world: World, api_with: Any, settings: Settings, temporal_client: Client
) -> None:
    task_queue = f"orders-race-{uuid.uuid4().hex[:8]}"
    engine = worker_engine(settings)
    activities = worker_activities(create_session_factory(engine), BuiltinCarrier(), settings)

    def new_worker() -> Worker:
        return build_worker(temporal_client, settings, activities, task_queue=task_queue)

    try:
        async with api_with(
            task_queue=task_queue,
            auto_confirm_after=AUTO_CONFIRM,
            update_wait=timedelta(seconds=60),
        ) as api:
            world.api = api
            async with new_worker():
                order_no = await world.new_order()
                await world.approve_levels(order_no, ["sup"])
                await ship_and_deliver(world, order_no)
            # No worker: the confirmation waits in Temporal while the timer fires.
            handle = temporal_client.get_workflow_handle(workflow_id_for(order_no))
            confirming = asyncio.create_task(
                world.act(order_no, "confirm-delivery", as_="customer")
            )
            await eventually(lambda: _timer_fired(handle), bool)
            async with new_worker():
                confirmed = await confirming
                assert confirmed.status_code == 200, confirmed.text
                await asyncio.wait_for(handle.result(), timeout=60)
            order = await world.order(order_no)
            assert await world.rows_for(StatusHistory, order_no) == len(order["history"])
    finally:
        await engine.dispose()
    moves = [(row["from_status"], row["to_status"]) for row in order["history"]]
    assert moves[-2:] == [("SHIPPED", "DELIVERED"), ("DELIVERED", "COMPLETED")], moves
    assert order["history"][-1]["actor"] == world["customer"].username


async def _timer_fired(handle: WorkflowHandle[Any, Any]) -> bool:
    history = await handle.fetch_history()
    return any(event.HasField("timer_fired_event_attributes") for event in history.events)
