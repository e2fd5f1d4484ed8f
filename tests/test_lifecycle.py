"""The whole life of an order, driven through the HTTP API as the people involved would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client

from tests.factories import ONE_LEVEL_QTY, THREE_LEVEL_QTY, TWO_LEVEL_QTY, World
from workflows import search_attributes as sa
from workflows.messages import workflow_id_for

HAPPY_PATH = [
    (None, "CREATED"),
    ("CREATED", "UNDER_REVIEW"),
    ("UNDER_REVIEW", "APPROVED"),
    ("APPROVED", "IN_PRODUCTION"),
    ("IN_PRODUCTION", "AWAITING_SHIPMENT"),
    ("AWAITING_SHIPMENT", "SHIPPED"),
    ("SHIPPED", "DELIVERED"),
    ("DELIVERED", "COMPLETED"),
]


async def ship_and_deliver(world: World, order_no: str) -> dict[str, Any]:
    order = await world.finish_production(order_no)
    tracking_no = order["shipment"]["tracking_no"]
    shipped = await world.act(order_no, "dispatch", as_="log")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "SHIPPED"
    now = datetime.now(UTC)
    assert (
        await world.carrier_event(tracking_no, "in_transit", occurred_at=now)
    ).status_code == 202
    delivered = await world.carrier_event(
        tracking_no, "delivered", location="Acme dock 3", occurred_at=now + timedelta(hours=5)
    )
    assert delivered.status_code == 202, delivered.text
    return await world.wait_for(order_no, "DELIVERED")


@pytest.mark.parametrize(
    ("quantity", "approvers"),
    [
        (ONE_LEVEL_QTY, ["sup"]),
        (TWO_LEVEL_QTY, ["sup", "mgr"]),
        (THREE_LEVEL_QTY, ["sup", "mgr", "dir"]),
    ],
    ids=["1-level", "2-level", "3-level"],
)
async def test_order_goes_through_every_status(
    world: World, temporal_client: Client, quantity: int, approvers: list[str]
) -> None:
    order_no = await world.new_order(quantity)

    reviewed = await world.approve_levels(order_no, approvers)
    assert [level["status"] for level in reviewed["review"]["levels"]] == ["approved"] * len(
        approvers
    )
    assert [level["decisions"][0]["by"] for level in reviewed["review"]["levels"]] == [
        world[a].username for a in approvers
    ]

    await ship_and_deliver(world, order_no)
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    # The customer is answered with its own view; staff read the whole order.
    assert confirmed.json()["status"] == "COMPLETED"
    order = await world.order(order_no)

    assert order["status"] == "COMPLETED"
    assert order["status_label"] == {"en": "Completed", "zh": "已完成"}
    assert order["total"] == f"{quantity * 100}.00"
    assert [(h["from_status"], h["to_status"]) for h in order["history"]] == HAPPY_PATH
    assert order["history"][-1]["actor"] == world["customer"].username
    assert order["history"][5]["actor"] == world["log"].username
    assert all(step["status"] == "completed" for step in order["production"]["steps"])
    assert order["shipment"]["status"] == "delivered"
    assert [e["status"] for e in order["shipment"]["events"]] == ["in_transit", "delivered"]

    history = await world.api.get(
        f"/api/v1/orders/{order_no}/history", headers=world["customer"].headers
    )
    assert history.status_code == 200
    assert [h["to_status"] for h in history.json()["data"]] == [to for _, to in HAPPY_PATH]

    described = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).describe()
    attributes = described.typed_search_attributes
    assert attributes.get(sa.ORDER_STATUS) == "COMPLETED"
    assert attributes.get(sa.CUSTOMER_ID) == str(world.customer_id)
    assert attributes.get(sa.ORDER_TOTAL) == quantity * 100
    assert attributes.get(sa.REVIEW_LEVEL) == len(approvers)
    assert attributes.get(sa.ESCALATED) is False
    summary = await described.static_summary()
    assert summary is not None and order_no in summary


async def test_search_attributes_follow_the_order_while_it_runs(
    world: World, temporal_client: Client
) -> None:
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.approve_levels(order_no, ["sup"])
    handle = temporal_client.get_workflow_handle(workflow_id_for(order_no))
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.ORDER_STATUS) == "UNDER_REVIEW"
    assert described.typed_search_attributes.get(sa.REVIEW_LEVEL) == 2
    # What the Temporal UI shows as the workflow's current details.
    metadata = await handle.query("__temporal_workflow_metadata")
    assert "manager approval, level 2 of 2" in metadata.current_details


async def test_delivered_order_is_confirmed_automatically(world: World, api_with: Any) -> None:
    async with api_with(auto_confirm_after=timedelta(seconds=2)) as fast_api:
        order_no = await world.new_order(api=fast_api)
    await world.approve_levels(order_no, ["sup"])
    await ship_and_deliver(world, order_no)
    order = await world.wait_for(order_no, "COMPLETED", timeout=20)
    assert order["history"][-1]["actor"] == "system"
    assert "auto-confirmed" in order["history"][-1]["reason"]
