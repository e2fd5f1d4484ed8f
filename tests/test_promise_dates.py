"""Promise dates: each line promised on approval (from stock, or from the production plan),
shown to staff and to the customer, moved with notice when a re-plan cannot keep it, and
measured against by the delivery report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from db.models import Order, PromiseChange
from domain.promises import WorkOrderTimes, moves, promised_day, ready_at
from tests.analytics_history import KnownOrder, write
from tests.factories import World, eventually
from tests.production_helpers import at

API = "/api/v1"


def today() -> date:
    return datetime.now(UTC).date()


def lead(world: World) -> timedelta:
    return timedelta(days=world.settings.shipping_lead_days)


def from_plan(world: World, planned_finish: str | None) -> date:
    """The promise a line made by production gets: its planned finish's UTC day plus the lead."""
    return at(planned_finish).astimezone(UTC).date() + lead(world)


async def promise_history(world: World, order_no: str) -> list[tuple[Any, ...]]:
    async with world.sessions() as session:
        rows = await session.execute(
            select(
                PromiseChange.line_no,
                PromiseChange.old_date,
                PromiseChange.new_date,
                PromiseChange.cause,
            )
            .join(Order, Order.id == PromiseChange.order_id)
            .where(Order.order_no == order_no)
            .order_by(PromiseChange.id)
        )
        return [tuple(row) for row in rows]


async def inbox(world: World, person: str, order_no: str) -> list[dict[str, Any]]:
    response = await world.api.get(f"{API}/notifications", headers=world[person].headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["data"] if n["order_no"] == order_no]


async def delivery_report(world: World, **params: Any) -> dict[str, Any]:
    response = await world.api.get(
        f"{API}/analytics/delivery", params=params, headers=world["ops"].headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------------------- the rules


def test_a_promise_is_the_ready_day_in_utc_plus_the_lead() -> None:
    late_evening_in_shanghai = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert promised_day(late_evening_in_shanghai, 2) == date(2026, 12, 3)
    assert promised_day(datetime.fromisoformat("2026-12-02T01:00:00+08:00"), 0) == date(2026, 12, 1)


def test_a_product_is_ready_when_its_last_work_order_is() -> None:
    planned = datetime(2026, 12, 5, 10, tzinfo=UTC)
    finished = datetime(2026, 12, 6, 9, tzinfo=UTC)
    cancelled = WorkOrderTimes("cancelled", datetime(2026, 12, 9, tzinfo=UTC), None)
    assert ready_at([WorkOrderTimes("open", planned, None), cancelled]) == planned
    # A finished work order counts when it finished, not when it was planned to.
    done_late = WorkOrderTimes("completed", datetime(2026, 12, 4, tzinfo=UTC), finished)
    assert ready_at([WorkOrderTimes("open", planned, None), done_late]) == finished
    assert ready_at([cancelled]) is None


def test_a_promise_moves_later_always_and_earlier_only_on_request() -> None:
    promised = date(2026, 12, 5)
    assert moves(promised, date(2026, 12, 6))
    assert not moves(promised, promised)
    assert not moves(promised, date(2026, 12, 4))
    assert moves(promised, date(2026, 12, 4), earlier_too=True)


# ---------------------------------------------------------------------------- on approval


async def test_a_line_served_from_stock_is_promised_today_plus_the_lead(world: World) -> None:
    sku = await world.add_product(stock=50)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 10}])
    under_review = await world.wait_for(order_no, "UNDER_REVIEW")
    assert [line["promised_date"] for line in under_review["lines"]] == [None]
    own_view = await world.order(order_no, as_="customer")
    assert [line["promised_date"] for line in own_view["lines"]] == [None]

    before = today()
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "AWAITING_SHIPMENT")
    after = today()

    [line] = order["lines"]
    assert (line["reserved_qty"], line["produce_qty"]) == (10, 0)
    promised = date.fromisoformat(line["promised_date"])
    assert before + lead(world) <= promised <= after + lead(world)
    customer_view = await world.order(order_no, as_="customer")
    assert [line["promised_date"] for line in customer_view["lines"]] == [promised.isoformat()]
    assert await promise_history(world, order_no) == [(1, None, promised, "approval")]


async def test_a_line_production_makes_is_promised_at_its_planned_finish_plus_the_lead(
    world: World,
) -> None:
    in_stock = await world.add_product(stock=50)
    order_no = await world.new_order(
        lines=[{"sku": in_stock, "quantity": 5}, {"sku": world.sku, "quantity": 8}]
    )
    before = today()
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    after = today()

    stocked, produced = order["lines"]
    [work_order] = order["production"]["work_orders"]
    assert (work_order["sku"], produced["produce_qty"]) == (world.sku, 8)
    assert produced["promised_date"] == from_plan(world, work_order["planned_finish"]).isoformat()
    from_stock = date.fromisoformat(stocked["promised_date"])
    assert before + lead(world) <= from_stock <= after + lead(world)
    customer_view = await world.order(order_no, as_="customer")
    assert [line["promised_date"] for line in customer_view["lines"]] == [
        stocked["promised_date"],
        produced["promised_date"],
    ]


