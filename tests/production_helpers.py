"""Helpers of the production tests: reading planned times, an order with its work orders
booked, the workflow's current details, and the API's refusals."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from temporalio.client import Client

from tests.factories import World
from workflows.messages import workflow_id_for

MINUTE = timedelta(minutes=1)


def at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def lasts(start: str | None, finish: str | None, expected: timedelta) -> bool:
    """Whether a planned window is ``expected`` long, give or take a second of rounding."""
    return abs((at(finish) - at(start)) - expected) <= timedelta(seconds=1)


async def order_in_production(
    world: World, quantity: int = 10, *, sku: str | None = None
) -> dict[str, Any]:
    """An order of ``quantity`` units, approved and with its work orders booked."""
    order_no = await world.new_order(
        quantity, lines=[{"sku": sku or world.sku, "quantity": quantity}]
    )
    await world.approve_levels(order_no, ["sup"])
    return await world.wait_for(order_no, "IN_PRODUCTION")


async def current_details(temporal_client: Client, order_no: str) -> str:
    """The markdown the Temporal UI shows for the order's workflow."""
    handle = temporal_client.get_workflow_handle(workflow_id_for(order_no))
    metadata = await handle.query("__temporal_workflow_metadata")
    details: str = metadata.current_details
    return details


def refusal(response: httpx.Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    detail: str = body["detail"]
    return detail
