"""Amending an order after approval, until it is dispatched: stock and work orders follow the
amended lines (each unit moved once, the ledger balanced), and a change its approvals no longer
cover takes it back under review; rejected then, what its fulfilment held is released."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.factories import ONE_LEVEL_QTY, TWO_LEVEL_QTY, World, eventually
from tests.stock_helpers import ledger, stock_of
from tests.test_amendments import amend
from tests.test_auth import assert_error
from tests.test_promise_dates import from_plan, inbox, promise_history


def work_orders(order: dict[str, Any]) -> list[tuple[int, str]]:
    """Each work order as (quantity, status), in booking order."""
    return [(wo["quantity"], wo["status"]) for wo in order["production"]["work_orders"]]


async def quantity(
    world: World, order_no: str, units: int, reason: str = "changed"
) -> dict[str, Any]:
    response = await amend(
        world, order_no, {"reason": reason, "change_lines": [{"line_no": 1, "quantity": units}]}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def complete(world: World, order_no: str) -> dict[str, Any]:
    """Dispatch, deliver and confirm: the order as it ends."""
    order = await world.wait_for(order_no, "AWAITING_SHIPMENT")
    shipped = await world.act(order_no, "dispatch", as_="log")
    assert shipped.status_code == 200, shipped.text
    delivered = await world.carrier_event(order["shipment"]["tracking_no"], "delivered")
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    return await world.wait_for(order_no, "COMPLETED")


async def test_fewer_units_awaiting_shipment_release_the_rest_to_stock(world: World) -> None:
    sku = await world.add_product(stock=20)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 5}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "AWAITING_SHIPMENT")

    order = await quantity(world, order_no, 3)

    assert order["status"] == "AWAITING_SHIPMENT"
    assert await stock_of(world, sku) == (20, 3, 17)
    await complete(world, order_no)
    assert await stock_of(world, sku) == (17, 0, 17)
    assert (await ledger(world, sku))["balanced"]


async def test_more_units_than_stock_go_back_to_production(world: World) -> None:
    sku = await world.add_product(stock=5)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 5}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "AWAITING_SHIPMENT")

    order = await quantity(world, order_no, 8)

    assert order["status"] == "IN_PRODUCTION"
    assert work_orders(order) == [(3, "open")]
    assert order["lines"][0]["reserved_qty"] == 5 and order["lines"][0]["produce_qty"] == 3
    await world.finish_production(order_no)
    await complete(world, order_no)
    assert await stock_of(world, sku) == (0, 0, 0)
    assert (await ledger(world, sku))["balanced"]


async def test_fewer_units_in_production_replan_the_work_orders(world: World) -> None:
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    [first] = order["production"]["work_orders"]
    started = await world.report(
        order_no, first["steps"][0]["name"], "started", work_order_no=first["work_order_no"]
    )
    assert started.status_code == 200, started.text

    order = await quantity(world, order_no, ONE_LEVEL_QTY // 2)

    # The booked work order makes more than the order needs now: it is cancelled (what it
    # did stays on its steps) and the amended quantity is booked anew.
    assert work_orders(order) == [(ONE_LEVEL_QTY, "cancelled"), (ONE_LEVEL_QTY // 2, "open")]
    assert order["production"]["work_orders"][0]["steps"][0]["status"] == "started"
    await world.finish_production(order_no)
    done = await complete(world, order_no)
    assert [line["quantity"] for line in done["lines"]] == [ONE_LEVEL_QTY // 2]
    assert await stock_of(world, world.sku) == (0, 0, 0)
    assert (await ledger(world, world.sku))["balanced"]


async def test_raising_an_approved_order_past_its_band_reviews_it_again(world: World) -> None:
    """The amendment ERPs let through unapproved: an approved order raised above its limit."""
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")

    order = await quantity(world, order_no, TWO_LEVEL_QTY, "framework deal")

    assert order["status"] == "UNDER_REVIEW"
    assert [(lv["role"], lv["status"]) for lv in order["review"]["levels"]] == [
        ("supervisor", "pending"),
        ("manager", "waiting"),
    ]
    assert order["history"][-1]["reason"] == (
        "amendment 1 (version 2) re-opens the review at level 1 (supervisor)"
    )
    # What the order needs more is booked at once; the shop floor waits for the review.
    assert work_orders(order) == [(ONE_LEVEL_QTY, "open"), (TWO_LEVEL_QTY - ONE_LEVEL_QTY, "open")]
    booked = order["production"]["work_orders"][0]
    refused = await world.report(
        order_no, booked["steps"][0]["name"], "started", work_order_no=booked["work_order_no"]
    )
    assert_error(refused, 409, "Conflict")
    for approver in ("sup", "mgr"):
        decided = await world.decide(order_no, as_=approver)
        assert decided.status_code == 200, decided.text
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    assert work_orders(order) == [(ONE_LEVEL_QTY, "open"), (TWO_LEVEL_QTY - ONE_LEVEL_QTY, "open")]
    await world.finish_production(order_no)
    await complete(world, order_no)
    assert (await ledger(world, world.sku))["balanced"]


async def test_a_rejected_re_review_releases_what_fulfilment_held(world: World) -> None:
    sku = await world.add_product(stock=20)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 5}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "AWAITING_SHIPMENT")

    order = await quantity(world, order_no, TWO_LEVEL_QTY)
    assert order["status"] == "UNDER_REVIEW"
    assert work_orders(order) == [(TWO_LEVEL_QTY - 20, "open")]
    rejected = await world.decide(order_no, as_="sup", decision="reject", comment="too many")
    assert rejected.status_code == 200, rejected.text

    await world.wait_for(order_no, "REJECTED")
    # What the order held goes back once it is rejected.
    await eventually(lambda: stock_of(world, sku), lambda stock: stock == (20, 0, 20))
    order = await eventually(
        lambda: world.order(order_no), lambda o: work_orders(o)[0][1] == "cancelled"
    )
    assert work_orders(order) == [(TWO_LEVEL_QTY - 20, "cancelled")]
    assert (await ledger(world, sku))["balanced"]


async def test_an_amendment_that_needs_production_moves_the_promise(world: World) -> None:
    """Served from stock, the order was promised soon; three more units on a slow line
    (30 hours) cannot make that day, and the customer hears the old and the new date."""
    slow_line = await world.add_line("0.1")
    sku = await world.add_product(stock=5, lines=[slow_line])
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 5}])
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "AWAITING_SHIPMENT")
    promised = order["lines"][0]["promised_date"]

    order = await quantity(world, order_no, 8)

    [booked] = order["production"]["work_orders"]
    moved = from_plan(world, booked["planned_finish"]).isoformat()
    assert moved > promised
    assert order["lines"][0]["promised_date"] == moved
    [notice] = [
        n for n in await inbox(world, "customer", order_no) if n["event"] == "promise_changed"
    ]
    assert f"from {promised} to {moved}" in notice["body"]
    assert await promise_history(world, order_no) == [
        (1, None, date.fromisoformat(promised), "approval"),
        (1, date.fromisoformat(promised), date.fromisoformat(moved), "amendment-v2"),
    ]
