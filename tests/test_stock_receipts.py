"""Stock booked by hand: goods receipts (once per Idempotency-Key), stock counts, what bad input
gets, the movement ledger as staff list it, and the ledger check that rebuilds each product's
stock from its movements, on the real stack."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from db.models import Product
from tests.factories import World, eventually
from tests.stock_helpers import (
    STOCK,
    approved,
    audited,
    cancel,
    count,
    ledger,
    movement_rows,
    movements,
    receive,
    stock_of,
)
from tests.test_low_stock import low_stock_alerts

# ---------------------------------------------------------------------------- receipts


async def test_a_receipt_puts_units_on_hand_once_per_idempotency_key(world: World) -> None:
    sku = await world.add_product(stock=2)
    first = await receive(world, sku, 10, reference="DN-4471", key="grn-1")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    receipt = first.json()
    assert receipt["movement"]["kind"] == "receipt"
    assert receipt["movement"]["on_hand_change"] == 10
    assert receipt["movement"]["actor"] == world["log"].username
    assert receipt["movement"]["note"] == "DN-4471"
    assert receipt["stock"]["stock_on_hand"] == 12
    assert await stock_of(world, sku) == (12, 0, 12)

    again = await receive(world, sku, 10, reference="DN-4471", key="grn-1")
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["movement"] == receipt["movement"]
    assert await stock_of(world, sku) == (12, 0, 12)

    other_body = await receive(world, sku, 11, reference="DN-4471", key="grn-1")
    assert other_body.status_code == 422, other_body.text
    assert "another receipt" in other_body.json()["detail"]
    # Keys are the caller's own: ops using the same key books a receipt of its own.
    by_ops = await receive(world, sku, 10, reference="DN-4471", key="grn-1", as_="ops")
    assert by_ops.status_code == 201, by_ops.text
    assert "Idempotent-Replayed" not in by_ops.headers
    assert await stock_of(world, sku) == (22, 0, 22)
    assert len(await audited(world, "stock_receipt", sku)) == 2


async def test_receipts_retried_at_once_book_once(world: World) -> None:
    sku = await world.add_product(stock=0)
    answers = await asyncio.gather(*(receive(world, sku, 7, key="same") for _ in range(6)))
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert await stock_of(world, sku) == (7, 0, 7)
    assert [(r.kind, r.quantity) for r in await movement_rows(world, sku)] == [("receipt", 7)]


async def test_a_receipt_back_above_the_reorder_point_re_arms_the_alert(world: World) -> None:
    sku = await world.add_product(stock=10, reorder_point=5)
    first = await world.new_order(lines=[{"sku": sku, "quantity": 7}])
    await approved(world, first)
    await world.wait_for(first, "AWAITING_SHIPMENT")
    assert len(await low_stock_alerts(world, sku)) == 1
    assert (await world.product(sku))["low_stock"] is True

    received = await receive(world, sku, 10)
    assert received.status_code == 201, received.text
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (13, False)
    assert product["low_stock_alert"] is None

    # Re-armed: the next dip raises a new alert.
    second = await world.new_order(lines=[{"sku": sku, "quantity": 9}])
    await approved(world, second)
    await world.wait_for(second, "AWAITING_SHIPMENT")
    assert len(await low_stock_alerts(world, sku)) == 2


async def test_units_received_for_an_order_in_production_stay_available(world: World) -> None:
    """The waiting order keeps its work order; the next order approved takes the units."""
    sku = await world.add_product(stock=0)
    waiting = await world.new_order(lines=[{"sku": sku, "quantity": 4}])
    await approved(world, waiting)
    in_production = await world.wait_for(waiting, "IN_PRODUCTION")
    [work_order] = in_production["production"]["work_orders"]

    received = await receive(world, sku, 4)
    assert received.status_code == 201, received.text
    assert received.json()["waiting_work_orders"] == [
        {"order_no": waiting, "work_order_no": work_order["work_order_no"], "quantity": 4}
    ]
    assert await stock_of(world, sku) == (4, 0, 4)
    still = await world.order(waiting)
    assert still["status"] == "IN_PRODUCTION"
    assert still["production"]["work_orders"] == in_production["production"]["work_orders"]

    next_order = await world.new_order(lines=[{"sku": sku, "quantity": 4}])
    await approved(world, next_order)
    taken = await world.wait_for(next_order, "AWAITING_SHIPMENT")
    assert taken["production"] is None
    await world.finish_production(waiting)
    assert await stock_of(world, sku) == (8, 8, 0)
    assert (await ledger(world, sku))["balanced"] is True


# ---------------------------------------------------------------------------- counts


async def test_a_count_sets_the_books_to_what_was_counted(world: World) -> None:
    sku = await world.add_product(stock=20)
    gain = await count(world, sku, 23, reason="found a pallet")
    assert gain.status_code == 201, gain.text
    body = gain.json()
    assert (body["on_hand_before"], body["difference"]) == (20, 3)
    assert body["movement"]["kind"] == "count_gain"
    assert body["movement"]["note"] == "found a pallet"
    assert body["stock"]["stock_on_hand"] == 23

    loss = await count(world, sku, 18, reason="two damaged, three missing")
    assert loss.status_code == 201, loss.text
    assert loss.json()["movement"]["kind"] == "count_loss"
    assert loss.json()["movement"]["on_hand_change"] == -5
    # The same count again (a retry) agrees with the books: nothing moves, it is still audited.
    same = await count(world, sku, 18, reason="two damaged, three missing")
    assert same.status_code == 201, same.text
    assert (same.json()["difference"], same.json()["movement"]) == (0, None)
    assert await stock_of(world, sku) == (18, 0, 18)
    kinds = [r.kind for r in await movement_rows(world, sku)]
    assert kinds == ["opening", "count_gain", "count_loss"]
    assert len(await audited(world, "stock_count", sku)) == 3


async def test_a_count_below_what_orders_hold_is_refused(world: World) -> None:
    sku = await world.add_product(stock=10)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 6}])
    await approved(world, order_no)
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    refused = await count(world, sku, 5)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "Conflict"
    assert "6 are reserved" in refused.json()["detail"]
    assert await stock_of(world, sku) == (10, 6, 4)
    # Down to exactly what is reserved is a count like any other.
    assert (await count(world, sku, 6)).status_code == 201
    assert await stock_of(world, sku) == (6, 6, 0)


async def test_a_loss_below_the_reorder_point_raises_the_alert_and_tells_ops(
    world: World,
) -> None:
    sku = await world.add_product(stock=10, reorder_point=5)
    assert (await count(world, sku, 3, reason="water damage")).status_code == 201
    [alert] = await low_stock_alerts(world, sku)
    assert alert["order_no"] is None
    assert (await world.product(sku))["low_stock"] is True

    async def told() -> list[dict[str, Any]]:
        response = await world.api.get("/api/v1/notifications", headers=world["ops"].headers)
        assert response.status_code == 200, response.text
        return [n for n in response.json()["data"] if sku in n["subject"]]

    [notice] = await eventually(told, bool)
    assert notice["event"] == "low_stock"


# ---------------------------------------------------------------------------- who and what


async def test_who_may_book_stock(world: World) -> None:
    sku = await world.add_product(stock=5)
    for person in ("sales", "prod", "sup", "customer"):
        refused = await receive(world, sku, 1, as_=person)
        assert refused.status_code == 403, refused.text
    assert (await count(world, sku, 4, as_="log")).status_code == 403
    assert (await receive(world, sku, 1, as_="ops")).status_code == 201
    assert await stock_of(world, sku) == (6, 0, 6)


BAD_RECEIPTS = [
    {"quantity": 0},
    {"quantity": -3},
    {"quantity": "5"},
    {"quantity": 1_000_001},
    {"quantity": 2.5},
    {"reference": ""},
    {"reference": "DN\x00-1"},
    {"reference": "DN\n1"},
    {"reference": "x" * 201},
    {"sku": ""},
    {"sku": "S" * 65},
    {"extra": "field"},
]


@pytest.mark.parametrize("change", BAD_RECEIPTS, ids=lambda change: repr(change)[:40])
async def test_a_bad_receipt_books_nothing(world: World, change: dict[str, Any]) -> None:
    sku = await world.add_product(stock=3)
    body = {"sku": sku, "quantity": 5, "reference": "DN-1", **change}
    response = await world.api.post(f"{STOCK}/receipts", json=body, headers=world["log"].headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    assert await stock_of(world, sku) == (3, 0, 3)


BAD_COUNTS = [
    {"counted_quantity": -1},
    {"counted_quantity": "4"},
    {"counted_quantity": 2**31},
    {"reason": ""},
    {"reason": "lost\x07"},
    {"reason": "r" * 501},
]


@pytest.mark.parametrize("change", BAD_COUNTS, ids=lambda change: repr(change)[:40])
async def test_a_bad_count_books_nothing(world: World, change: dict[str, Any]) -> None:
    sku = await world.add_product(stock=3)
    body = {"sku": sku, "counted_quantity": 1, "reason": "cycle count", **change}
    response = await world.api.post(f"{STOCK}/adjustments", json=body, headers=world["ops"].headers)
    assert response.status_code == 422, response.text
    assert await stock_of(world, sku) == (3, 0, 3)


async def test_an_unknown_product_is_not_found(world: World) -> None:
    for response in (
        await receive(world, "NO-SUCH-SKU", 1, key="unknown"),
        await count(world, "NO-SUCH-SKU", 1),
        await world.api.get(
            f"{STOCK}/ledger-check", params={"sku": "NO-SUCH-SKU"}, headers=world["ops"].headers
        ),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "NotFound"


# ---------------------------------------------------------------------------- the ledger


async def test_movements_are_listed_newest_first_page_by_page(world: World) -> None:
    sku = await world.add_product(stock=5)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 2}])
    await approved(world, order_no)
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    assert (await receive(world, sku, 10, reference="PO-77")).status_code == 201
    assert (await count(world, sku, 12, reason="three missing")).status_code == 201

    listed = await movements(world, sku=sku)
    assert listed.status_code == 200, listed.text
    rows = listed.json()["data"]
    assert [(r["kind"], r["quantity"]) for r in rows] == [
        ("count_loss", 3),
        ("receipt", 10),
        ("reserve", 2),
        ("opening", 5),
    ]
    assert rows[2]["order_no"] == order_no
    assert (rows[1]["actor"], rows[1]["note"]) == (world["log"].username, "PO-77")
    assert listed.json()["next_cursor"] is None

    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sku": sku, "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = (await movements(world, as_="prod", **params)).json()
        paged += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == rows

    receipts = (await movements(world, sku=sku, kind="receipt")).json()["data"]
    assert [r["id"] for r in receipts] == [rows[1]["id"]]
    first_at = datetime.fromisoformat(rows[-1]["at"])
    before = (await movements(world, sku=sku, to=first_at.isoformat())).json()["data"]
    assert before == []
    since = (await movements(world, sku=sku, **{"from": rows[1]["at"]})).json()["data"]
    assert [r["id"] for r in since] == [rows[0]["id"], rows[1]["id"]]
    today = datetime.now(UTC).date()
    dated = await movements(
        world, sku=sku, **{"from": today.isoformat(), "to": str(today + timedelta(days=1))}
    )
    assert [r["id"] for r in dated.json()["data"]] == [r["id"] for r in rows]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-12-02", "to": "2026-12-01"},
        {"from": "2026-12-01T10:00:00"},  # no time zone
        {"kind": "stolen"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "not-a-cursor"},
        {"sku": "A\x00B"},
    ],
    ids=lambda params: repr(params)[:40],
)
async def test_a_bad_movements_query_is_refused(world: World, params: dict[str, Any]) -> None:
    response = await movements(world, **params)
    assert response.status_code == 422, response.text


async def test_customers_do_not_see_the_ledger(world: World) -> None:
    assert (await movements(world, as_="customer")).status_code == 403
    response = await world.api.get(f"{STOCK}/ledger-check", headers=world["log"].headers)
    assert response.status_code == 403


async def test_the_ledger_balances_after_real_orders_receipts_and_counts(world: World) -> None:
    sku = await world.add_product(stock=5)
    # Five from stock, three made, then shipped.
    shipped = await world.new_order(lines=[{"sku": sku, "quantity": 8}])
    await approved(world, shipped)
    await world.finish_production(shipped)
    assert (await world.act(shipped, "dispatch", as_="log")).status_code == 200
    assert (await receive(world, sku, 20, key=f"ledger-{world.tag}")).status_code == 201
    # Reserved, then released by a cancellation.
    cancelled = await world.new_order(lines=[{"sku": sku, "quantity": 6}])
    await approved(world, cancelled)
    await world.wait_for(cancelled, "AWAITING_SHIPMENT")
    assert (await cancel(world, cancelled)).status_code == 200
    await world.wait_for(cancelled, "CANCELLED")
    assert (await count(world, sku, 19)).status_code == 201
    held = await world.new_order(lines=[{"sku": sku, "quantity": 4}])
    await approved(world, held)
    await world.wait_for(held, "AWAITING_SHIPMENT")

    assert await stock_of(world, sku) == (19, 4, 15)
    check = await ledger(world, sku)
    assert check == {"balanced": True, "products_checked": 1, "differences": []}
    everything = await ledger(world)
    assert everything["products_checked"] > 1
    assert sku not in [d["sku"] for d in everything["differences"]]


async def test_the_ledger_check_reports_a_product_row_changed_behind_its_back(
    world: World,
) -> None:
    sku = await world.add_product(stock=9)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 3}])
    await approved(world, order_no)
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    async with world.sessions.begin() as session:
        await session.execute(
            update(Product)
            .where(Product.sku == sku)
            .values(stock_on_hand=Product.stock_on_hand + 4)
        )
    try:
        difference = {
            "sku": sku,
            "on_hand": 13,
            "on_hand_from_movements": 9,
            "reserved": 3,
            "reserved_from_movements": 3,
        }
        assert await ledger(world, sku) == {
            "balanced": False,
            "products_checked": 1,
            "differences": [difference],
        }
        everything = await ledger(world)
        assert everything["balanced"] is False
        assert difference in everything["differences"]
    finally:
        async with world.sessions.begin() as session:
            await session.execute(
                update(Product)
                .where(Product.sku == sku)
                .values(stock_on_hand=Product.stock_on_hand - 4)
            )
    assert (await ledger(world, sku))["balanced"] is True
