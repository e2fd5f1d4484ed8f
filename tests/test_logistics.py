"""Tracking: the timeline the carrier reports, and what its events do to the order.

These tests post carrier events themselves, signed as the carrier signs them, against the
built-in carrier; ``test_carrier_end_to_end.py`` lets the carrier simulator post them.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.signatures import sign_timestamped
from tests.factories import World, eventually
from tests.test_auth import assert_error


def timeline(order: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["status"], e["occurred_at"]) for e in order["shipment"]["events"]]


async def test_timeline_is_ordered_by_occurrence_and_ignores_repeats(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    t0 = datetime.now(UTC)  # a carrier event happens after its order was entered
    # Out of order and twice: the later event first, then the earlier one, then it again.
    arrivals = [
        ("out_for_delivery", t0 + timedelta(hours=6), "Pudong depot"),
        ("in_transit", t0 + timedelta(hours=1), "Shanghai hub"),
        ("in_transit", t0 + timedelta(hours=1), "Shanghai hub"),
    ]
    for status, at, location in arrivals:
        response = await world.carrier_event(tracking_no, status, occurred_at=at, location=location)
        assert response.status_code == 202, response.text

    order = await eventually(lambda: world.order(order_no), lambda o: len(timeline(o)) == 2)
    assert [status for status, _ in timeline(order)] == ["in_transit", "out_for_delivery"]
    assert order["shipment"]["events"][0]["location"] == "Shanghai hub"
    # The shipment shows where it is now: the latest event by when it happened.
    assert order["shipment"]["status"] == "out_for_delivery"
    assert order["status"] == "SHIPPED"

    delivered = await world.carrier_event(
        tracking_no, "delivered", occurred_at=t0 + timedelta(hours=9)
    )
    assert delivered.status_code == 202
    order = await world.wait_for(order_no, "DELIVERED")
    # A straggler after delivery lands in the timeline's past and changes nothing else.
    late = await world.carrier_event(tracking_no, "in_transit", occurred_at=t0 + timedelta(hours=3))
    assert late.status_code == 202
    order = await eventually(lambda: world.order(order_no), lambda o: len(timeline(o)) == 4)
    assert [status for status, _ in timeline(order)] == [
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    assert order["shipment"]["status"] == "delivered"
    assert order["status"] == "DELIVERED"
    assert [h["to_status"] for h in order["history"]].count("DELIVERED") == 1


async def test_exception_holds_the_order_with_the_carriers_reason(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    t0 = datetime.now(UTC)  # a carrier event happens after its order was entered
    failed = await world.carrier_event(
        tracking_no,
        "exception",
        occurred_at=t0,
        location="Pudong depot",
        detail="recipient not available",
    )
    assert failed.status_code == 202, failed.text
    order = await world.wait_for(order_no, "ON_HOLD")
    held = order["history"][-1]
    assert (held["from_status"], held["actor"]) == ("SHIPPED", "carrier")
    assert held["reason"] == "carrier exception: recipient not available"
    assert order["held_from"] == "SHIPPED"
    assert order["shipment"]["events"][-1]["detail"] == "recipient not available"

    alerts = await world.api.get(
        "/api/v1/alerts", params={"kind": "carrier_exception"}, headers=world["ops"].headers
    )
    mine = [a for a in alerts.json()["data"] if a["order_no"] == order_no]
    assert len(mine) == 1 and "recipient not available" in mine[0]["message"]

    # The same event again is the same event: no second hold, no second alert.
    again = await world.carrier_event(
        tracking_no, "exception", occurred_at=t0, detail="recipient not available"
    )
    assert again.status_code == 202
    resumed = await world.act(
        order_no, "resume", as_="ops", json_body={"reason": "new delivery slot agreed"}
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "SHIPPED"

    await world.carrier_event(tracking_no, "delivered", occurred_at=t0 + timedelta(hours=12))
    order = await world.wait_for(order_no, "DELIVERED")
    assert [h["to_status"] for h in order["history"]].count("ON_HOLD") == 1


async def test_a_stale_exception_does_not_hold_the_order(world: World) -> None:
    """The carrier already reported progress after it: the problem is behind the shipment."""
    order_no, tracking_no = await world.shipped_order()
    t0 = datetime.now(UTC)  # a carrier event happens after its order was entered
    await world.carrier_event(tracking_no, "out_for_delivery", occurred_at=t0 + timedelta(hours=5))
    await world.carrier_event(
        tracking_no, "exception", occurred_at=t0, detail="address unclear, resolved"
    )
    order = await eventually(lambda: world.order(order_no), lambda o: len(timeline(o)) == 2)
    assert order["status"] == "SHIPPED"
    assert [status for status, _ in timeline(order)] == ["exception", "out_for_delivery"]


async def test_ops_cancels_an_order_the_carrier_could_not_deliver(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    t0 = datetime.now(UTC)  # a carrier event happens after its order was entered
    await world.carrier_event(tracking_no, "exception", occurred_at=t0, detail="goods damaged")
    await world.wait_for(order_no, "ON_HOLD")

    response = await world.act(
        order_no, "cancel", as_="ops", json_body={"reason": "written off with the carrier"}
    )
    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "CANCELLED"
    assert order["shipment"]["status"] == "cancelled"
    # The goods left the warehouse: nothing comes back into stock.
    kinds = [movement["kind"] for movement in order["stock_movements"]]
    assert "ship" in kinds and "release" not in kinds


async def test_refused_carrier_events_store_nothing(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    t0 = datetime.now(UTC)  # a carrier event happens after its order was entered
    body = json.dumps(
        {"tracking_no": tracking_no, "status": "delivered", "occurred_at": t0.isoformat()}
    ).encode()
    json_header = {"Content-Type": "application/json"}
    now = int(datetime.now(UTC).timestamp())

    def signed(secret: str) -> dict[str, str]:
        signature = sign_timestamped(body, now, secret)
        return {**json_header, "X-Carrier-Timestamp": str(now), "X-Carrier-Signature": signature}

    forged = await world.api.post(
        "/api/v1/carrier-events", content=body, headers=signed("not-the-secret")
    )
    assert_error(forged, 401, "Unauthorized")
    unsigned = await world.api.post("/api/v1/carrier-events", content=body, headers=json_header)
    assert_error(unsigned, 401, "Unauthorized")
    # A caller who may not post is told so, not what its body got wrong.
    garbage = await world.api.post(
        "/api/v1/carrier-events", content=b'{"status": 7}', headers=json_header
    )
    assert_error(garbage, 401, "Unauthorized")
    tampered = await world.api.post(
        "/api/v1/carrier-events",
        content=body.replace(b"delivered", b"exception"),
        headers=signed(world.settings.carrier_webhook_secret),
    )
    assert_error(tampered, 401, "Unauthorized")
    unknown = await world.carrier_event("NO-SUCH-TRACKING", "delivered", occurred_at=t0)
    assert_error(unknown, 404, "NotFound")

    await asyncio.sleep(1)  # anything wrongly accepted would have reached the order by now
    order = await world.order(order_no)
    assert order["status"] == "SHIPPED"
    assert order["shipment"]["events"] == []


async def test_logistics_may_post_tracking_without_a_signature(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    t0 = datetime.now(UTC)  # a carrier event happens after its order was entered
    response = await world.api.post(
        "/api/v1/carrier-events",
        json={"tracking_no": tracking_no, "status": "in_transit", "occurred_at": t0.isoformat()},
        headers=world["log"].headers,
    )
    assert response.status_code == 202, response.text
    refused = await world.api.post(
        "/api/v1/carrier-events",
        json={"tracking_no": tracking_no, "status": "delivered", "occurred_at": t0.isoformat()},
        headers=world["sales"].headers,
    )
    assert_error(refused, 403, "Forbidden")
    order = await eventually(lambda: world.order(order_no), lambda o: len(timeline(o)) == 1)
    assert order["status"] == "SHIPPED"


async def test_a_closed_order_takes_no_tracking_events_and_says_so(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    delivered = await world.carrier_event(tracking_no, "delivered")
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    await world.wait_for(order_no, "COMPLETED")

    late = await world.carrier_event(tracking_no, "in_transit")

    refused = assert_error(late, 409, "Conflict")
    assert refused["detail"] == f"order {order_no} is COMPLETED: a closed order takes no events"
    order = await world.order(order_no)
    assert [status for status, _ in timeline(order)] == ["delivered"]
