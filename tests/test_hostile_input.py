"""Input that PostgreSQL cannot store, refused at the edge with 422 and nothing written.

Each of these was once accepted and then failed the database write inside the workflow or the
request, leaving the order stuck or a half-answered request behind: NUL bytes and lone
surrogates in free text, carrier times outside what a timestamp holds, quantities and prices
whose product overflows an amount, a delegation ending past the year 9999.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from db.models import Decision, Delegation, Order, ProductionEvent, StatusHistory
from domain.signatures import sign_body
from tests.delegation_helpers import DELEGATIONS
from tests.factories import World
from tests.production_helpers import order_in_production
from tests.test_auth import assert_error, assert_validation_error

NUL = "before\x00after"
LONE_SURROGATE = "before\ud800after"


async def count(world: World, model: Any, *where: Any) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def post_json(world: World, path: str, body: Any, *, as_: str) -> httpx.Response:
    """Post ``body`` as JSON with every non-ASCII character escaped, the way to send a lone
    surrogate (``\\ud800``), which cannot be encoded as UTF-8."""
    headers = {**world[as_].headers, "Content-Type": "application/json"}
    return await world.api.post(path, content=json.dumps(body).encode(), headers=headers)


def refused_field(response: httpx.Response, field: str) -> dict[str, Any]:
    """The 422 names the field, and its body is JSON a client can read."""
    detail = assert_validation_error(response)
    [entry] = [item for item in detail if item["loc"][-1] == field]
    return entry


# ---------------------------------------------------------------------------- free text


@pytest.mark.parametrize("bad", [NUL, LONE_SURROGATE, "escape \x1b[31m red"])
async def test_control_characters_in_review_text_are_refused_and_change_nothing(
    world: World, bad: str
) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    history_before = await world.rows_for(StatusHistory, order_no)

    path = f"/api/v1/orders/{order_no}"
    decision = {"decision": "reject", "comment": bad}
    refused_field(await post_json(world, f"{path}/decisions", decision, as_="sup"), "comment")
    for action, person in (("cancel", "sales"), ("hold", "ops")):
        response = await post_json(world, f"{path}/{action}", {"reason": bad}, as_=person)
        refused_field(response, "reason")

    order = await world.order(order_no)
    assert order["status"] == "UNDER_REVIEW"
    assert await world.rows_for(Decision, order_no) == 0
    assert await world.rows_for(StatusHistory, order_no) == history_before
    # Tabs and line breaks are free text; the same order still takes a decision.
    approved = await world.decide(order_no, as_="sup", comment="checked\tthe terms\nfine")
    assert approved.status_code == 200, approved.text


async def test_a_nul_in_a_production_note_is_refused(world: World) -> None:
    order = await order_in_production(world)
    order_no = order["order_no"]
    response = await world.report(order_no, "prepare", "started", note=NUL)
    refused_field(response, "note")
    assert await world.rows_for(ProductionEvent, order_no) == 0
    assert (await world.order(order_no))["production"]["steps"][0]["status"] == "pending"


# ---------------------------------------------------------------------------- carrier events


def signed(world: World, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    signature = sign_body(body, world.settings.carrier_webhook_secret)
    return body, {"Content-Type": "application/json", "X-Carrier-Signature": signature}


async def post_event(world: World, tracking_no: str, **fields: Any) -> httpx.Response:
    event = {"tracking_no": tracking_no, "status": "exception", **fields}
    body, headers = signed(world, event)
    return await world.api.post("/api/v1/carrier-events", content=body, headers=headers)


async def test_carrier_events_that_cannot_be_stored_are_refused(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    now = datetime.now(UTC)
    refusals = {
        # Year 9999 written with an offset that puts it past 9999 in UTC, and year 1 before it.
        "9999-12-31T23:59:59-23:59": "occurred_at",
        "0001-01-01T00:00:00+23:59": "occurred_at",
        (now + timedelta(days=2)).isoformat(): "occurred_at",
        "2026-01-01T00:00:00": "occurred_at",  # no time zone
    }
    for occurred_at, field in refusals.items():
        response = await post_event(world, tracking_no, occurred_at=occurred_at, detail="late")
        refused_field(response, field)
    response = await post_event(world, tracking_no, occurred_at=now.isoformat(), detail=NUL)
    refused_field(response, "detail")
    # Before the order existed: only the order knows, so the route refuses it.
    before = await post_event(
        world, tracking_no, occurred_at=(now - timedelta(days=30)).isoformat(), detail="x"
    )
    assert "before the order was entered" in assert_error(before, 422, "ValidationError")["detail"]

    await asyncio.sleep(1)  # anything wrongly accepted would have reached the order by now
    order = await world.order(order_no)
    assert order["status"] == "SHIPPED"
    assert order["shipment"]["events"] == []


# ---------------------------------------------------------------------------- amounts


async def test_quantities_and_prices_that_overflow_an_amount_are_refused(world: World) -> None:
    sales = world["sales"].headers
    expensive = await world.add_product(price=Decimal("900000000.00"))
    bodies: list[dict[str, Any]] = [
        # The largest quantity at the old largest price: an amount of 10^16.
        {"lines": [{"sku": world.sku, "quantity": 1_000_000, "unit_price": "9999999999.99"}]},
        # Each line fits, together they do not.
        {"lines": [{"sku": world.sku, "quantity": 1_000_000, "unit_price": "999999.99"}] * 2},
        # The list price decides: 10,000 × 900,000,000.00.
        {"lines": [{"sku": expensive, "quantity": 10_000}]},
        {"lines": [{"sku": world.sku, "quantity": True}]},
        {"lines": [{"sku": world.sku, "quantity": 2.0}]},
        {"lines": [{"sku": world.sku, "quantity": 2_147_483_648}]},
        {"lines": [{"sku": world.sku, "quantity": 1}], "customer_id": 2**31},
        {"lines": [{"sku": world.sku, "quantity": 1}], "customer_id": True},
    ]
    for body in bodies:
        response = await world.api.post(
            "/api/v1/orders", json={"customer_id": world.customer_id, **body}, headers=sales
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "ValidationError"
    for price in (b"NaN", b"Infinity", b"-Infinity", b"1e309"):
        raw = b'{"customer_id": %d, "lines": [{"sku": "%s", "quantity": 1, "unit_price": %s}]}' % (
            world.customer_id,
            world.sku.encode(),
            price,
        )
        response = await world.api.post(
            "/api/v1/orders", content=raw, headers={**sales, "Content-Type": "application/json"}
        )
        shown = refused_field(response, "unit_price")["input"]
        assert isinstance(shown, str) and len(shown) < 10, shown
    assert await count(world, Order, Order.customer_id == world.customer_id) == 0


async def test_the_largest_line_there_is_can_be_stored(world: World) -> None:
    """1,000,000 units at 999,999.99: above the list price, so validation rejects it, and
    the rejection stores the order's total, which fits."""
    response = await world.create_order(
        lines=[{"sku": world.sku, "quantity": 1_000_000, "unit_price": "999999.99"}]
    )
    assert response.status_code == 201, response.text
    order = await world.wait_for(response.json()["order_no"], "REJECTED")
    assert order["total"] == "999999990000.00"
    assert any("price list" in reason for reason in order["rejection_reasons"])


