"""An upgrade under running orders: orders started on release 1.0 finish on the current code.

The worker and API of the release (``tests/released_worker.py``, run from the release's own
source) take orders to every stage an order waits in for people or the carrier; the release's
worker is then killed mid-flight, and the current API and worker, on the same Temporal,
PostgreSQL and task queue, take every order to COMPLETED. What was recorded before the
switch stays as it was, and nothing is done twice. The order left in review takes an
amendment, which release 1.0 did not have (the ``amendments`` patch). The orders left before
shipping ship per line on the current worker (the ``per-line-fulfilment`` patch); those the
release took past that point finish as they began, in the one shipment it booked.
"""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import httpx
from temporalio.client import Client

from activities.carriers import BuiltinCarrier
from config import Settings
from db.models import ProductionEvent, StatusHistory
from db.session import create_session_factory
from tests.factories import ONE_LEVEL_QTY, TWO_LEVEL_QTY, World, eventually
from tests.released_worker import ReleasedRevision, released_1_0
from tests.stock_helpers import ledger, stock_of
from tests.test_lifecycle import HAPPY_PATH
from worker import build_worker, worker_activities, worker_engine
from workflows.messages import workflow_id_for

__all__ = ["released_1_0"]  # a fixture, used by name

# The first request after the kill waits for Temporal to give up on the dead worker's sticky
# queue, longer than an API call's usual bound.
PATIENT = {"update_wait": timedelta(seconds=60)}
STOCK, STOCKED_QTY = 20, 5
# Taken from stock, an approved order goes straight to shipping.
FROM_STOCK_PATH = [*HAPPY_PATH[:3], ("APPROVED", "AWAITING_SHIPMENT"), *HAPPY_PATH[5:]]


async def test_orders_started_on_release_1_0_finish_on_the_current_worker(
    world: World,
    api_with: Any,
    settings: Settings,
    temporal_client: Client,
    released_1_0: ReleasedRevision,
) -> None:
    released = released_1_0
    stocked = await world.add_product(stock=STOCK)

    # 1. Release 1.0 alone serves the task queue: an order waits at each long-lived stage.
    released_worker = await released.start_worker()
    released_api = await released.start_api(UPDATE_WAIT="60")
    async with httpx.AsyncClient(base_url=released_api.base_url) as api:
        world.api = api
        orders = await orders_at_every_stage(world, stocked)
        before = {stage: await world.order(order_no) for stage, order_no in orders.items()}
    assert {stage: order["status"] for stage, order in before.items()} == {
        "review": "UNDER_REVIEW",
        "production": "IN_PRODUCTION",
        "awaiting": "AWAITING_SHIPMENT",
        "shipped": "SHIPPED",
        "delivered": "DELIVERED",
    }
    assert levels(before["review"]) == [("approved", [world["sup"].username]), ("pending", [])]

    # 2. The release's worker crashes; its API goes as a deployment replaces it.
    released.kill(released_worker)
    released.stop(released_api.process)

    # 3. The current API and worker take over the same task queue.
    engine = worker_engine(settings)
    activities = worker_activities(create_session_factory(engine), BuiltinCarrier(), settings)
    try:
        async with api_with(task_queue=released.task_queue, **PATIENT) as api:
            world.api = api
            # Reported while no worker runs: it waits in Temporal for the next worker.
            delivered = await world.carrier_event(
                before["shipped"]["shipment"]["tracking_no"], "delivered"
            )
            assert delivered.status_code == 202, delivered.text
            worker = build_worker(
                temporal_client, settings, activities, task_queue=released.task_queue
            )
            async with worker:
                await asyncio.gather(
                    finish_review(world, orders["review"]),
                    finish_production(world, orders["production"]),
                    dispatch_and_deliver(world, orders["awaiting"]),
                    confirm_when_delivered(world, orders["shipped"]),
                    confirm_when_delivered(world, orders["delivered"]),
                )
            after = {stage: await world.order(order_no) for stage, order_no in orders.items()}
            ledgers = [await ledger(world, sku) for sku in (world.sku, stocked)]
            stock = {sku: await stock_of(world, sku) for sku in (world.sku, stocked)}
    finally:
        await engine.dispose()

    for stage, order in after.items():
        path = HAPPY_PATH if stage in ("review", "production") else FROM_STOCK_PATH
        assert moves(order) == path, (stage, moves(order))
        # What the release recorded is kept as it was, and nothing is written twice.
        assert order["history"][: len(before[stage]["history"])] == before[stage]["history"]
        assert await world.rows_for(StatusHistory, order["order_no"]) == len(path)
        assert [event["status"] for event in order["shipment"]["events"]] == [
            "in_transit",
            "delivered",
        ], stage
        assert order["history"][-1]["actor"] == world["customer"].username
    assert levels(after["review"]) == [
        ("approved", [world["sup"].username]),
        ("approved", [world["mgr"].username]),
    ]
    assert all(
        levels(after[stage]) == [("approved", [world["sup"].username])]
        for stage in ("production", "awaiting", "shipped", "delivered")
    )
    assert [line["quantity"] for line in after["review"]["lines"]] == [TWO_LEVEL_QTY + 1]
    for stage in ("review", "production"):
        [work_order] = after[stage]["production"]["work_orders"]
        assert [step["status"] for step in work_order["steps"]] == ["completed"] * 3
        # Each step started and completed once, the one started under the release included.
        assert await world.rows_for(ProductionEvent, after[stage]["order_no"]) == 2 * 3
    assert [check["balanced"] for check in ledgers] == [True, True], ledgers
    # What was made went out; three orders shipped from stock; nothing stays reserved.
    left = STOCK - 3 * STOCKED_QTY
    assert stock == {world.sku: (0, 0, 0), stocked: (left, 0, left)}

    # Every line shipped and was delivered in full, in whichever kind of shipment.
    for order in after.values():
        assert [(ln["shipped_qty"], ln["delivered_qty"], ln["state"]) for ln in order["lines"]] == [
            (ln["quantity"], ln["quantity"], "delivered") for ln in order["lines"]
        ]
    # Orders left before shipping reached it on the current worker and ship per line; those
    # the release took past that point replayed the decision without the patch: one shipment.
    for stage, order_no in orders.items():
        per_line = "per-line-fulfilment" in await patches_taken(temporal_client, order_no)
        assert per_line == (stage in ("review", "production")), stage

    # Both workers did the work: each order's workflow tasks were completed by the release's
    # worker up to the kill, then by the current one.
    released_identity = f"{released_worker.pid}@{socket.gethostname()}"
    for stage, order_no in orders.items():
        workers = await task_workers(temporal_client, order_no)
        assert workers == [released_identity, temporal_client.identity], (stage, workers)


