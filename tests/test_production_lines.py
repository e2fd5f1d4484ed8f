"""Production lines through the API: booking work orders on the line that finishes them
first, the lines' queues, and work orders that run late."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import update
from temporalio.client import Client

from db.models import ProductionLine
from tests.factories import World
from tests.production_helpers import (
    MINUTE,
    at,
    current_details,
    lasts,
    order_in_production,
    refusal,
)


def close(actual: datetime, expected: datetime, tolerance: timedelta = MINUTE) -> bool:
    return abs(actual - expected) <= tolerance


async def lines_by_code(world: World, *, as_: str = "ops") -> dict[str, dict[str, Any]]:
    response = await world.api.get("/api/v1/production-lines", headers=world[as_].headers)
    assert response.status_code == 200, response.text
    return {line["code"]: line for line in response.json()["data"]}


async def overdue_alerts(world: World, work_order_no: str) -> list[dict[str, Any]]:
    response = await world.api.get(
        "/api/v1/alerts",
        params={"kind": "production_overdue", "limit": 500},
        headers=world["ops"].headers,
    )
    assert response.status_code == 200, response.text
    return [alert for alert in response.json()["data"] if work_order_no in alert["message"]]


# ---------------------------------------------------------------------------- scheduling


async def test_each_work_order_goes_to_the_line_that_finishes_it_first(world: World) -> None:
    line_a = await world.add_line("10")
    line_b = await world.add_line("5")
    sku = await world.add_product(lines=[line_a, line_b])
    order_nos = [
        await world.new_order(qty, lines=[{"sku": sku, "quantity": qty}]) for qty in (20, 10, 5)
    ]

    booked: list[tuple[datetime, dict[str, Any], datetime]] = []
    for order_no in order_nos:
        before = datetime.now(UTC)
        await world.approve_levels(order_no, ["sup"])
        order = await world.wait_for(order_no, "IN_PRODUCTION")
        booked.append((before, order["production"]["work_orders"][0], datetime.now(UTC)))

    (before_1, first, after_1), (before_2, second, after_2), (_, third, _) = booked
    # 20 units: A needs 2 h, B 4 h.
    assert first["line"] == line_a
    assert before_1 - MINUTE <= at(first["planned_start"]) <= after_1 + MINUTE
    assert lasts(first["planned_start"], first["planned_finish"], timedelta(hours=2))
    # 10 units: A is free after 2 h and would finish in 3 h; idle B finishes in 2 h.
    assert second["line"] == line_b
    assert before_2 - MINUTE <= at(second["planned_start"]) <= after_2 + MINUTE
    assert lasts(second["planned_start"], second["planned_finish"], timedelta(hours=2))
    # 5 units: A finishes after 2.5 h, B after 3 h; on A it queues behind the first order.
    assert third["line"] == line_a
    assert close(at(third["planned_start"]), at(first["planned_finish"]))
    assert close(at(third["planned_finish"]), at(first["planned_finish"]) + timedelta(minutes=30))

    # Step windows follow one another and share the run time equally (10 min per unit each).
    steps = first["steps"]
    assert at(steps[0]["planned_start"]) == at(first["planned_start"])
    assert at(steps[-1]["planned_finish"]) == at(first["planned_finish"])
    for earlier, later in pairwise(steps):
        assert at(earlier["planned_finish"]) == at(later["planned_start"])
    for step in steps:
        assert lasts(step["planned_start"], step["planned_finish"], timedelta(minutes=40))

    lines = await lines_by_code(world)
    a, b = lines[line_a], lines[line_b]
    assert [entry["work_order_no"] for entry in a["queue"]] == [
        first["work_order_no"],
        third["work_order_no"],
    ]
    assert [entry["order_no"] for entry in a["queue"]] == [order_nos[0], order_nos[2]]
    assert (a["open_work_orders"], a["queued_units"]) == (2, 25)
    assert close(at(a["free_from"]), at(third["planned_finish"]), timedelta(seconds=1))
    assert abs(a["booked_hours"] - 2.5) <= 0.05
    assert [entry["work_order_no"] for entry in b["queue"]] == [second["work_order_no"]]
    assert (b["open_work_orders"], b["queued_units"]) == (1, 10)
    assert abs(b["booked_hours"] - 2.0) <= 0.05
    assert not any(entry["overdue"] for entry in a["queue"] + b["queue"])


async def test_an_inactive_line_is_never_booked(world: World) -> None:
    fast_but_stopped = await world.add_line("1000")
    async with world.sessions.begin() as session:
        await session.execute(
            update(ProductionLine)
            .where(ProductionLine.code == fast_but_stopped)
            .values(active=False)
        )
    sku = await world.add_product(lines=[fast_but_stopped, world.line])

    order = await order_in_production(world, 10, sku=sku)

    assert order["production"]["line"] == world.line
    stopped = (await lines_by_code(world))[fast_but_stopped]
    assert (stopped["active"], stopped["open_work_orders"]) == (False, 0)


async def test_work_orders_booked_at_the_same_moment_never_share_line_hours(
    world: World,
) -> None:
    line_a = await world.add_line("10")
    line_b = await world.add_line("10")
    sku = await world.add_product(lines=[line_a, line_b])
    order_nos = [await world.new_order(10, lines=[{"sku": sku, "quantity": 10}]) for _ in range(4)]
    for order_no in order_nos:
        await world.wait_for(order_no, "UNDER_REVIEW")

    decisions = await asyncio.gather(*(world.decide(no, as_="sup") for no in order_nos))
    assert [d.status_code for d in decisions] == [200] * 4
    for order_no in order_nos:
        await world.wait_for(order_no, "IN_PRODUCTION")

    lines = await lines_by_code(world)
    # Four hours of work on two lines: two one-hour work orders back to back on each.
    for code in (line_a, line_b):
        queue = lines[code]["queue"]
        assert len(queue) == 2, queue
        assert lasts(queue[0]["planned_start"], queue[0]["planned_finish"], timedelta(hours=1))
        assert lasts(queue[1]["planned_start"], queue[1]["planned_finish"], timedelta(hours=1))
        assert at(queue[1]["planned_start"]) >= at(queue[0]["planned_finish"])
        assert abs(lines[code]["booked_hours"] - 2.0) <= 0.05
    booked = {e["order_no"] for code in (line_a, line_b) for e in lines[code]["queue"]}
    assert booked == set(order_nos)


async def test_production_lines_are_for_staff_only(world: World) -> None:
    refused = await world.api.get("/api/v1/production-lines", headers=world["customer"].headers)
    refusal(refused, 403, "Forbidden")
    refused = await world.api.get("/api/v1/alerts", headers=world["customer"].headers)
    refusal(refused, 403, "Forbidden")

    for person in ("ops", "prod", "sales"):
        line = (await lines_by_code(world, as_=person))[world.line]
        assert Decimal(line["units_per_hour"]) == 60
        assert (line["active"], line["open_work_orders"], line["queue"]) == (True, 0, [])


# ---------------------------------------------------------------------------- overdue


async def test_a_late_work_order_is_flagged_once(world: World, temporal_client: Client) -> None:
    fast_line = await world.add_line("3600")
    sku = await world.add_product(lines=[fast_line])
    # 2 units at 3600 per hour: planned to finish 2 s after approval.
    order = await order_in_production(world, 2, sku=sku)
    order_no = order["order_no"]
    work_order_no = order["production"]["work_order_no"]
    assert order["production"]["line"] == fast_line

    deadline = asyncio.get_running_loop().time() + 20
    while not (order := await world.order(order_no))["production"]["work_orders"][0]["overdue"]:
        assert asyncio.get_running_loop().time() < deadline, "never flagged overdue"
        await asyncio.sleep(0.3)

    (alert,) = await overdue_alerts(world, work_order_no)
    assert alert["order_no"] == order_no
    assert alert["kind"] == "production_overdue"
    assert at(alert["at"]) >= at(order["production"]["work_orders"][0]["planned_finish"])
    queue = (await lines_by_code(world))[fast_line]["queue"]
    assert [(e["work_order_no"], e["overdue"]) for e in queue] == [(work_order_no, True)]
    assert f"| {work_order_no} |" in await current_details(temporal_client, order_no)
    assert "open (overdue) |" in await current_details(temporal_client, order_no)

    # Time goes on; the work order stays late but is not flagged again.
    await asyncio.sleep(4)
    assert len(await overdue_alerts(world, work_order_no)) == 1

    done = await world.finish_production(order_no)
    assert done["production"]["work_orders"][0]["produced_qty"] == 2
    assert len(await overdue_alerts(world, work_order_no)) == 1
    assert (await lines_by_code(world))[fast_line]["queue"] == []
