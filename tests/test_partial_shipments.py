"""Per-line fulfilment: logistics ships what is ready, in shipments of their own, while the rest
is still being made (the backorder); each shipment is tracked, delivered and confirmed on its
own, and the order's status follows its lines. A cancellation after a partial shipment cancels
only the backorder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.factories import World, eventually
from tests.stock_helpers import ledger, stock_of
from tests.test_amendments import amend
from tests.test_auth import assert_error


async def two_line_order(
    world: World, *, from_stock: int = 4, made: int = 3, api: httpx.AsyncClient | None = None
) -> tuple[str, str, str]:
    """An approved order of two products: line 1 reserved from stock, line 2 to be made."""
    in_stock = await world.add_product(stock=10)
    to_make = await world.add_product(stock=0)
    order_no = await world.new_order(
        lines=[{"sku": in_stock, "quantity": from_stock}, {"sku": to_make, "quantity": made}],
        api=api,
    )
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")
    return order_no, in_stock, to_make


async def dispatch(
    world: World, order_no: str, lines: list[tuple[int, int]] | None = None
) -> httpx.Response:
    body = None if lines is None else {"lines": [{"line_no": n, "quantity": q} for n, q in lines]}
    return await world.act(order_no, "dispatch", as_="log", json_body=body)


def shipped(order: dict[str, Any]) -> list[tuple[int, int, int]]:
    """Each line as (line_no, shipped, delivered)."""
    return [(ln["line_no"], ln["shipped_qty"], ln["delivered_qty"]) for ln in order["lines"]]


def carried(shipment: dict[str, Any]) -> list[tuple[int, int]]:
    return [(part["line_no"], part["quantity"]) for part in shipment["lines"]]


async def inbox(world: World, order_no: str) -> list[dict[str, Any]]:
    """The customer's in-app "shipped" notifications of the order."""
    response = await world.api.get("/api/v1/notifications", headers=world["customer"].headers)
    assert response.status_code == 200, response.text
    return [
        n for n in response.json()["data"] if n["order_no"] == order_no and n["event"] == "shipped"
    ]


async def delivered(world: World, order_no: str, tracking_no: str) -> dict[str, Any]:
    response = await world.carrier_event(tracking_no, "delivered")
    assert response.status_code == 202, response.text
    return await eventually(
        lambda: world.order(order_no),
        lambda o: any(
            s["tracking_no"] == tracking_no and s["delivered_at"] for s in o["shipments"]
        ),
    )


