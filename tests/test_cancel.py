"""Cancelling: allowed before shipping, undoes what the order set in motion, refused after."""

from __future__ import annotations

import httpx

from tests.factories import TWO_LEVEL_QTY, World


async def cancel(
    world: World, order_no: str, *, as_: str = "sales", reason: str = "customer withdrew"
) -> httpx.Response:
    return await world.act(order_no, "cancel", as_=as_, json_body={"reason": reason})


async def test_cancel_during_review_closes_the_open_levels(world: World) -> None:
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.approve_levels(order_no, ["sup"])
    response = await cancel(world, order_no)
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "CANCELLED"
    assert [level["status"] for level in order["review"]["levels"]] == ["approved", "cancelled"]
    last = order["history"][-1]
    assert (last["from_status"], last["to_status"]) == ("UNDER_REVIEW", "CANCELLED")
    assert (last["actor"], last["reason"]) == (world["sales"].username, "customer withdrew")
    # A cancelled order takes no more decisions.
    assert (await world.decide(order_no, as_="mgr")).status_code == 409


async def test_cancel_in_production_cancels_the_work_order(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")
    response = await cancel(world, order_no, as_="ops", reason="line stopped")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["production"]["status"] == "cancelled"
    # Shop-floor reports for a cancelled order are refused, not silently dropped.
    late = await world.report(order_no, "prepare", "started")
    assert late.status_code == 409


async def test_cancel_awaiting_shipment_calls_off_the_shipment(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    await world.finish_production(order_no)
    response = await cancel(world, order_no)
    assert response.status_code == 200, response.text
    assert response.json()["shipment"]["status"] == "cancelled"
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 409


async def test_cancel_an_order_on_hold(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")
    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": "quality check"})
    assert held.status_code == 200, held.text
    response = await cancel(world, order_no)
    assert response.status_code == 200, response.text
    assert response.json()["history"][-1]["from_status"] == "ON_HOLD"
    assert response.json()["status"] == "CANCELLED"


async def test_cancel_after_shipping_conflicts_and_changes_nothing(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    await world.finish_production(order_no)
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    response = await cancel(world, order_no)
    assert response.status_code == 409
    assert "SHIPPED" in response.json()["detail"]
    order = await world.order(order_no)
    assert order["status"] == "SHIPPED"
    assert order["history"][-1]["to_status"] == "SHIPPED"


async def test_cancel_needs_a_reason(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    response = await world.act(order_no, "cancel", as_="sales", json_body={})
    assert response.status_code == 422
    assert (await world.order(order_no))["status"] == "UNDER_REVIEW"
