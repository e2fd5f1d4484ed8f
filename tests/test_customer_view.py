"""The customer's view of its orders: status, lines, totals, shipment and tracking, and its own
confirmation, but nothing of how the order is handled inside; staff still see all of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.factories import TWO_LEVEL_QTY, World

API = "/api/v1"
CUSTOMER_ORDER_KEYS = {
    "order_no",
    "status",
    "status_label",
    "held_from",
    "customer_id",
    "total",
    "currency",
    "created_at",
    "requested_delivery_date",
    "archived_at",
    "lines",
    "shipment",
    "shipments",
    "partially_shipped",
    "backorder_cancelled_at",
    "history",
}
CUSTOMER_LINE_KEYS = {
    "line_no",
    "sku",
    "quantity",
    "unit_price",
    "amount",
    "promised_date",
    "shipped_qty",
    "delivered_qty",
}
CUSTOMER_TRANSITION_KEYS = {"from_status", "to_status", "actor", "at"}
APPROVAL_COMMENT = "margin is thin; approve only because of volume"
SHOP_FLOOR_NOTE = "spindle vibration on line, checked by QA"
HOLD_REASON = "customer on credit watch"


async def completed_order(world: World) -> tuple[str, dict[str, Any]]:
    """An order that went through two approvals with comments, an ops hold, production with a
    note, shipping and tracking, and was confirmed by its customer; and that confirmation's
    answer."""
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")
    for approver in ("sup", "mgr"):
        response = await world.decide(order_no, as_=approver, comment=APPROVAL_COMMENT)
        assert response.status_code == 200, response.text
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": HOLD_REASON})
    assert held.status_code == 200, held.text
    resumed = await world.act(order_no, "resume", as_="ops", json_body={"reason": "cleared"})
    assert resumed.status_code == 200, resumed.text
    first_step = order["production"]["steps"][0]["name"]
    noted = await world.report(order_no, first_step, "started", note=SHOP_FLOOR_NOTE)
    assert noted.status_code == 200, noted.text
    order = await world.finish_production(order_no)
    tracking_no = order["shipment"]["tracking_no"]
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    for status in ("in_transit", "delivered"):
        event = await world.carrier_event(tracking_no, status, occurred_at=datetime.now(UTC))
        assert event.status_code == 202, event.text
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    return order_no, confirmed.json()


def assert_nothing_internal(world: World, response: httpx.Response) -> None:
    """No name of anyone inside, no comment, note or reason in the whole answer."""
    for name in ("sales", "sup", "mgr", "ops", "prod", "log"):
        assert world[name].username not in response.text, name
    for secret in (APPROVAL_COMMENT, SHOP_FLOOR_NOTE, HOLD_REASON):
        assert secret not in response.text, secret


async def test_a_customer_sees_its_order_without_what_happens_inside(world: World) -> None:
    order_no, confirmation = await completed_order(world)
    customer = world["customer"]

    # Confirming answers with the customer's view already.
    assert set(confirmation) == CUSTOMER_ORDER_KEYS
    assert confirmation["status"] == "COMPLETED"

    response = await world.api.get(f"{API}/orders/{order_no}", headers=customer.headers)
    assert response.status_code == 200, response.text
    order = response.json()
    assert set(order) == CUSTOMER_ORDER_KEYS
    assert_nothing_internal(world, response)
    assert order["status_label"] == {"en": "Completed", "zh": "已完成"}
    assert order["total"] == "20000.00" and order["currency"] == "CNY"
    [line] = order["lines"]
    assert set(line) == CUSTOMER_LINE_KEYS
    assert (line["sku"], line["quantity"]) == (world.sku, TWO_LEVEL_QTY)
    assert [e["status"] for e in order["shipment"]["events"]] == ["in_transit", "delivered"]
    assert order["shipment"]["tracking_no"]
    # Each shipment says when its receipt was confirmed, not by whom.
    [shipment] = order["shipments"]
    assert shipment["confirmed_at"] and "confirmed_by" not in shipment

    history = order["history"]
    assert all(set(entry) == CUSTOMER_TRANSITION_KEYS for entry in history)
    assert ("IN_PRODUCTION", "ON_HOLD") in [(e["from_status"], e["to_status"]) for e in history]
    # Its own confirmation is named; every change made inside is not.
    assert history[-1]["to_status"] == "COMPLETED"
    assert history[-1]["actor"] == customer.username
    assert all(entry["actor"] is None for entry in history[:-1])

    own_history = await world.api.get(f"{API}/orders/{order_no}/history", headers=customer.headers)
    assert own_history.status_code == 200, own_history.text
    assert own_history.json()["data"] == history
    assert_nothing_internal(world, own_history)

    listed = await world.api.get(f"{API}/orders", headers=customer.headers)
    assert listed.status_code == 200, listed.text
    [summary] = listed.json()["data"]
    assert summary["order_no"] == order_no
    assert "created_by" not in summary
    assert_nothing_internal(world, listed)

    # Staff still see all of it.
    staff = await world.order(order_no, as_="ops")
    decisions = [d for level in staff["review"]["levels"] for d in level["decisions"]]
    assert {(d["by"], d["comment"]) for d in decisions} == {
        (world["sup"].username, APPROVAL_COMMENT),
        (world["mgr"].username, APPROVAL_COMMENT),
    }
    assert SHOP_FLOOR_NOTE in [record["note"] for record in staff["production_records"]]
    assert staff["stock_movements"]
    assert HOLD_REASON in [entry["reason"] for entry in staff["history"]]
    assert staff["created_by"] == world["sales"].username
    assert staff["lines"][0]["produce_qty"] == TWO_LEVEL_QTY
    staff_history = await world.api.get(
        f"{API}/orders/{order_no}/history", headers=world["ops"].headers
    )
    assert {"reason"} <= set(staff_history.json()["data"][0])
    staff_list = await world.api.get(
        f"{API}/orders", params={"customer_id": world.customer_id}, headers=world["ops"].headers
    )
    assert staff_list.json()["data"][0]["created_by"] == world["sales"].username


async def test_a_customer_sees_an_order_under_review_without_its_review(world: World) -> None:
    order_no = await world.new_order()
    staff = await world.wait_for(order_no, "UNDER_REVIEW")
    assert staff["review"]["levels"][0]["role"] == "supervisor"

    response = await world.api.get(f"{API}/orders/{order_no}", headers=world["customer"].headers)
    assert response.status_code == 200, response.text
    order = response.json()
    assert set(order) == CUSTOMER_ORDER_KEYS
    assert order["status"] == "UNDER_REVIEW"
    assert order["shipment"] is None
    assert "supervisor" not in response.text
    assert_nothing_internal(world, response)


async def test_openapi_documents_both_shapes(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert set(schemas["CustomerOrderPublic"]["properties"]) == CUSTOMER_ORDER_KEYS
    detail = document["paths"][f"{API}/orders/{{order_no}}"]["get"]
    shapes = detail["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert {shape["$ref"].rsplit("/", 1)[1] for shape in shapes} == {
        "OrderPublic",
        "CustomerOrderPublic",
    }