async def test_ready_line_ships_while_the_backorder_is_made(world: World) -> None:
    order_no, in_stock, to_make = await two_line_order(world)
    order = await world.order(order_no)
    assert [(ln["state"], ln["ready_qty"]) for ln in order["lines"]] == [
        ("ready", 4),
        ("in_production", 0),
    ]

    first = await dispatch(world, order_no, [(1, 4)])

    assert first.status_code == 200, first.text
    order = first.json()
    assert order["status"] == "IN_PRODUCTION" and order["partially_shipped"] is True
    [one] = order["shipments"]
    assert (one["seq"], carried(one), one["status"]) == (1, [(1, 4)], "shipped")
    assert order["shipment"]["tracking_no"] == one["tracking_no"]
    assert shipped(order) == [(1, 4, 0), (2, 0, 0)]
    assert [ln["state"] for ln in order["lines"]] == ["shipped", "in_production"]
    # The customer hears of the part that left, and that the rest follows.
    told = await eventually(
        lambda: inbox(world, order_no), lambda notices: bool(notices), timeout=20
    )
    assert one["tracking_no"] in told[0]["subject"] and "the rest follows" in told[0]["subject"]
    # A line that shipped is not amended below what shipped, nor removed.
    reduced = await amend(
        world, order_no, {"reason": "less", "change_lines": [{"line_no": 1, "quantity": 3}]}
    )
    assert_error(reduced, 409, "Conflict")
    removed = await amend(world, order_no, {"reason": "drop", "remove_lines": [1]})
    assert_error(removed, 409, "Conflict")

    # The first shipment is delivered and confirmed while the backorder is being made.
    order = await delivered(world, order_no, one["tracking_no"])
    assert order["status"] == "IN_PRODUCTION"
    assert shipped(order) == [(1, 4, 4), (2, 0, 0)]
    confirmed = await world.act(
        order_no, "confirm-delivery", as_="customer", json_body={"shipment": one["tracking_no"]}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "IN_PRODUCTION"
    assert confirmed.json()["shipments"][0]["confirmed_at"] is not None

    # Made: the backorder is booked and ships on its own tracking number.
    order = await world.finish_production(order_no)
    assert order["shipment"]["status"] == "booked"
    second = await dispatch(world, order_no)
    assert second.status_code == 200, second.text
    order = second.json()
    assert order["status"] == "SHIPPED" and order["partially_shipped"] is False
    assert [carried(s) for s in order["shipments"]] == [[(1, 4)], [(2, 3)]]
    two = order["shipments"][1]
    assert two["tracking_no"] != one["tracking_no"]

    await delivered(world, order_no, two["tracking_no"])
    order = await world.wait_for(order_no, "DELIVERED")
    assert shipped(order) == [(1, 4, 4), (2, 3, 3)]
    done = await world.act(order_no, "confirm-delivery", as_="customer")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "COMPLETED"
    assert all(s["confirmed_at"] for s in done.json()["shipments"])
    assert [h["to_status"] for h in done.json()["history"]][-4:] == [
        "AWAITING_SHIPMENT",
        "SHIPPED",
        "DELIVERED",
        "COMPLETED",
    ]
    # Each unit left stock once, per shipment.
    # One notice per part, and the order's own once it all shipped.
    await eventually(lambda: inbox(world, order_no), lambda notices: len(notices) == 2)
    assert await stock_of(world, in_stock) == (6, 0, 6)
    assert await stock_of(world, to_make) == (0, 0, 0)
    assert (await ledger(world, in_stock))["balanced"]
    assert (await ledger(world, to_make))["balanced"]


async def test_cancelling_after_a_partial_shipment_cancels_the_backorder(world: World) -> None:
    order_no, in_stock, to_make = await two_line_order(world, from_stock=6)
    first = await dispatch(world, order_no, [(1, 4)])
    assert first.status_code == 200, first.text
    tracking_no = first.json()["shipment"]["tracking_no"]

    response = await world.act(
        order_no, "cancel", as_="sales", json_body={"reason": "customer needs no more"}
    )

    assert response.status_code == 200, response.text
    order = response.json()
    # What shipped stays shipped and goes on to delivery; the rest is released.
    assert order["status"] == "SHIPPED"
    assert order["backorder_cancelled_at"] is not None
    # By the design's transitions: out of production, then shipped with what shipped.
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in order["history"]][-2:] == [
        ("IN_PRODUCTION", "AWAITING_SHIPMENT", "backorder cancelled: customer needs no more"),
        ("AWAITING_SHIPMENT", "SHIPPED", "every line shipped"),
    ]
    assert [ln["state"] for ln in order["lines"]] == ["shipped", "backorder_cancelled"]
    assert [wo["status"] for wo in order["production"]["work_orders"]] == ["cancelled"]
    assert [s["status"] for s in order["shipments"]] == ["shipped"]
    releases = [
        (m["sku"], m["quantity"]) for m in order["stock_movements"] if m["kind"] == "release"
    ]
    assert releases == [(in_stock, 2)]
    assert await stock_of(world, in_stock) == (6, 0, 6)
    assert (await ledger(world, in_stock))["balanced"]
    assert (await ledger(world, to_make))["balanced"]
    again = await world.act(order_no, "cancel", as_="sales", json_body={"reason": "again"})
    assert_error(again, 409, "Conflict")
    assert_error(await dispatch(world, order_no), 409, "Conflict")

    await delivered(world, order_no, tracking_no)
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "COMPLETED"
    order = await world.order(order_no)
    assert [m["kind"] for m in order["stock_movements"]].count("release") == 1


async def test_each_shipment_is_confirmed_automatically(world: World, api_with: Any) -> None:
    async with api_with(auto_confirm_after=timedelta(seconds=2)) as fast_api:
        order_no, _, _ = await two_line_order(world, api=fast_api)

    first = await dispatch(world, order_no, [(1, 4)])
    assert first.status_code == 200, first.text
    await delivered(world, order_no, first.json()["shipment"]["tracking_no"])
    # Confirmed by itself after its own delivery, while the backorder is still being made.
    order = await eventually(
        lambda: world.order(order_no), lambda o: o["shipments"][0]["confirmed_at"] is not None
    )
    assert order["shipments"][0]["confirmed_by"] == "system"
    assert order["status"] == "IN_PRODUCTION"

    booked = await world.finish_production(order_no)
    second = await dispatch(world, order_no)
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "SHIPPED"
    # The backorder went out in the shipment booked when it was ready.
    assert second.json()["shipment"]["tracking_no"] == booked["shipment"]["tracking_no"]
    await delivered(world, order_no, booked["shipment"]["tracking_no"])
    order = await world.wait_for(order_no, "COMPLETED", timeout=20)
    assert order["history"][-1]["actor"] == "system"
    assert "auto-confirmed" in order["history"][-1]["reason"]
    assert [s["confirmed_by"] for s in order["shipments"]] == ["system", "system"]