# ---------------------------------------------------------------------------- delegations


async def test_a_delegation_ending_past_year_9999_is_refused_and_not_saved(world: World) -> None:
    delegator = world["sup"].username
    for ends_at in ("9999-12-31T23:59:59-23:59", "2200-01-01T00:00:00Z"):
        response = await world.api.post(
            DELEGATIONS,
            json={"delegate": world["mgr"].username, "ends_at": ends_at},
            headers=world["sup"].headers,
        )
        refused_field(response, "ends_at")
    assert await count(world, Delegation, Delegation.delegator == delegator) == 0


async def test_a_stored_period_past_year_9999_still_lists_and_revokes(world: World) -> None:
    """Such a row was written before the edge refused it; it must not break the three users
    it touches, nor ops."""
    async with world.sessions.begin() as session:
        delegation_id = await session.scalar(
            text(
                "INSERT INTO delegations (delegator, delegate, starts_at, ends_at) "
                "VALUES (:delegator, :delegate, now(), "
                "'10000-01-01T23:58:59+00'::timestamptz) RETURNING id"
            ),
            {"delegator": world["sup"].username, "delegate": world["mgr"].username},
        )
    for person in ("sup", "mgr", "ops"):
        listed = await world.api.get(DELEGATIONS, headers=world[person].headers)
        assert listed.status_code == 200, listed.text
        [row] = [d for d in listed.json()["data"] if d["id"] == delegation_id]
        assert row["ends_at"].startswith("9999-12-30")

    # The delegate may not revoke it, the delegator may; and then it is revoked for good.
    assert_error(
        await world.api.delete(f"{DELEGATIONS}/{delegation_id}", headers=world["mgr"].headers),
        403,
        "Forbidden",
    )
    revoked = await world.api.delete(f"{DELEGATIONS}/{delegation_id}", headers=world["sup"].headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    again = await world.api.delete(f"{DELEGATIONS}/{delegation_id}", headers=world["ops"].headers)
    assert_error(again, 409, "Conflict")
