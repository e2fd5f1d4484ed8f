"""The whole logistics loop over real HTTP: the worker books with, hands over to and cancels
at the carrier simulator, which posts signed tracking events to the API on its own schedule.

Also where compensation is shown to survive a worker killed in the middle of a cancellation.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.carriers import SimulatedCarrier
from api.app import create_app as create_api
from carrier_sim.app import create_app as create_simulator
from carrier_sim.settings import SimulatorSettings
from config import Settings
from db.models import Product, StatusHistory
from tests.conftest import WorkerProcesses
from tests.factories import World, eventually
from tests.live import serve
from worker import build_worker, worker_activities
from workflows.messages import workflow_id_for

# Tracking events every half second: a delivery takes a couple of seconds.
STEP_SECONDS = 0.5


@dataclass
class CarrierStack:
    api: httpx.AsyncClient
    simulator: httpx.AsyncClient
    simulator_url: str
    task_queue: str

    async def shipment(self, tracking_no: str) -> dict[str, Any]:
        """The shipment as the carrier sees it."""
        response = await self.simulator.get(f"/shipments/{tracking_no}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def carrier_stack(
    world: World, settings: Settings, temporal_client: Client, task_queue: str, **simulator: Any
) -> AsyncIterator[CarrierStack]:
    """The API and the simulator on real ports, talking to each other; ``world`` uses it."""
    async with AsyncExitStack() as stack:
        api_url = await stack.enter_async_context(
            serve(
                create_api(settings.model_copy(update={"task_queue": task_queue}), temporal_client)
            )
        )
        simulator_settings = SimulatorSettings(
            api_url=api_url,
            secret=settings.carrier_webhook_secret,
            step_seconds=STEP_SECONDS,
            **simulator,
        )
        simulator_url = await stack.enter_async_context(serve(create_simulator(simulator_settings)))
        api = await stack.enter_async_context(httpx.AsyncClient(base_url=api_url, timeout=120))
        sim = await stack.enter_async_context(httpx.AsyncClient(base_url=simulator_url))
        world.api = api
        yield CarrierStack(api, sim, simulator_url, task_queue)


@asynccontextmanager
async def in_process_worker(
    world: World, settings: Settings, temporal_client: Client, stack: CarrierStack
) -> AsyncIterator[None]:
    activities = worker_activities(world.sessions, SimulatedCarrier(stack.simulator_url), settings)
    async with build_worker(temporal_client, settings, activities, task_queue=stack.task_queue):
        yield


async def test_the_simulated_carrier_delivers_the_order(
    world: World, settings: Settings, temporal_client: Client
) -> None:
    task_queue = f"orders-sim-{uuid.uuid4().hex[:8]}"
    # Every event twice and now and then late, as real carriers send them.
    async with (
        carrier_stack(world, settings, temporal_client, task_queue, duplicates=True) as stack,
        in_process_worker(world, settings, temporal_client, stack),
    ):
        order_no, tracking_no = await world.shipped_order()
        assert tracking_no.startswith("SIM")
        order = await world.wait_for(order_no, "DELIVERED", timeout=60)
        done = await world.act(order_no, "confirm-delivery", as_="customer")
        assert done.status_code == 200, done.text

        carrier = await stack.shipment(tracking_no)
        assert carrier["order_no"] == order_no
        assert carrier["hand_over_calls"] == 1
        assert {e["status"] for e in carrier["events_posted"]} >= {"in_transit", "delivered"}

    order = done.json()
    assert order["status"] == "COMPLETED"
    # Duplicates are stored once, and the timeline reads in the order things happened.
    statuses = [event["status"] for event in order["shipment"]["events"]]
    assert sorted(statuses) == sorted(set(statuses))
    assert statuses[-1] == "delivered"
    times = [event["occurred_at"] for event in order["shipment"]["events"]]
    assert times == sorted(times)
    assert order["shipment"]["status"] == "delivered"


async def test_a_carrier_exception_holds_the_order_until_ops_resumes(
    world: World, settings: Settings, temporal_client: Client
) -> None:
    task_queue = f"orders-sim-{uuid.uuid4().hex[:8]}"
    async with (
        carrier_stack(world, settings, temporal_client, task_queue, exception_every=1) as stack,
        in_process_worker(world, settings, temporal_client, stack),
    ):
        order_no, _ = await world.shipped_order()
        held = await world.wait_for(order_no, "ON_HOLD", timeout=60)
        assert held["history"][-1]["actor"] == "carrier"
        assert held["history"][-1]["reason"] == "carrier exception: recipient not available"
        resumed = await world.act(
            order_no, "resume", as_="ops", json_body={"reason": "customer will be in"}
        )
        assert resumed.status_code == 200, resumed.text
        order = await world.wait_for(order_no, "DELIVERED", timeout=60)

    path = [h["to_status"] for h in order["history"]]
    assert path[-4:] == ["SHIPPED", "ON_HOLD", "SHIPPED", "DELIVERED"]
    assert "exception" in [event["status"] for event in order["shipment"]["events"]]


async def test_compensation_survives_a_worker_killed_mid_cancellation(
    world: World,
    settings: Settings,
    temporal_client: Client,
    worker_process: WorkerProcesses,
) -> None:
    """Cancelled after stock, production and the carrier were all engaged; the worker dies
    while the carrier is calling off the shipment. Each compensation still happens once, in
    the reverse order of what it undoes."""
    sku = await world.add_product(stock=4)
    # The carrier takes its time to call off a booking: long enough to kill the worker then.
    async with carrier_stack(
        world, settings, temporal_client, worker_process.task_queue, cancel_delay=4
    ) as stack:
        carrier_env = {"CARRIER": "simulator", "CARRIER_SIMULATOR_URL": stack.simulator_url}
        first = worker_process.start(**carrier_env)
        order_no = await world.new_order(lines=[{"sku": sku, "quantity": 6}])
        await world.approve_levels(order_no, ["sup"])
        order = await world.finish_production(order_no)
        tracking_no = order["shipment"]["tracking_no"]
        assert [(line["reserved_qty"], line["produce_qty"]) for line in order["lines"]] == [(4, 2)]

        cancelling = asyncio.create_task(
            world.act(order_no, "cancel", as_="sales", json_body={"reason": "order withdrawn"})
        )
        await eventually(lambda: stack.shipment(tracking_no), lambda s: s["cancel_calls"] >= 1)
        worker_process.kill(first)
        worker_process.start(**carrier_env)
        # The call answers within its bound either way: done, or 503 while the next worker
        # waits out the dead one's activity; the cancellation goes on regardless.
        response = await asyncio.wait_for(cancelling, timeout=30)
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            assert response.headers["Retry-After"]
        order = await world.wait_for(order_no, "CANCELLED", timeout=120)
        carrier = await stack.shipment(tracking_no)

    # The carrier was asked again by the retried activity, and called the booking off once.
    assert carrier["cancelled"] is True and carrier["status"] == "cancelled"
    assert carrier["cancel_calls"] == 2
    assert order["shipment"]["status"] == "cancelled"
    # Everything reserved (4 from stock, 2 made) released in one movement; the 2 made stay.
    releases = [m for m in order["stock_movements"] if m["kind"] == "release"]
    assert [(m["sku"], m["quantity"]) for m in releases] == [(sku, 6)]
    async with world.sessions() as session:
        product = (await session.scalars(select(Product).where(Product.sku == sku))).one()
    assert (product.stock_on_hand, product.stock_reserved) == (6, 0)
    assert await world.rows_for(StatusHistory, order_no) == len(order["history"])
    assert [h["to_status"] for h in order["history"]].count("CANCELLED") == 1

    completed = await completed_activities(temporal_client, order_no)
    compensations = [a for a in completed if a in COMPENSATIONS]
    assert compensations == ["cancel_shipment", "cancel_production", "release_stock"]


COMPENSATIONS = {"cancel_shipment", "cancel_production", "release_stock", "close_review"}


async def completed_activities(client: Client, order_no: str) -> list[str]:
    """The activities the order's workflow completed, in the order they completed."""
    history = await client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    scheduled: dict[int, str] = {}
    completed: list[str] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attributes = event.activity_task_completed_event_attributes
            completed.append(scheduled[attributes.scheduled_event_id])
    return completed
