"""People in the loop, end to end: deciding through a delegation, and the notifications an
order's life sends to approvers, its creator, its customer and subscribed systems."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from domain.signatures import signature_matches
from tests.delegation_helpers import delegated
from tests.factories import TWO_LEVEL_QTY, World, eventually
from tests.live import serve
from tests.test_auth import assert_error
from tests.test_lifecycle import ship_and_deliver


async def notices(world: World, person: str, order_no: str) -> list[str]:
    """The events of ``order_no`` in the person's in-app inbox, oldest first."""
    response = await world.api.get(
        "/api/v1/notifications", params={"limit": 200}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    return [n["event"] for n in reversed(response.json()["data"]) if n["order_no"] == order_no]


# ---------------------------------------------------------------------------- delegation


async def test_a_delegate_decides_on_behalf_of_the_delegator(world: World) -> None:
    """mgr2, a manager, stands in for the supervisor sup: the decision says so."""
    await delegated(world, "sup", "mgr2")
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")

    response = await world.decide(order_no, as_="mgr2")
    assert response.status_code == 200, response.text
    [decision] = response.json()["review"]["levels"][0]["decisions"]
    assert (decision["by"], decision["on_behalf_of"], decision["acting_role"]) == (
        world["mgr2"].username,
        world["sup"].username,
        "supervisor",
    )
    # One person, one level, also through a delegation: not mgr2 again, nor sup.
    again = await world.decide(order_no, as_="mgr2")
    assert_error(again, 403, "Forbidden")
    assert "one person decides one level" in again.json()["detail"]
    assert (await world.decide(order_no, as_="mgr")).status_code == 200
    audit = await world.api.get(
        "/api/v1/audit",
        params={"order_no": order_no, "kind": "decision"},
        headers=world["ops"].headers,
    )
    behalf = [row["payload"]["on_behalf_of"] for row in audit.json()["data"]]
    assert world["sup"].username in behalf


async def test_a_revoked_delegation_lends_nothing(world: World) -> None:
    delegation = await delegated(world, "sup", "mgr2")
    revoked = await world.api.delete(
        f"/api/v1/delegations/{delegation['id']}", headers=world["sup"].headers
    )
    assert revoked.status_code == 200, revoked.text
    audit = await world.api.get(
        "/api/v1/audit", params={"kind": "delegation"}, headers=world["ops"].headers
    )
    actions = [
        row["payload"]["action"]
        for row in audit.json()["data"]
        if row["payload"]["id"] == delegation["id"]
    ]
    assert actions == ["revoked", "granted"]
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    assert_error(await world.decide(order_no, as_="mgr2"), 403, "Forbidden")


async def test_nobody_approves_for_the_person_who_entered_the_order(world: World) -> None:
    """A supervisor who also sells entered the order; their delegate may not approve it."""
    await world.add_person("seller", ["sales", "supervisor"])
    await delegated(world, "seller", "mgr2")
    order_no = await world.new_order(by="seller")
    await world.wait_for(order_no, "UNDER_REVIEW")
    refused = await world.decide(order_no, as_="mgr2")
    assert_error(refused, 403, "Forbidden")
    assert "entered" in refused.json()["detail"]


# ---------------------------------------------------------------------------- notifications


async def test_an_orders_life_notifies_approvers_creator_and_customer(world: World) -> None:
    order_no = await world.new_order()
    await eventually(
        lambda: notices(world, "sup", order_no), lambda seen: "approval_requested" in seen
    )
    # The creator may not approve, so it is not asked to.
    assert await notices(world, "sales", order_no) == []
    await world.approve_levels(order_no, ["sup"])
    await ship_and_deliver(world, order_no)
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text

    customer = await eventually(
        lambda: notices(world, "customer", order_no), lambda seen: "completed" in seen
    )
    # Completion also asks the customer how it went (test_feedback.py).
    assert customer == ["shipped", "delivered", "completed", "feedback_requested"]
    creator = await eventually(
        lambda: notices(world, "sales", order_no), lambda seen: "completed" in seen
    )
    assert creator == ["approved", "shipped", "delivered", "completed"]
    # Another customer hears nothing of it.
    assert await notices(world, "stranger", order_no) == []


async def test_a_rejection_tells_the_creator_why(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    rejected = await world.decide(order_no, as_="sup", decision="reject", comment="no margin")
    assert rejected.status_code == 200, rejected.text
    await eventually(lambda: notices(world, "sales", order_no), lambda seen: "rejected" in seen)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, Any], dict[str, str]]]]]:
    """A subscriber's endpoint on a real port, keeping every body and its headers."""
    received: list[tuple[dict[str, Any], dict[str, str]]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        received.append((json.loads(body) | {"_raw": body.decode()}, dict(request.headers)))
        return Response(status_code=202)

    async with serve(app) as url:
        yield f"{url}/hook", received


async def test_subscribed_systems_hear_of_shipping_signed(world: World, receiver: Any) -> None:
    url, received = receiver
    subscribed = await world.api.post(
        "/api/v1/webhooks",
        json={"url": url, "events": ["shipped", "carrier_exception"]},
        headers=world["ops"].headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    secret = subscribed.json()["secret"]
    try:
        order_no, tracking_no = await world.shipped_order()
        await world.carrier_event(tracking_no, "exception", detail="dock closed")
        await world.wait_for(order_no, "ON_HOLD")

        def mine(events: list[Any]) -> list[str]:
            return [body["event"] for body, _ in events if body.get("order_no") == order_no]

        await eventually(
            lambda: asyncio.sleep(0, received), lambda got: len(mine(got)) == 2, timeout=30
        )
        assert sorted(mine(received)) == ["carrier_exception", "shipped"]
        for body, headers in received:
            if body.get("order_no") == order_no:
                raw = body["_raw"].encode()
                assert signature_matches(raw, headers["x-orderflow-signature"], secret)
                assert headers["idempotency-key"] == body["key"]
    finally:
        await world.api.delete(
            f"/api/v1/webhooks/{subscribed.json()['id']}", headers=world["ops"].headers
        )


async def test_low_stock_tells_ops_and_production(world: World) -> None:
    sku = await world.add_product(stock=10, reorder_point=5)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 8}])
    await world.approve_levels(order_no, ["sup"])
    for person in ("ops", "prod"):
        inbox = functools.partial(notices, world, person, order_no)
        await eventually(inbox, lambda seen: "low_stock" in seen)


async def test_a_late_work_order_tells_production_and_ops(world: World) -> None:
    fast_line = await world.add_line("3600")
    sku = await world.add_product(lines=[fast_line])
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 2}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")
    for person in ("prod", "ops"):
        inbox = functools.partial(notices, world, person, order_no)
        await eventually(inbox, lambda seen: "production_overdue" in seen)
