"""Stock: reserved on approval, made when short, shipped and released exactly once.

What a planner sees in ``GET /products`` and on each order must add up: on-hand, reserved and
available move only by the order's stock movements, and never oversell.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from db.models import Order, StockMovement
from tests.factories import World
from tests.stock_helpers import (
    approved,
    assert_rebuilt_from_movements,
    cancel,
    moved,
    movement_rows,
    product_row,
    stock_of,
)

# Thirty workflows share two CPU cores with the rest of the run.
CROWD_TIMEOUT = 120


# ---------------------------------------------------------------------------- helpers


def allocated(order: dict[str, Any]) -> bool:
    """Every line is split into reserved and to-be-made units."""
    return all(
        line["reserved_qty"] + line["produce_qty"] == line["quantity"] for line in order["lines"]
    )


async def wait_all(
    world: World,
    order_nos: list[str],
    ready: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = CROWD_TIMEOUT,
) -> dict[str, dict[str, Any]]:
    """Poll many orders one after another until each is ``ready``; fail naming the laggards.

    Polling in turn, not all at once, leaves the cores to the workflows being waited for.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    done: dict[str, dict[str, Any]] = {}
    while True:
        for order_no in order_nos:
            if order_no not in done:
                order = await world.order(order_no)
                if ready(order):
                    done[order_no] = order
        if len(done) == len(order_nos):
            return done
        if asyncio.get_running_loop().time() > deadline:
            stuck = {no: (await world.order(no))["status"] for no in order_nos if no not in done}
            raise AssertionError(f"never ready: {stuck}")
        await asyncio.sleep(0.5)


async def finish_work_order(world: World, order_no: str, work_order: dict[str, Any]) -> None:
    """Start and complete every step of one work order with no scrap."""
    extra = {"work_order_no": work_order["work_order_no"]}
    for step in work_order["steps"]:
        for event in ("started", "completed"):
            response = await world.report(order_no, step["name"], event, **extra)
            assert response.status_code == 200, response.text


# ---------------------------------------------------------------------------- reservation


async def test_thirty_orders_for_ten_units_reserve_exactly_ten(world: World) -> None:
    sku = await world.add_product(stock=10)
    line = [{"sku": sku, "quantity": 1}]

    created = await asyncio.gather(*(world.create_order(lines=line) for _ in range(30)))
    assert [r.status_code for r in created] == [201] * 30, [r.text for r in created]
    order_nos = [r.json()["order_no"] for r in created]
    await wait_all(world, order_nos, lambda o: o["status"] == "UNDER_REVIEW")

    # One supervisor approves all thirty at once: one level of each order.
    decided = await asyncio.gather(*(world.decide(no, as_="sup") for no in order_nos))
    assert [r.status_code for r in decided] == [200] * 30, [r.text for r in decided]

    orders = await wait_all(world, order_nos, allocated)
    covered = [no for no, o in orders.items() if o["lines"][0]["reserved_qty"] == 1]
    short = [no for no, o in orders.items() if o["lines"][0]["produce_qty"] == 1]
    assert (len(covered), len(short)) == (10, 20)
    assert sum(o["lines"][0]["reserved_qty"] for o in orders.values()) == 10

    assert await stock_of(world, sku) == (10, 10, 0)

    # Covered orders skip production; the others each get a work order for their one unit.
    shipping = await wait_all(world, covered, lambda o: o["status"] == "AWAITING_SHIPMENT")
    assert all(o["production"] is None for o in shipping.values())
    assert all(moved(o, "reserve") == [(sku, 1)] for o in shipping.values())
    making = await wait_all(world, short, lambda o: o["status"] == "IN_PRODUCTION")
    for order in making.values():
        [work_order] = order["production"]["work_orders"]
        assert (work_order["sku"], work_order["quantity"]) == (sku, 1)
        assert moved(order, "reserve") == []

    rows = await movement_rows(world, sku)
    assert [(r.kind, r.quantity) for r in rows] == [("opening", 10)] + [("reserve", 1)] * 10
    async with world.sessions() as session:
        holders = await session.scalars(
            select(Order.order_no)
            .join(StockMovement, StockMovement.order_id == Order.id)
            .where(StockMovement.sku == sku)
        )
        assert sorted(holders) == sorted(covered)
    product = await product_row(world, sku)
    assert (product.stock_on_hand, product.stock_reserved) == (10, 10)
    await assert_rebuilt_from_movements(world, sku, initial_on_hand=10)


