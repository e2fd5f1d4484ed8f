"""The lists an ops person works from, through the HTTP API: the order list's filters and
sorts with keyset pages, who sees what in it, and every pending approval as ops sees it (the
CSV export: ``test_order_export.py``).

Every list is narrowed to the test's own customer, so orders of other tests never show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from api import order_lists
from api.paging import encode_sorted_cursor
from db.models import Order
from tests.factories import ONE_LEVEL_QTY, THREE_LEVEL_QTY, TWO_LEVEL_QTY, World
from tests.order_list_helpers import (
    EXPORT,
    FAST_CLOCKS,
    ORDERS,
    as_cells,
    build_orders,
    escalated,
    listed,
    listed_nos,
    parsed_csv,
)
from tests.test_auth import assert_error, assert_validation_error
from tests.test_pending_approvals import level_open

PENDING = "/api/v1/approvals/pending"
SORTS = ("created_at", "-created_at", "total", "-total", "updated_at", "-updated_at")


async def test_each_filter_returns_exactly_the_orders_it_describes(
    world: World, api_with: Any
) -> None:
    o = await build_orders(world, api_with)
    everything = {o.small, o.second_level, o.other_sku, o.escalated, o.in_production}
    assert await listed_nos(world) == everything

    assert await listed_nos(world, escalated="true") == {o.escalated}
    assert await listed_nos(world, escalated="false") == everything - {o.escalated}
    assert await listed_nos(world, sku=o.other_sku_code) == {o.other_sku}
    assert await listed_nos(world, sku=world.sku) == everything - {o.other_sku}
    assert await listed_nos(world, sku="NO-SUCH-SKU") == set()
    thousand = {o.small, o.escalated, o.in_production}
    assert await listed_nos(world, min_total="1000") == thousand | {o.second_level}
    assert await listed_nos(world, max_total="999.99") == {o.other_sku}
    assert await listed_nos(world, min_total="1000.00", max_total="1000.00") == thousand
    # An escalated level waits on the role it escalated to as well as its own.
    assert await listed_nos(world, waiting_role="supervisor") == {
        o.small,
        o.other_sku,
        o.escalated,
    }
    assert await listed_nos(world, waiting_role="manager") == {o.second_level, o.escalated}
    assert await listed_nos(world, waiting_role="director") == set()
    assert await listed_nos(world, waiting_role="ops") == set()
    # Filters combine.
    assert await listed_nos(world, waiting_role="supervisor", min_total="1000") == {
        o.small,
        o.escalated,
    }
    assert await listed_nos(world, status="UNDER_REVIEW", escalated="false", sku=world.sku) == {
        o.small,
        o.second_level,
    }
    assert await listed_nos(world, status="IN_PRODUCTION", waiting_role="supervisor") == set()

    shown = {item["order_no"]: item for item in await listed(world)}
    assert (shown[o.small]["waiting_role"], shown[o.small]["escalated_to"]) == ("supervisor", None)
    assert (shown[o.escalated]["waiting_role"], shown[o.escalated]["escalated_to"]) == (
        "supervisor",
        "manager",
    )
    assert (shown[o.second_level]["waiting_role"], shown[o.in_production]["waiting_role"]) == (
        "manager",
        None,
    )
    assert all(item["customer_code"].startswith("C-") for item in shown.values())

    # Ranges are half-open: from included, to excluded.
    for column in ("created", "updated"):
        middle = shown[o.second_level][f"{column}_at"]
        later = {n for n, i in shown.items() if i[f"{column}_at"] >= middle}
        earlier = {n for n, i in shown.items() if i[f"{column}_at"] < middle}
        assert o.second_level in later and earlier
        assert await listed_nos(world, **{f"{column}_from": middle}) == later
        assert await listed_nos(world, **{f"{column}_to": middle}) == earlier
        assert (
            await listed_nos(world, **{f"{column}_from": middle, f"{column}_to": "2099-12-31"})
            == later
        )
    # A date alone is that day's midnight in UTC.
    day = datetime.fromisoformat(shown[o.small]["created_at"]).date()
    next_day = (day + timedelta(days=1)).isoformat()
    assert o.small in await listed_nos(world, created_from=day.isoformat(), created_to=next_day)
    assert o.small not in await listed_nos(world, created_to=day.isoformat())


async def _order_with_no_total(world: World) -> str:
    """An order as it stands between entry without prices and its validation: no total yet.
    Validation comes within moments, so the order (of an unknown product, rejected) has its
    total taken back off in the record."""
    order_no = await world.new_order(lines=[{"sku": f"GONE-{world.tag}", "quantity": 1}])
    await world.wait_for(order_no, "REJECTED")
    async with world.sessions.begin() as session:
        await session.execute(update(Order).where(Order.order_no == order_no).values(total=None))
    return order_no


def _expected(items: list[dict[str, Any]], sort: str, entered: list[str]) -> list[str]:
    column = sort.removeprefix("-")

    def key(item: dict[str, Any]) -> tuple[Any, int]:
        value = item[column]
        if column == "total":
            value = Decimal(value) if value is not None else Decimal(-1)
        else:
            value = datetime.fromisoformat(value)
        return value, entered.index(item["order_no"])

    return [i["order_no"] for i in sorted(items, key=key, reverse=sort.startswith("-"))]


async def test_every_sort_pages_through_every_order_in_its_order(world: World) -> None:
    # Equal totals, so ties fall to entry order; one order with no total at all.
    entered = [await world.new_order(quantity) for quantity in (10, 20, 10, 5, 30, 10)]
    entered.append(await _order_with_no_total(world))
    for order_no in entered[:-1]:
        await level_open(world, order_no, 1)
    items = await listed(world)
    assert [i["order_no"] for i in items] == entered[::-1]  # the default: newest entered first
    assert items[0]["total"] is None

    for sort in SORTS:
        expected = _expected(items, sort, entered)
        pages: list[list[str]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"customer_id": world.customer_id, "limit": 2, "sort": sort}
            page = await world.api.get(
                ORDERS,
                params={**params, **({"cursor": cursor} if cursor else {})},
                headers=world["ops"].headers,
            )
            assert page.status_code == 200, page.text
            pages.append([i["order_no"] for i in page.json()["data"]])
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
            # A cursor carries its sort: another sort refuses it.
            other = "-created_at" if sort != "-created_at" else "total"
            for wrong in ({"sort": other}, {}):
                refused = await world.api.get(
                    ORDERS,
                    params={"customer_id": world.customer_id, "cursor": cursor, **wrong},
                    headers=world["ops"].headers,
                )
                assert_error(refused, 422, "ValidationError")
        assert [n for page in pages for n in page] == expected, sort
        assert [len(page) for page in pages] == [2, 2, 2, 1], sort


BAD_PARAMS: list[dict[str, Any]] = [
    {"escalated": "maybe"},
    {"escalated": "NaN"},
    {"created_from": "2026-12-01T10:00:00"},  # no time zone
    {"created_from": "1999-12-31"},
    {"created_to": "2100-01-02"},
    {"created_from": "2026-13-01"},
    {"created_from": "2026-12-01\x00"},
    {"updated_to": "yesterday"},
    {"created_from": "2026-12-02", "created_to": "2026-12-01"},
    {"updated_from": "2026-12-01", "updated_to": "2026-12-01"},
    {"sku": ""},
    {"sku": "A\x00B"},
    {"sku": "A" * 65},
    {"min_total": "NaN"},
    {"max_total": "Infinity"},
    {"min_total": "-0.01"},
    {"min_total": "0.001"},
    {"max_total": str(10**15)},
    {"max_total": "1e400"},
    {"min_total": "10", "max_total": "9.99"},
    {"waiting_role": "sales"},
    {"waiting_role": "customer"},
    {"waiting_role": "ops\x00"},
    {"sort": "id"},
    {"sort": "status"},
    {"sort": ""},
    {"customer_id": str(2**31)},
    {"customer_id": str(10**30)},
    {"status": "LOST"},
]


@pytest.mark.parametrize("params", BAD_PARAMS, ids=lambda p: repr(p)[:60])
async def test_bad_filter_values_answer_422_on_the_list_and_the_export(
    world: World, params: dict[str, Any]
) -> None:
    for url in (ORDERS, EXPORT):
        response = await world.api.get(url, params=params, headers=world["ops"].headers)
        assert_validation_error(response)


async def test_bad_cursors_answer_422(world: World) -> None:
    forged = [
        ("total", "garbage"),
        ("total", encode_sorted_cursor("total", "NaN", 1)),
        ("total", encode_sorted_cursor("total", "1e20", 1)),
        ("total", encode_sorted_cursor("total", None, 1)),
        ("created_at", encode_sorted_cursor("created_at", "2026-12-01T00:00:00", 1)),
        ("created_at", encode_sorted_cursor("created_at", "2026-12-01T00:00:00+00:00", 2**31)),
        ("created_at", encode_sorted_cursor("created_at", "9999-12-31T00:00:00+00:00", 1)),
        (None, encode_sorted_cursor("-id", "1", 1)),
        (None, encode_sorted_cursor("total", "1.00", 1)),
    ]
    for sort, cursor in forged:
        params = {"cursor": cursor, **({"sort": sort} if sort else {})}
        response = await world.api.get(ORDERS, params=params, headers=world["ops"].headers)
        assert_error(response, 422, "ValidationError")


async def test_a_customer_lists_and_exports_only_its_own_orders(world: World) -> None:
    own = await world.new_order()
    other_customer = await world.add_customer()
    foreign = await world.new_order(customer_id=other_customer)
    for order_no in (own, foreign):
        await level_open(world, order_no, 1)

    for params, expected in (
        ({}, [own]),
        ({"customer_id": other_customer}, []),
        ({"sku": world.sku, "sort": "-total", "min_total": "1"}, [own]),
    ):
        page = await world.api.get(ORDERS, params=params, headers=world["customer"].headers)
        assert page.status_code == 200, page.text
        items = page.json()["data"]
        nos = [i["order_no"] for i in items]
        assert nos == expected, params
        for item in items:
            assert not {"created_by", "waiting_role", "escalated_to"} & set(item)
        rows = parsed_csv(
            await world.api.get(EXPORT, params=params, headers=world["customer"].headers)
        )
        assert rows[0] == list(order_lists.CUSTOMER_CSV_COLUMNS)
        assert [row[0] for row in rows[1:]] == nos
        if items:
            assert rows[1] == as_cells(items[0], rows[0])

    # How an order is reviewed inside is not the customer's to filter by.
    for params in ({"waiting_role": "supervisor"}, {"escalated": "false"}):
        for url in (ORDERS, EXPORT):
            response = await world.api.get(url, params=params, headers=world["customer"].headers)
            assert_error(response, 403, "Forbidden")

    for url in (ORDERS, EXPORT):
        stranger = await world.api.get(url, headers=world["stranger"].headers)
        assert stranger.status_code == 200
    assert (await world.api.get(ORDERS, headers=world["stranger"].headers)).json()["data"] == []
    assert (await world.api.get(EXPORT, headers=world["stranger"].headers)).text.count("\n") == 1
    assert (await world.api.get(EXPORT)).status_code == 401


async def pending_items(world: World, person: str) -> dict[str, dict[str, Any]]:
    response = await world.api.get(
        PENDING, params={"customer_id": world.customer_id}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    return {item["order_no"]: item for item in response.json()["data"]}


async def test_ops_sees_every_pending_approval_with_whom_it_waits_on(
    world: World, api_with: Any
) -> None:
    async with api_with(**FAST_CLOCKS) as fast_api:
        to_ops = await world.new_order(THREE_LEVEL_QTY, api=fast_api)
        to_manager = await world.new_order(ONE_LEVEL_QTY, api=fast_api)
    small = await world.new_order()
    second_level = await world.new_order(TWO_LEVEL_QTY)
    await world.approve_levels(second_level, ["sup"])
    await level_open(world, second_level, 2)
    await level_open(world, small, 1)
    await escalated(world, to_manager, 1, "manager")
    # The three-level order reaches its director, whose level escalates to ops.
    await world.approve_levels(to_ops, ["sup"])
    await level_open(world, to_ops, 2)
    assert (await world.decide(to_ops, as_="mgr")).status_code == 200
    await escalated(world, to_ops, 3, "ops")

    seen = await pending_items(world, "ops")
    assert set(seen) == {to_ops, to_manager, small, second_level}
    waits_on = {
        n: (i["level"]["level"], i["level"]["role"], i["level"]["escalated_to"], i["acting_as"])
        for n, i in seen.items()
    }
    assert waits_on == {
        small: (1, "supervisor", None, None),
        second_level: (2, "manager", None, None),
        to_manager: (1, "supervisor", "manager", None),
        to_ops: (3, "director", "ops", "ops"),  # the one ops may decide
    }
    # Approvers still see only what they may decide.
    assert set(await pending_items(world, "sup")) == {small, to_manager}
    assert set(await pending_items(world, "mgr2")) == {second_level, to_manager}
    assert set(await pending_items(world, "dir")) == {to_ops}
    # The order list agrees on whom each waits.
    assert await listed_nos(world, waiting_role="ops") == {to_ops}
    assert await listed_nos(world, waiting_role="manager") == {second_level, to_manager}

    # Page by page, oldest waiting first, the same approvals.
    whole = await world.api.get(
        PENDING, params={"customer_id": world.customer_id}, headers=world["ops"].headers
    )
    paged: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"customer_id": world.customer_id, "limit": 1}
        page = await world.api.get(
            PENDING,
            params={**params, **({"cursor": cursor} if cursor else {})},
            headers=world["ops"].headers,
        )
        assert page.status_code == 200, page.text
        paged += [item["order_no"] for item in page.json()["data"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        # Not a cursor of the order list, nor the other way round.
        wrong = await world.api.get(ORDERS, params={"cursor": cursor}, headers=world["ops"].headers)
        assert_error(wrong, 422, "ValidationError")
    assert paged == [item["order_no"] for item in whole.json()["data"]]
    assert len(paged) == 4
    for bad in ("garbage", encode_sorted_cursor("waiting_since", "yesterday", 1)):
        refused = await world.api.get(PENDING, params={"cursor": bad}, headers=world["ops"].headers)
        assert_error(refused, 422, "ValidationError")

    # Once ops decides the level it may, the order leaves review and the list.
    assert (await world.decide(to_ops, as_="ops")).status_code == 200
    assert set(await pending_items(world, "ops")) == {to_manager, small, second_level}