# ---------------------------------------------------------------------------- a slip


async def test_scrap_that_replans_past_the_promise_moves_it_and_tells_the_customer(
    world: World,
) -> None:
    # A slow line: 10 units take 100 hours, the 3 made again 30 more, past the promised day.
    slow_line = await world.add_line("0.1")
    sku = await world.add_product(lines=[slow_line])
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 10}])
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    [first] = order["production"]["work_orders"]
    promised = from_plan(world, first["planned_finish"])
    assert order["lines"][0]["promised_date"] == promised.isoformat()

    assert (await world.report(order_no, "prepare", "started")).status_code == 200
    scrapped = await world.report(order_no, "prepare", "completed", good_qty=7, scrap_qty=3)
    assert scrapped.status_code == 200, scrapped.text

    order = await eventually(
        lambda: world.order(order_no),
        lambda body: len(body["production"]["work_orders"]) == 2,
    )
    replan = order["production"]["work_orders"][1]
    assert (replan["replan_of"], replan["quantity"]) == (first["work_order_no"], 3)
    moved = from_plan(world, replan["planned_finish"])
    assert moved > promised
    assert order["lines"][0]["promised_date"] == moved.isoformat()
    customer_view = await world.order(order_no, as_="customer")
    assert customer_view["lines"][0]["promised_date"] == moved.isoformat()

    for person in ("customer", "sales"):
        told = await inbox(world, person, order_no)
        [notice] = [n for n in told if n["event"] == "promise_changed"]
        assert f"from {promised.isoformat()} to {moved.isoformat()}" in notice["body"]
        assert notice["data"]["lines"] == [
            {
                "line_no": 1,
                "sku": sku,
                "old_date": promised.isoformat(),
                "new_date": moved.isoformat(),
            }
        ]
    # Nobody outside the customer and the order's creator hears of it.
    assert not [n for n in await inbox(world, "stranger", order_no)]
    assert await promise_history(world, order_no) == [
        (1, None, promised, "approval"),
        (1, promised, moved, "replan-2"),
    ]


# ---------------------------------------------------------------------------- analytics


async def test_delivery_report_counts_an_order_on_time_to_its_promise(world: World) -> None:
    sku = await world.add_product(stock=50)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 10}])
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "AWAITING_SHIPMENT")
    assert order["lines"][0]["promised_date"] is not None
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    delivered = await world.carrier_event(order["shipment"]["tracking_no"], "delivered")
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED")

    body = await delivery_report(world, customer_id=world.customer_id)

    assert (body["with_promise"], body["on_time_to_promise"]) == (1, 1)
    assert body["on_time_to_promise_rate"] == 1.0
    # It asked for no day: the requested-date figures leave it out.
    assert (body["delivered"], body["without_requested_date"]) == (0, 1)


async def test_delivery_report_measures_against_the_latest_promised_line(world: World) -> None:
    customer = await world.add_customer()
    start = datetime(2005, 5, 1, tzinfo=UTC)
    steps: list[tuple[str, float, str | None]] = [("CREATED", 0, None), ("DELIVERED", 1, None)]
    on_may_12 = (datetime(2005, 5, 12, 20, tzinfo=UTC) - start).total_seconds()
    kept = KnownOrder(
        customer,
        start,
        steps,
        requested_delivery_date=date(2005, 5, 10),
        delivered=on_may_12,
        # The order is promised whole by its last line.
        promised_dates=[date(2005, 5, 8), date(2005, 5, 12)],
    )
    broken = KnownOrder(
        customer,
        start,
        steps,
        requested_delivery_date=date(2005, 5, 20),
        delivered=on_may_12,
        promised_dates=[date(2005, 5, 11)],
    )
    never_promised = KnownOrder(customer, start, steps, delivered=on_may_12, promised_dates=[None])
    await write(world.sessions, kept, broken, never_promised)

    body = await delivery_report(
        world, customer_id=customer, **{"from": "2005-01-01", "to": "2005-12-31"}
    )

    assert (body["with_promise"], body["on_time_to_promise"]) == (2, 1)
    assert body["on_time_to_promise_rate"] == 0.5
    # The requested-date figures stand as they were: kept is late to its day, broken is not.
    assert (body["delivered"], body["on_time"], body["without_requested_date"]) == (2, 1, 1)
    assert [late["order_no"] for late in body["late"]] == [kept.order_no]
    nothing = await delivery_report(world, **{"from": "2005-01-01", "to": "2005-02-01"})
    assert (nothing["with_promise"], nothing["on_time_to_promise_rate"]) == (0, None)