async def test_multi_line_order_makes_only_what_stock_is_short_of(world: World) -> None:
    plenty = await world.add_product(stock=50)
    scarce = await world.add_product(stock=3)
    order_no = await world.new_order(
        lines=[{"sku": plenty, "quantity": 20}, {"sku": scarce, "quantity": 5}]
    )
    await approved(world, order_no)
    order = await world.wait_for(order_no, "IN_PRODUCTION")

    split = [(li["sku"], li["reserved_qty"], li["produce_qty"]) for li in order["lines"]]
    assert split == [(plenty, 20, 0), (scarce, 3, 2)]
    work_orders = order["production"]["work_orders"]
    assert [(wo["sku"], wo["quantity"]) for wo in work_orders] == [(scarce, 2)]
    assert sorted(moved(order, "reserve")) == sorted([(plenty, 20), (scarce, 3)])
    assert await stock_of(world, plenty) == (50, 20, 30)
    assert await stock_of(world, scarce) == (3, 3, 0)


async def test_lines_of_one_product_are_served_in_line_order(world: World) -> None:
    sku = await world.add_product(stock=3)
    order_no = await world.new_order(
        lines=[{"sku": sku, "quantity": 2}, {"sku": sku, "quantity": 4}]
    )
    await approved(world, order_no)
    order = await world.wait_for(order_no, "IN_PRODUCTION")

    assert [(li["reserved_qty"], li["produce_qty"]) for li in order["lines"]] == [(2, 0), (1, 3)]
    # The shortfall of both lines is one work order for the product.
    assert [(wo["sku"], wo["quantity"]) for wo in order["production"]["work_orders"]] == [(sku, 3)]
    assert await stock_of(world, sku) == (3, 3, 0)


# ---------------------------------------------------------------------------- shipping


async def test_dispatch_takes_each_line_out_of_stock_once(world: World) -> None:
    made = await world.add_product(stock=4)
    stocked = await world.add_product(stock=10)
    order_no = await world.new_order(
        lines=[{"sku": made, "quantity": 6}, {"sku": stocked, "quantity": 3}]
    )
    await approved(world, order_no)
    order = await world.finish_production(order_no)
    # The two units made went into stock and straight into this order's reservation.
    assert moved(order, "produce") == [(made, 2)]
    assert moved(order, "reserve", made) == [(made, 4), (made, 2)]
    assert await stock_of(world, made) == (6, 6, 0)
    assert await stock_of(world, stocked) == (10, 3, 7)

    shipped = await world.act(order_no, "dispatch", as_="log")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "SHIPPED"
    assert sorted(moved(shipped.json(), "ship")) == sorted([(made, 6), (stocked, 3)])
    assert await stock_of(world, made) == (0, 0, 0)
    assert await stock_of(world, stocked) == (7, 0, 7)

    # Dispatching again is refused and ships nothing more.
    again = await world.act(order_no, "dispatch", as_="log")
    assert again.status_code == 409
    assert await stock_of(world, made) == (0, 0, 0)
    assert await stock_of(world, stocked) == (7, 0, 7)
    order = await world.order(order_no)
    assert sorted(moved(order, "ship")) == sorted([(made, 6), (stocked, 3)])
    assert await world.rows_for(StockMovement, order_no) == len(order["stock_movements"])

    await assert_rebuilt_from_movements(world, made, initial_on_hand=4)
    await assert_rebuilt_from_movements(world, stocked, initial_on_hand=10)


