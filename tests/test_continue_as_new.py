"""History stays bounded: an order that waits a long time continues as new, in the same place.

The tests squeeze "a long time" into seconds: reminders every 0.2 s, and a history limit of
100 events instead of 10,000.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client

from domain.statuses import OrderStatus
from tests.factories import TWO_LEVEL_QTY, World, eventually
from tests.test_lifecycle import HAPPY_PATH, ship_and_deliver
from workflows.messages import OrderState, workflow_id_for
from workflows.order import OrderWorkflow


async def test_a_long_review_continues_as_new_and_keeps_its_decisions_and_clocks(
    world: World, api_with: Any, temporal_client: Client
) -> None:
    async with api_with(
        remind_after=timedelta(seconds=0.2), reminder_limit=100, order_history_limit=100
    ) as fast_api:
        order_no = await world.new_order(TWO_LEVEL_QTY, api=fast_api)
    await world.approve_levels(order_no, ["sup"])
    handle = temporal_client.get_workflow_handle(workflow_id_for(order_no))
    first_run = (await handle.describe()).run_id

    async def latest_run() -> str | None:
        return (await handle.describe()).run_id

    await eventually(latest_run, lambda run: run != first_run, timeout=60)
    # The first run handed over to the next one instead of growing.
    first = temporal_client.get_workflow_handle(workflow_id_for(order_no), run_id=first_run)
    first_history = await first.fetch_history()
    assert len(first_history.events) < 130
    assert first_history.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")

    state: OrderState = await handle.query(OrderWorkflow.state)
    assert state.status == OrderStatus.UNDER_REVIEW
    assert state.current_level == 2
    level_1, level_2 = state.levels
    assert (level_1.status, [d.by for d in level_1.decisions]) == (
        "approved",
        [world["sup"].username],
    )
    assert level_2.status == "pending"
    assert level_2.reminders > 5
    assert "manager approval, level 2 of 2" in state.waiting_on

    # The continued run still refuses what the first one would have, and takes what it would.
    assert (await world.decide(order_no, as_="sup")).status_code == 403
    decided = await world.decide(order_no, as_="mgr")
    assert decided.status_code == 200, decided.text
    order = await ship_and_deliver(world, order_no)
    assert order["review"]["levels"][1]["notices"][0]["kind"] == "reminder"
    rounds = [n["round"] for n in order["review"]["levels"][1]["notices"]]
    # Reminder rounds go on counting across runs: none was sent twice.
    assert rounds == sorted(set(rounds)) and rounds[0] == 1
    done = await world.act(order_no, "confirm-delivery", as_="customer")
    assert done.status_code == 200, done.text
    assert [(h["from_status"], h["to_status"]) for h in done.json()["history"]] == HAPPY_PATH
