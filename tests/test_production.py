"""Production through the API: shop-floor reports and the ones refused, production records,
scrap and re-planning, and progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client

from tests.factories import World
from tests.production_helpers import (
    MINUTE,
    at,
    current_details,
    lasts,
    order_in_production,
    refusal,
)

# ---------------------------------------------------------------------------- reports refused


async def test_refused_reports_change_nothing(world: World) -> None:
    order = await order_in_production(world, 10)
    order_no = order["order_no"]
    work_order_no = order["production"]["work_order_no"]

    detail = refusal(await world.report(order_no, "assemble", "started"), 409, "Conflict")
    assert detail == (
        f"step assemble of {work_order_no} cannot start before step prepare is completed"
    )
    detail = refusal(await world.report(order_no, "inspect", "completed"), 409, "Conflict")
    assert "cannot start before step assemble is completed" in detail

    started = await world.report(order_no, "prepare", "started", note="first shift")
    assert started.status_code == 200, started.text
    records_before = started.json()["production_records"]
    steps_before = started.json()["production"]["steps"]

    detail = refusal(await world.report(order_no, "prepare", "started"), 409, "Conflict")
    assert detail == f"step prepare of {work_order_no} is already started"
    detail = refusal(await world.report(order_no, "paint", "started"), 422, "ValidationError")
    assert "paint is not a production step" in detail
    assert "prepare, assemble, inspect" in detail
    mismatch = await world.report(order_no, "prepare", "completed", good_qty=7, scrap_qty=2)
    detail = refusal(mismatch, 422, "ValidationError")
    assert "good and scrap must add up to 10" in detail
    too_many = await world.report(order_no, "prepare", "completed", good_qty=11)
    refusal(too_many, 422, "ValidationError")
    unknown = await world.report(order_no, "prepare", "completed", work_order_no="WO-1999-999999")
    detail = refusal(unknown, 422, "ValidationError")
    assert "WO-1999-999999 is not a work order of this order" in detail
    wrong_role = await world.act(
        order_no,
        "production-events",
        as_="sales",
        json_body={"step": "prepare", "event": "completed"},
    )
    refusal(wrong_role, 403, "Forbidden")

    after = await world.order(order_no)
    assert after["status"] == "IN_PRODUCTION"
    assert after["production_records"] == records_before
    assert after["production"]["steps"] == steps_before
    assert [s["status"] for s in after["production"]["steps"]] == ["started", "pending", "pending"]
    assert len(after["production"]["work_orders"]) == 1

    completed = await world.report(order_no, "prepare", "completed")
    assert completed.status_code == 200, completed.text
    detail = refusal(await world.report(order_no, "prepare", "completed"), 409, "Conflict")
    assert detail == f"step prepare of {work_order_no} is already completed"


async def test_reports_wait_for_the_order_to_be_in_production(world: World) -> None:
    order_no = await world.new_order(10)
    await world.wait_for(order_no, "UNDER_REVIEW")

    detail = refusal(await world.report(order_no, "prepare", "started"), 409, "Conflict")
    assert detail == "the order is UNDER_REVIEW, not IN_PRODUCTION"
    assert (await world.order(order_no))["production_records"] == []
    refusal(await world.report("SO-1999-999999", "prepare", "started"), 404, "NotFound")


# ---------------------------------------------------------------------------- records


async def test_production_records_say_who_reported_what_and_when(world: World) -> None:
    order = await order_in_production(world, 10)
    order_no = order["order_no"]
    work_order_no = order["production"]["work_order_no"]
    start = datetime.now(UTC)

    reports: list[tuple[str, str, dict[str, Any]]] = [
        ("prepare", "started", {"note": "night shift"}),
        ("prepare", "completed", {"good_qty": 9, "scrap_qty": 1, "note": "one casting cracked"}),
        ("assemble", "started", {}),
        ("assemble", "completed", {"good_qty": 9}),
        ("inspect", "started", {}),
        ("inspect", "completed", {}),
    ]
    for step, event, extra in reports:
        response = await world.report(order_no, step, event, **extra)
        assert response.status_code == 200, response.text
    end = datetime.now(UTC)

    order = await world.order(order_no)
    records = order["production_records"]
    assert [
        (r["work_order_no"], r["step"], r["event"], r["good_qty"], r["scrap_qty"], r["note"])
        for r in records
    ] == [
        (work_order_no, "prepare", "started", None, None, "night shift"),
        (work_order_no, "prepare", "completed", 9, 1, "one casting cracked"),
        (work_order_no, "assemble", "started", None, None, None),
        (work_order_no, "assemble", "completed", 9, 0, None),
        (work_order_no, "inspect", "started", None, None, None),
        (work_order_no, "inspect", "completed", 9, 0, None),
    ]
    assert {r["reported_by"] for r in records} == {world["prod"].username}
    times = [at(r["at"]) for r in records]
    assert times == sorted(times)
    assert start - MINUTE <= times[0] and times[-1] <= end + MINUTE

    first = order["production"]["work_orders"][0]
    prepare = first["steps"][0]
    assert (prepare["good_qty"], prepare["scrap_qty"]) == (9, 1)
    assert at(prepare["started_at"]) == times[0]
    assert at(prepare["completed_at"]) == times[1]
    assert first["status"] == "completed"
    assert first["produced_qty"] == 9
    assert at(first["finished_at"]) == times[-1]


# ---------------------------------------------------------------------------- scrap


async def test_scrap_books_another_work_order_for_the_missing_units(world: World) -> None:
    order = await order_in_production(world, 10)
    order_no = order["order_no"]
    first_no = order["production"]["work_order_no"]

    assert (await world.report(order_no, "prepare", "started")).status_code == 200
    scrapped = await world.report(order_no, "prepare", "completed", good_qty=8, scrap_qty=2)
    assert scrapped.status_code == 200, scrapped.text

    first, replan = scrapped.json()["production"]["work_orders"]
    assert first["work_order_no"] == first_no
    assert (first["status"], first["quantity"]) == ("open", 10)
    assert (replan["quantity"], replan["replan_of"], replan["status"]) == (2, first_no, "open")
    assert replan["sku"] == world.sku
    assert replan["line"] == world.line
    # The line is busy with the first work order until its planned finish.
    assert at(replan["planned_start"]) >= at(first["planned_finish"]) - timedelta(seconds=1)
    assert [s["status"] for s in replan["steps"]] == ["pending"] * 3

    # A report without a work order number goes to the work order that still needs the step.
    prepare_replan = await world.report(order_no, "prepare", "started")
    assert prepare_replan.status_code == 200, prepare_replan.text
    replan_now = prepare_replan.json()["production"]["work_orders"][1]
    assert replan_now["steps"][0]["status"] == "started"
    # 8 good units entered assembly on the first work order.
    assemble = await world.report(order_no, "assemble", "completed", good_qty=9)
    refusal(assemble, 422, "ValidationError")

    done = await world.finish_production(order_no)

    work_orders = done["production"]["work_orders"]
    assert [(wo["status"], wo["produced_qty"]) for wo in work_orders] == [
        ("completed", 8),
        ("completed", 2),
    ]
    assert sum(wo["produced_qty"] for wo in work_orders) == 10
    produced = sorted(m["quantity"] for m in done["stock_movements"] if m["kind"] == "produce")
    assert produced == [2, 8]
    assert {m["sku"] for m in done["stock_movements"]} == {world.sku}
    assert done["production"]["progress"]["percent"] == 100
    product = await world.product(world.sku)
    assert (product["stock_on_hand"], product["stock_reserved"]) == (10, 10)


async def test_a_step_with_nothing_good_ends_its_work_order_and_replans_all(
    world: World,
) -> None:
    order = await order_in_production(world, 10)
    order_no = order["order_no"]
    first_no = order["production"]["work_order_no"]

    assert (await world.report(order_no, "prepare", "started")).status_code == 200
    lost = await world.report(
        order_no, "prepare", "completed", good_qty=0, scrap_qty=10, note="wrong alloy"
    )
    assert lost.status_code == 200, lost.text

    body = lost.json()
    assert body["status"] == "IN_PRODUCTION"
    first, replan = body["production"]["work_orders"]
    assert (first["status"], first["produced_qty"]) == ("completed", 0)
    assert first["finished_at"] is not None
    assert [(s["name"], s["status"]) for s in first["steps"]] == [
        ("prepare", "completed"),
        ("assemble", "skipped"),
        ("inspect", "skipped"),
    ]
    assert (first["steps"][0]["good_qty"], first["steps"][0]["scrap_qty"]) == (0, 10)
    assert (replan["quantity"], replan["replan_of"], replan["status"]) == (10, first_no, "open")
    # The finished work order takes no more reports.
    closed = await world.report(order_no, "assemble", "started", work_order_no=first_no)
    detail = refusal(closed, 409, "Conflict")
    assert detail == f"{first_no} is already completed"
    progress = body["production"]["progress"]
    assert (progress["steps_done"], progress["steps_total"]) == (3, 6)

    done = await world.finish_production(order_no)
    assert [wo["produced_qty"] for wo in done["production"]["work_orders"]] == [0, 10]
    produced = [m["quantity"] for m in done["stock_movements"] if m["kind"] == "produce"]
    assert produced == [10]


async def test_only_the_shortfall_is_made_and_each_scrap_replans_what_is_still_missing(
    world: World,
) -> None:
    short = await world.add_product(stock=3)
    in_stock = await world.add_product(stock=100)
    order_no = await world.new_order(
        lines=[{"sku": short, "quantity": 10}, {"sku": in_stock, "quantity": 5}]
    )
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "IN_PRODUCTION")

    (first,) = order["production"]["work_orders"]
    assert (first["sku"], first["quantity"]) == (short, 7)

    prepared = await world.report(order_no, "prepare", "completed", good_qty=5, scrap_qty=2)
    assert prepared.status_code == 200, prepared.text
    after_prepare = await world.report(order_no, "assemble", "completed", good_qty=4, scrap_qty=1)
    assert after_prepare.status_code == 200, after_prepare.text
    work_orders = after_prepare.json()["production"]["work_orders"]
    # 7 to make: 2 scrapped at prepare, then 1 more of the 5 left at assembly.
    assert [(wo["quantity"], wo["replan_of"]) for wo in work_orders] == [
        (7, None),
        (2, first["work_order_no"]),
        (1, first["work_order_no"]),
    ]

    done = await world.finish_production(order_no)
    assert [wo["produced_qty"] for wo in done["production"]["work_orders"]] == [4, 2, 1]
    assert sorted(m["quantity"] for m in done["stock_movements"] if m["kind"] == "produce") == [
        1,
        2,
        4,
    ]
    assert (await world.product(short))["stock_reserved"] == 10
    assert (await world.product(in_stock))["stock_reserved"] == 5


# ---------------------------------------------------------------------------- progress


async def test_progress_shows_in_the_detail_and_in_the_temporal_ui(
    world: World, temporal_client: Client
) -> None:
    order = await order_in_production(world, 10)
    order_no = order["order_no"]
    work_order = order["production"]["work_orders"][0]
    work_order_no = work_order["work_order_no"]

    progress = order["production"]["progress"]
    assert (progress["steps_done"], progress["steps_total"], progress["percent"]) == (0, 3, 0)
    assert at(progress["planned_finish"]) == at(work_order["planned_finish"])
    # 10 units at 60 per hour.
    assert lasts(work_order["planned_start"], work_order["planned_finish"], timedelta(minutes=10))
    assert progress["actual_finish"] is None
    details = await current_details(temporal_client, order_no)
    assert "**Production:** 0/3 steps (0%)" in details
    assert "actual finish —" in details
    assert f"| {work_order_no} | {world.sku} | {world.line} | 10 |" in details

    assert (await world.report(order_no, "prepare", "started")).status_code == 200
    completed = await world.report(order_no, "prepare", "completed")
    progress = completed.json()["production"]["progress"]
    assert (progress["steps_done"], progress["steps_total"], progress["percent"]) == (1, 3, 33)
    assert progress["actual_finish"] is None
    assert "**Production:** 1/3 steps (33%)" in await current_details(temporal_client, order_no)

    done = await world.finish_production(order_no)
    progress = done["production"]["progress"]
    finished = done["production"]["work_orders"][0]
    assert (progress["steps_done"], progress["steps_total"], progress["percent"]) == (3, 3, 100)
    assert at(progress["planned_finish"]) == at(work_order["planned_finish"])
    assert at(progress["actual_finish"]) == at(finished["finished_at"])
    details = await current_details(temporal_client, order_no)
    assert "**Production:** 3/3 steps (100%)" in details
    finished_at = at(finished["finished_at"]).astimezone(UTC)
    assert f"actual finish {finished_at.isoformat(timespec='minutes')}" in details
    assert f"| {work_order_no} |" in details and "| completed |" in details


async def test_a_step_reported_in_parts_and_never_with_invented_scrap(world: World) -> None:
    """A shop-floor user reporting progress loses no stock: a report that leaves units
    unaccounted for is refused, and reports of parts of a step add up to it."""
    order = await order_in_production(world, 82)
    order_no = order["order_no"]
    refused = await world.report(order_no, "prepare", "completed", good_qty=1)
    detail = refusal(refused, 422, "ValidationError")
    assert "81 are not accounted for" in detail
    after = await world.order(order_no)
    assert after["production"]["steps"][0]["status"] == "pending"
    assert after["production_records"] == []
    assert not [m for m in after["stock_movements"] if m["kind"] == "produce"]

    first = await world.report(order_no, "prepare", "progress", good_qty=40)
    assert first.status_code == 200, first.text
    step = first.json()["production"]["steps"][0]
    assert (step["status"], step["good_qty"], step["scrap_qty"]) == ("started", 40, 0)
    assert len(first.json()["production"]["work_orders"]) == 1
    rest = await world.report(order_no, "prepare", "completed", good_qty=41, scrap_qty=1)
    assert rest.status_code == 200, rest.text
    step = rest.json()["production"]["steps"][0]
    assert (step["status"], step["good_qty"], step["scrap_qty"]) == ("completed", 81, 1)
    records = rest.json()["production_records"]
    assert [(r["event"], r["good_qty"], r["scrap_qty"]) for r in records] == [
        ("progress", 40, 0),
        ("completed", 41, 1),
    ]
    # The one scrapped unit is made again by a second work order.
    work_orders = rest.json()["production"]["work_orders"]
    assert [(wo["quantity"], wo["status"]) for wo in work_orders][1] == (1, "open")