async def orders_at_every_stage(world: World, stocked: str) -> dict[str, str]:
    """Five orders, each left where an order waits for a person or the carrier: in review
    with one of two levels approved, in production with a step started, awaiting shipment
    (taken from stock), shipped with a tracking event, delivered and not yet confirmed."""
    from_stock = [{"sku": stocked, "quantity": STOCKED_QTY}]
    orders = {
        "review": await world.new_order(TWO_LEVEL_QTY),
        "production": await world.new_order(ONE_LEVEL_QTY),
        "awaiting": await world.new_order(lines=from_stock),
        "shipped": await world.new_order(lines=from_stock),
        "delivered": await world.new_order(lines=from_stock),
    }
    for order_no in orders.values():
        await world.approve_levels(order_no, ["sup"])

    producing = await world.wait_for(orders["production"], "IN_PRODUCTION")
    [work_order] = producing["production"]["work_orders"]
    started = await world.report(
        orders["production"],
        work_order["steps"][0]["name"],
        "started",
        work_order_no=work_order["work_order_no"],
    )
    assert started.status_code == 200, started.text

    for stage in ("awaiting", "shipped", "delivered"):
        await world.wait_for(orders[stage], "AWAITING_SHIPMENT")
    for stage in ("shipped", "delivered"):
        order = await dispatch(world, orders[stage])
        in_transit = await world.carrier_event(order["shipment"]["tracking_no"], "in_transit")
        assert in_transit.status_code == 202, in_transit.text
        await until_tracked(world, orders[stage], "in_transit")
    await deliver(world, orders["delivered"])
    return orders


async def finish_review(world: World, order_no: str) -> None:
    """A 1.0 order takes an amendment (the first patch) mid-review; the second level
    approves; the order is made, shipped, delivered and confirmed."""
    amended = await world.api.post(
        f"/api/v1/orders/{order_no}/amendments",
        json={
            "reason": "one more",
            "change_lines": [{"line_no": 1, "quantity": TWO_LEVEL_QTY + 1}],
        },
        headers=world["sales"].headers,
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["version"] == 2
    decided = await world.decide(order_no, as_="mgr")
    assert decided.status_code == 200, decided.text
    await finish_production(world, order_no)


async def finish_production(world: World, order_no: str) -> None:
    await world.finish_production(order_no)
    await dispatch_and_deliver(world, order_no)


async def dispatch_and_deliver(world: World, order_no: str) -> None:
    await dispatch(world, order_no)
    in_transit = await world.carrier_event(
        (await world.order(order_no))["shipment"]["tracking_no"], "in_transit"
    )
    assert in_transit.status_code == 202, in_transit.text
    await until_tracked(world, order_no, "in_transit")
    await deliver(world, order_no)
    await confirm_when_delivered(world, order_no)


async def dispatch(world: World, order_no: str) -> dict[str, Any]:
    shipped = await world.act(order_no, "dispatch", as_="log")
    assert shipped.status_code == 200, shipped.text
    order: dict[str, Any] = shipped.json()
    assert order["status"] == "SHIPPED"
    return order


async def deliver(world: World, order_no: str) -> None:
    tracking_no = (await world.order(order_no))["shipment"]["tracking_no"]
    delivered = await world.carrier_event(
        tracking_no, "delivered", occurred_at=datetime.now(UTC) + timedelta(minutes=1)
    )
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED", timeout=60)


async def confirm_when_delivered(world: World, order_no: str) -> None:
    await world.wait_for(order_no, "DELIVERED", timeout=60)
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "COMPLETED"


async def until_tracked(world: World, order_no: str, *statuses: str) -> None:
    """Wait for the order's tracking timeline to show exactly ``statuses``."""
    await eventually(
        lambda: world.order(order_no),
        lambda order: [event["status"] for event in order["shipment"]["events"]] == list(statuses),
    )


def moves(order: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(step["from_status"], step["to_status"]) for step in order["history"]]


def levels(order: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each review level's status and who decided it."""
    return [
        (level["status"], [decision["by"] for decision in level["decisions"]])
        for level in order["review"]["levels"]
    ]


async def patches_taken(client: Client, order_no: str) -> set[str]:
    """The patches whose markers the order's workflow history holds."""
    history = await client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    return {
        json.loads(marker.details["patch-data"].payloads[0].data)["id"]
        for marker in (event.marker_recorded_event_attributes for event in history.events)
        if marker.marker_name == "core_patch"
    }


async def task_workers(client: Client, order_no: str) -> list[str]:
    """The workers that completed the order's workflow tasks, in turn (a run of tasks by the
    same worker counts once)."""
    history = await client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    identities = [
        event.workflow_task_completed_event_attributes.identity
        for event in history.events
        if event.HasField("workflow_task_completed_event_attributes")
    ]
    return [identity for identity, _ in groupby(identities)]
