"""Validation of a new order: customer, products, prices and credit, every problem listed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio.client import Client

from activities.carriers import BuiltinCarrier
from config import Settings
from tests.factories import World
from worker import build_worker, worker_activities
from workflows import search_attributes as sa
from workflows.messages import workflow_id_for

ORDERS = "/api/v1/orders"


def reasons_text(order: dict[str, Any]) -> str:
    return " | ".join(order["rejection_reasons"])


async def test_every_reason_is_listed_when_validation_fails(
    world: World, temporal_client: Client
) -> None:
    customer_id = await world.add_customer(credit_limit="500", active=False)
    retired_sku = await world.add_product(active=False)
    unknown_sku = f"NO-SUCH-{world.tag}".upper()
    order_no = await world.new_order(
        customer_id=customer_id,
        lines=[
            {"sku": world.sku, "quantity": 10},  # 1,000.00 against a 500.00 credit limit
            {"sku": unknown_sku, "quantity": 1},
            {"sku": retired_sku, "quantity": 1},
        ],
    )

    order = await world.wait_for(order_no, "REJECTED")
    reasons: list[str] = order["rejection_reasons"]
    assert len(reasons) == 4, reasons
    assert any("inactive" in r for r in reasons), reasons
    assert any(unknown_sku in r and "unknown" in r.lower() for r in reasons), reasons
    assert any(retired_sku in r for r in reasons), reasons
    assert any("credit" in r and "500" in r for r in reasons), reasons
    assert order["status_label"] == {"en": "Rejected", "zh": "已驳回"}
    assert order["review"] is None
    assert order["production"] is None
    assert order["shipment"] is None

    assert [(h["from_status"], h["to_status"]) for h in order["history"]] == [
        (None, "CREATED"),
        ("CREATED", "REJECTED"),
    ]
    last = order["history"][-1]
    assert last["actor"] == "system"
    for reason in reasons:
        assert reason in last["reason"], last

    history = await world.api.get(f"{ORDERS}/{order_no}/history", headers=world["sales"].headers)
    assert history.status_code == 200, history.text
    assert history.json()["data"][-1]["reason"] == last["reason"]

    described = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).describe()
    assert described.typed_search_attributes.get(sa.ORDER_STATUS) == "REJECTED"
    assert described.typed_search_attributes.get(sa.CUSTOMER_ID) == str(customer_id)

    # A rejected order takes no decisions.
    decided = await world.decide(order_no, as_="sup")
    assert decided.status_code == 409, decided.text


async def test_an_inactive_customer_alone_is_enough_to_reject(world: World) -> None:
    customer_id = await world.add_customer(active=False)
    order_no = await world.new_order(customer_id=customer_id)
    order = await world.wait_for(order_no, "REJECTED")
    [reason] = order["rejection_reasons"]
    assert "inactive" in reason
    assert order["history"][-1]["reason"] == reason


async def test_price_above_the_list_is_rejected_naming_the_list_price(world: World) -> None:
    """Below the list price is a discount for review to weigh; above it is a mistake."""
    order_no = await world.new_order(
        lines=[{"sku": world.sku, "quantity": 3, "unit_price": "110.00"}]
    )
    order = await world.wait_for(order_no, "REJECTED")
    [reason] = order["rejection_reasons"]
    assert world.sku in reason
    assert "110.00" in reason
    assert "100.00" in reason
    assert reason in order["history"][-1]["reason"]
    assert order["review"] is None


async def test_missing_unit_price_takes_the_price_list_price(world: World) -> None:
    second_sku = await world.add_product(price=Decimal("12.50"))
    response = await world.create_order(
        lines=[
            {"sku": world.sku, "quantity": 7},
            {"sku": second_sku, "quantity": 4, "unit_price": "12.50"},
        ]
    )
    assert response.status_code == 201, response.text
    order_no = response.json()["order_no"]

    order = await world.wait_for(order_no, "UNDER_REVIEW")
    assert order["rejection_reasons"] == []
    assert [(line["sku"], line["unit_price"], line["amount"]) for line in order["lines"]] == [
        (world.sku, "100.00", "700.00"),
        (second_sku, "12.50", "50.00"),
    ]
    assert order["total"] == "750.00"
    assert order["currency"] == "CNY"
    assert [level["role"] for level in order["review"]["levels"]] == ["supervisor"]


async def test_open_orders_draw_on_the_credit_limit(world: World) -> None:
    customer_id = await world.add_customer(credit_limit="1500")
    first = await world.new_order(10, customer_id=customer_id)  # 1,000.00
    passed = await world.wait_for(first, "UNDER_REVIEW")
    assert passed["rejection_reasons"] == []

    second = await world.new_order(10, customer_id=customer_id)  # another 1,000.00
    rejected = await world.wait_for(second, "REJECTED")
    [reason] = rejected["rejection_reasons"]
    assert "credit" in reason
    assert "500" in reason  # what is left of the 1,500.00 limit
    assert rejected["total"] == "1000.00"
    assert rejected["review"] is None

    # The first order is untouched by the second one's rejection.
    assert (await world.order(first))["status"] == "UNDER_REVIEW"


async def test_an_order_for_a_customer_that_does_not_exist_is_refused(world: World) -> None:
    missing_customer = 2_000_000_000
    newest_before = await world.api.get(ORDERS, params={"limit": 1}, headers=world["ops"].headers)
    assert newest_before.status_code == 200

    response = await world.create_order(customer_id=missing_customer)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "ValidationError"
    assert str(missing_customer) in str(body["detail"])

    assert await world.order_nos(missing_customer) == []
    newest_after = await world.api.get(ORDERS, params={"limit": 1}, headers=world["ops"].headers)
    assert newest_after.json()["data"] == newest_before.json()["data"]


async def test_entering_an_order_answers_once_it_is_validated(world: World) -> None:
    """Sales learns at once whether the order went to review, at which levels, or why not."""
    entered = await world.create_order(200)
    assert entered.status_code == 201, entered.text
    order = entered.json()
    assert order["status"] == "UNDER_REVIEW"
    assert [(level["role"], level["status"]) for level in order["review"]["levels"]] == [
        ("supervisor", "pending"),
        ("manager", "waiting"),
    ]
    assert order["total"] == "20000.00"

    poor = await world.add_customer(credit_limit="500")
    refused = await world.create_order(10, customer_id=poor)
    assert refused.status_code == 201, refused.text
    assert refused.json()["status"] == "REJECTED"
    assert "credit" in reasons_text(refused.json())


async def test_an_order_entered_while_no_worker_runs_is_kept_and_validated_later(
    world: World, api_with: Any, settings: Settings, temporal_client: Client
) -> None:
    queue = f"orders-nobody-{uuid.uuid4().hex[:8]}"
    async with api_with(task_queue=queue, entry_wait=timedelta(seconds=0.5)) as idle_api:
        entered = await world.create_order(api=idle_api)
    assert entered.status_code == 201, entered.text
    order = entered.json()
    assert order["status"] == "CREATED"
    assert [h["to_status"] for h in order["history"]] == ["CREATED"]

    # Once a worker polls the queue the order goes on, with no one asking again.
    activities = worker_activities(world.sessions, BuiltinCarrier(), settings)
    async with build_worker(temporal_client, settings, activities, task_queue=queue):
        await world.wait_for(order["order_no"], "UNDER_REVIEW")