async def test_only_good_units_enter_stock_and_scrap_is_made_again(world: World) -> None:
    order_no = await world.new_order(lines=[{"sku": world.sku, "quantity": 3}])
    await approved(world, order_no)
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    [work_order] = order["production"]["work_orders"]
    *before_last, last = work_order["steps"]
    extra = {"work_order_no": work_order["work_order_no"]}
    for step in before_last:
        for event in ("started", "completed"):
            assert (await world.report(order_no, step["name"], event, **extra)).status_code == 200
    assert (await world.report(order_no, last["name"], "started", **extra)).status_code == 200
    scrapped = await world.report(
        order_no, last["name"], "completed", good_qty=2, scrap_qty=1, **extra
    )
    assert scrapped.status_code == 200, scrapped.text
    assert moved(scrapped.json(), "produce") == [(world.sku, 2)]
    assert await stock_of(world, world.sku) == (2, 2, 0)

    # The scrapped unit is made by a second work order and joins the reservation.
    order = await world.finish_production(order_no)
    assert moved(order, "produce") == [(world.sku, 2), (world.sku, 1)]
    assert await stock_of(world, world.sku) == (3, 3, 0)
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    assert await stock_of(world, world.sku) == (0, 0, 0)
    await assert_rebuilt_from_movements(world, world.sku, initial_on_hand=0)


# ---------------------------------------------------------------------------- cancelling


async def test_cancel_gives_reserved_stock_back_once(world: World) -> None:
    first = await world.add_product(stock=10)
    second = await world.add_product(stock=5)
    order_no = await world.new_order(
        lines=[{"sku": first, "quantity": 4}, {"sku": second, "quantity": 5}]
    )
    await approved(world, order_no)
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    assert await stock_of(world, first) == (10, 4, 6)
    assert await stock_of(world, second) == (5, 5, 0)

    response = await cancel(world, order_no)
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "CANCELLED"
    assert sorted(moved(order, "release")) == sorted([(first, 4), (second, 5)])
    assert await stock_of(world, first) == (10, 0, 10)
    assert await stock_of(world, second) == (5, 0, 5)

    # A second cancellation is refused and releases nothing more.
    assert (await cancel(world, order_no)).status_code == 409
    assert await stock_of(world, first) == (10, 0, 10)
    assert len(moved(await world.order(order_no), "release")) == 2
    await assert_rebuilt_from_movements(world, first, initial_on_hand=10)
    await assert_rebuilt_from_movements(world, second, initial_on_hand=5)


async def test_cancel_in_production_keeps_finished_units_as_available_stock(world: World) -> None:
    partly = await world.add_product(stock=2)
    unmade = await world.add_product(stock=0)
    order_no = await world.new_order(
        lines=[{"sku": partly, "quantity": 5}, {"sku": unmade, "quantity": 4}]
    )
    await approved(world, order_no)
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    work_orders = {wo["sku"]: wo for wo in order["production"]["work_orders"]}
    assert {sku: wo["quantity"] for sku, wo in work_orders.items()} == {partly: 3, unmade: 4}

    await finish_work_order(world, order_no, work_orders[partly])
    order = await world.order(order_no)
    assert order["status"] == "IN_PRODUCTION"
    assert await stock_of(world, partly) == (5, 5, 0)

    response = await cancel(world, order_no, as_="ops", reason="customer went bankrupt")
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "CANCELLED"
    # The 2 reserved from stock and the 3 made are released together; nothing was held of
    # the product whose work order never finished.
    assert moved(order, "release") == [(partly, 5)]
    assert await stock_of(world, partly) == (5, 0, 5)
    assert await stock_of(world, unmade) == (0, 0, 0)
    await assert_rebuilt_from_movements(world, partly, initial_on_hand=2)
    await assert_rebuilt_from_movements(world, unmade, initial_on_hand=0)


async def test_cancel_after_shipping_moves_no_stock(world: World) -> None:
    sku = await world.add_product(stock=5)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 3}])
    await approved(world, order_no)
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    before = await world.order(order_no)
    assert await stock_of(world, sku) == (2, 0, 2)

    response = await cancel(world, order_no)
    assert response.status_code == 409
    assert await stock_of(world, sku) == (2, 0, 2)
    after = await world.order(order_no)
    assert after["status"] == "SHIPPED"
    assert after["stock_movements"] == before["stock_movements"]
    await assert_rebuilt_from_movements(world, sku, initial_on_hand=5)