async def test_dispatching_what_is_not_ready_is_refused(world: World) -> None:
    order_no, _, _ = await two_line_order(world)
    refusals = [
        [(1, 5)],  # more than line 1 has ready
        [(2, 1)],  # line 2 is still being made
        [(9, 1)],  # no such line
        [(1, 1), (1, 1)],  # a line named twice
    ]
    for lines in refusals:
        assert_error(await dispatch(world, order_no, lines), 422, "ValidationError")
    assert (await dispatch(world, order_no, [(1, 3)])).status_code == 200
    # One unit of line 1 is left to ship: two are more than that.
    assert_error(await dispatch(world, order_no, [(1, 2)]), 422, "ValidationError")
    order = await world.order(order_no)
    assert shipped(order) == [(1, 3, 0), (2, 0, 0)]
    assert len(order["shipments"]) == 1


async def test_hostile_dispatch_and_confirmation_bodies_are_refused(world: World) -> None:
    order_no, _, _ = await two_line_order(world)
    hostile_dispatches: list[Any] = [
        {"lines": [{"line_no": 1, "quantity": 2**63}]},
        {"lines": [{"line_no": 2**40, "quantity": 1}]},
        {"lines": [{"line_no": 1, "quantity": 0}]},
        {"lines": [{"line_no": 1, "quantity": -3}]},
        {"lines": [{"line_no": 1, "quantity": "2"}]},
        {"lines": [{"line_no": 1, "quantity": 1.5}]},
        {"lines": [{"line_no": 1, "quantity": 1, "sku": "X"}]},
        {"lines": []},
        {"lines": None, "reason": "bad\x00reason"},
        {"lines": [{"line_no": 1, "quantity": 1}], "carrier": "other"},
        [1, 2],
    ]
    for body in hostile_dispatches:
        response = await world.act(order_no, "dispatch", as_="log", json_body=body)
        assert response.status_code == 422, (body, response.text)
        assert set(response.json()) == {"error", "detail"}
    hostile_confirmations: list[Any] = [
        {"shipment": "BC\x00"},
        {"shipment": "x" * 65},
        {"shipment": 7},
        {"shipment": "NO-SUCH-SHIPMENT"},
    ]
    for body in hostile_confirmations:
        response = await world.act(order_no, "confirm-delivery", as_="sales", json_body=body)
        assert response.status_code == 422, (body, response.text)
    order = await world.order(order_no)
    assert order["shipments"] == [] and order["status"] == "IN_PRODUCTION"


async def test_a_shipped_line_takes_more_units_by_amendment(world: World) -> None:
    """Changing what has not shipped is allowed: a line that shipped in full takes more units,
    which are reserved and ship in a shipment of their own."""
    order_no, in_stock, _ = await two_line_order(world)
    assert (await dispatch(world, order_no, [(1, 4)])).status_code == 200

    amended = await amend(
        world, order_no, {"reason": "two more", "change_lines": [{"line_no": 1, "quantity": 6}]}
    )

    assert amended.status_code == 200, amended.text
    order = amended.json()
    assert order["status"] == "IN_PRODUCTION"
    line = order["lines"][0]
    assert (line["quantity"], line["ready_qty"], line["shipped_qty"]) == (6, 6, 4)
    assert line["state"] == "partially_shipped"
    more = await dispatch(world, order_no, [(1, 2)])
    assert more.status_code == 200, more.text
    assert [carried(s) for s in more.json()["shipments"]] == [[(1, 4)], [(1, 2)]]
    assert await stock_of(world, in_stock) == (4, 0, 4)
    assert (await ledger(world, in_stock))["balanced"]


async def test_cancelling_a_held_order_after_a_partial_shipment(world: World) -> None:
    order_no, _, _ = await two_line_order(world)
    assert (await dispatch(world, order_no, [(1, 2)])).status_code == 200
    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": "customer call"})
    assert held.status_code == 200, held.text

    response = await world.act(order_no, "cancel", as_="ops", json_body={"reason": "no more"})

    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "SHIPPED" and order["held_from"] is None
    assert [(h["from_status"], h["to_status"]) for h in order["history"]][-3:] == [
        ("ON_HOLD", "IN_PRODUCTION"),
        ("IN_PRODUCTION", "AWAITING_SHIPMENT"),
        ("AWAITING_SHIPMENT", "SHIPPED"),
    ]
    # Line 1 shipped 2 of 4: it is due what shipped; line 2 shipped nothing.
    assert [ln["state"] for ln in order["lines"]] == ["shipped", "backorder_cancelled"]
