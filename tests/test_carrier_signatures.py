"""Carrier signatures cover a timestamp: an event signed more than 5 minutes from now, a
replayed one included, is refused with 401 and stores nothing."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from domain.signatures import (
    TIMESTAMP_TOLERANCE_SECONDS,
    sign_body,
    sign_timestamped,
    timestamped_signature_refusal,
)
from tests.factories import World
from tests.test_auth import assert_error

EVENTS = "/api/v1/carrier-events"
SECRET = "a-carrier-secret"


def test_the_signature_holds_only_for_its_timestamp_and_body_within_five_minutes() -> None:
    body = b'{"tracking_no": "T-1"}'
    now = 1_900_000_000.0
    signed_at = int(now) - TIMESTAMP_TOLERANCE_SECONDS
    signature = sign_timestamped(body, signed_at, SECRET)

    def refusal(timestamp: str | None, *, at: float = now, content: bytes = body) -> str | None:
        return timestamped_signature_refusal(content, signature, timestamp, SECRET, now=at)

    assert refusal(str(signed_at)) is None
    assert refusal(str(signed_at), at=now + 1) == (
        "the carrier timestamp is more than 5 minutes away from now"
    )
    # A clock ahead of ours is refused alike.
    assert refusal(str(signed_at), at=signed_at - TIMESTAMP_TOLERANCE_SECONDS - 1)
    assert refusal(str(signed_at + 1)) == (
        "the carrier signature does not match the timestamp and body"
    )
    assert refusal(str(signed_at), content=body + b" ")
    for malformed in (None, "", "soon", "-5", "1.5e9", "1_900_000_000", "9" * 13):
        assert refusal(malformed) == "the carrier timestamp is missing or not unix seconds"
    # The scheme before timestamps (the body alone) no longer passes.
    old_style = sign_body(body, SECRET)
    assert timestamped_signature_refusal(body, old_style, str(int(now)), SECRET, now=now)


async def test_a_replayed_event_older_than_five_minutes_is_refused(world: World) -> None:
    order_no, tracking_no = await world.shipped_order()
    body = json.dumps(
        {
            "tracking_no": tracking_no,
            "status": "delivered",
            "location": "Dock 4",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
    ).encode()
    secret = world.settings.carrier_webhook_secret
    captured_at = int(time.time()) - TIMESTAMP_TOLERANCE_SECONDS - 1
    # What an eavesdropper captured more than 5 minutes ago: genuine headers, genuine body.
    captured = {
        "Content-Type": "application/json",
        "X-Carrier-Timestamp": str(captured_at),
        "X-Carrier-Signature": sign_timestamped(body, captured_at, secret),
    }
    replayed = await world.api.post(EVENTS, content=body, headers=captured)
    body_of_refusal = assert_error(replayed, 401, "Unauthorized")
    assert "5 minutes" in body_of_refusal["detail"]
    # Moving the timestamp forward breaks the signature.
    now = str(int(time.time()))
    moved = await world.api.post(
        EVENTS, content=body, headers={**captured, "X-Carrier-Timestamp": now}
    )
    assert_error(moved, 401, "Unauthorized")
    # Without a timestamp, or signed over the body alone as before, nothing passes either.
    for headers in (
        {"Content-Type": "application/json", "X-Carrier-Signature": sign_body(body, secret)},
        {**captured, "X-Carrier-Timestamp": now, "X-Carrier-Signature": sign_body(body, secret)},
    ):
        assert_error(
            await world.api.post(EVENTS, content=body, headers=headers), 401, "Unauthorized"
        )

    await asyncio.sleep(1)  # anything wrongly accepted would have reached the order by now
    order = await world.order(order_no)
    assert order["status"] == "SHIPPED"
    assert order["shipment"]["events"] == []

    # The same event signed by the carrier now is taken.
    fresh = await world.carrier_event(tracking_no, "in_transit", location="Shanghai hub")
    assert fresh.status_code == 202, fresh.text
    late = await world.carrier_event(
        tracking_no, "in_transit", signed_at=datetime.now(UTC) - timedelta(minutes=6)
    )
    assert_error(late, 401, "Unauthorized")


async def test_a_carrier_clock_a_little_off_is_tolerated(world: World) -> None:
    _, tracking_no = await world.shipped_order()
    for skew in (timedelta(minutes=-4), timedelta(minutes=4)):
        response = await world.carrier_event(
            tracking_no, "in_transit", signed_at=datetime.now(UTC) + skew
        )
        assert response.status_code == 202, response.text
    ahead = await world.carrier_event(
        tracking_no, "in_transit", signed_at=datetime.now(UTC) + timedelta(minutes=6)
    )
    assert_error(ahead, 401, "Unauthorized")
