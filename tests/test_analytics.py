"""Analytics: each report over a history built with known timestamps, and over an order driven
through the real workflow. Histories of one test live in a period (or for a customer) no
other test writes to, so the figures can be checked exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.analytics_history import KnownOrder, Level, write
from tests.factories import World

ANALYTICS = "/api/v1/analytics"


async def report(world: World, name: str, as_: str = "ops", **params: Any) -> dict[str, Any]:
    response = await world.api.get(f"{ANALYTICS}/{name}", params=params, headers=world[as_].headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def stage(body: dict[str, Any], status: str) -> dict[str, Any]:
    return next(s for s in body["stages"] if s["status"] == status)


async def test_stage_durations_of_a_known_history(world: World) -> None:
    customer = await world.add_customer()
    start = datetime(2001, 3, 1, 8, tzinfo=UTC)
    shipped_order = KnownOrder(
        customer,
        start,
        [
            ("CREATED", 0, None),
            ("UNDER_REVIEW", 100, None),
            ("APPROVED", 1100, None),
            ("AWAITING_SHIPMENT", 1200, None),
            ("SHIPPED", 1300, None),
            ("DELIVERED", 5300, None),
            ("COMPLETED", 5400, None),
        ],
        levels=[Level(1, "supervisor", opened=100, decided=1100)],
        work_orders=[(world.line, "completed", 1100, 1190), (world.line, "cancelled", 1100, None)],
    )
    held_order = KnownOrder(
        customer,
        start,
        [
            ("CREATED", 0, None),
            ("UNDER_REVIEW", 50, None),
            ("ON_HOLD", 2050, "ops: customer asked to wait"),
            ("UNDER_REVIEW", 3050, None),
            ("APPROVED", 6050, None),
        ],
        levels=[
            Level(1, "supervisor", opened=50, decided=1050),
            Level(2, "manager", opened=1050, decided=6050),
        ],
    )
    rejected_order = KnownOrder(customer, start, [("CREATED", 0, None), ("REJECTED", 30, None)])
    # Outside the period, and another customer's order inside it: neither counts.
    earlier = KnownOrder(
        customer,
        datetime(2000, 6, 1, tzinfo=UTC),
        [("CREATED", 0, None), ("REJECTED", 99_999, None)],
    )
    stranger = KnownOrder(
        await world.add_customer(), start, [("CREATED", 0, None), ("REJECTED", 7, None)]
    )
    await write(world.sessions, shipped_order, held_order, rejected_order, earlier, stranger)

    body = await report(
        world, "stage-durations", **{"from": "2001-01-01", "to": "2001-12-31"}, customer_id=customer
    )

    assert body["from"] == "2001-01-01T00:00:00Z" and body["to"] == "2002-01-01T00:00:00Z"
    assert [s["status"] for s in body["stages"]] == [
        "CREATED",
        "UNDER_REVIEW",
        "APPROVED",
        "IN_PRODUCTION",
        "AWAITING_SHIPMENT",
        "SHIPPED",
        "DELIVERED",
        "ON_HOLD",
    ]
    created = stage(body, "CREATED")
    assert (created["count"], created["open"]) == (3, 0)
    assert created["mean_seconds"] == pytest.approx(60)
    assert created["p50_seconds"] == pytest.approx(50)
    assert created["p90_seconds"] == pytest.approx(90)  # 50 + 0.8 × (100 − 50)
    assert created["max_seconds"] == pytest.approx(100)
    review = stage(body, "UNDER_REVIEW")
    assert review["count"] == 3 and review["open"] == 0
    assert review["mean_seconds"] == pytest.approx(2000)
    assert review["p90_seconds"] == pytest.approx(2800)
    assert review["total_seconds"] == pytest.approx(6000)
    approved = stage(body, "APPROVED")
    assert (approved["count"], approved["open"], approved["max_seconds"]) == (1, 1, 100)
    assert stage(body, "IN_PRODUCTION")["count"] == 0
    assert stage(body, "IN_PRODUCTION")["mean_seconds"] is None
    assert stage(body, "SHIPPED")["mean_seconds"] == pytest.approx(4000)
    assert stage(body, "ON_HOLD")["mean_seconds"] == pytest.approx(1000)
    # 180 + 6000 + 100 + 100 + 4000 + 100 + 1000 seconds in all; review holds 6000 of them.
    assert body["bottleneck"]["status"] == "UNDER_REVIEW"
    assert body["bottleneck"]["share"] == pytest.approx(6000 / 11480)
    assert body["review_levels"] == [
        {
            "level": 1,
            "role": "supervisor",
            "count": 2,
            "mean_seconds": 1000.0,
            "p50_seconds": 1000.0,
            "p90_seconds": 1000.0,
            "max_seconds": 1000.0,
        },
        {
            "level": 2,
            "role": "manager",
            "count": 1,
            "mean_seconds": 5000.0,
            "p50_seconds": 5000.0,
            "p90_seconds": 5000.0,
            "max_seconds": 5000.0,
        },
    ]
    assert body["production_lines"] == [
        {
            "line": world.line,
            "count": 1,
            "mean_seconds": 90.0,
            "p50_seconds": 90.0,
            "p90_seconds": 90.0,
            "max_seconds": 90.0,
        }
    ]


async def test_throughput_counts_every_bucket(world: World) -> None:
    customer = await world.add_customer()
    start = datetime(2002, 3, 1, 9, tzinfo=UTC)  # a Friday
    day = 86_400
    completed = KnownOrder(
        customer,
        start,
        [("CREATED", 0, None), ("UNDER_REVIEW", 60, None), ("COMPLETED", 2 * day, None)],
        total=Decimal("100.00"),
    )
    cancelled = KnownOrder(
        customer,
        start,
        [("CREATED", 0, None), ("CANCELLED", 2 * day + 60, None)],
        total=Decimal("250.50"),
    )
    rejected = KnownOrder(
        customer, start, [("CREATED", 3 * day, None), ("REJECTED", 3 * day + 1, None)]
    )
    await write(world.sessions, completed, cancelled, rejected)

    body = await report(world, "throughput", **{"from": "2002-03-01", "to": "2002-03-04"})

    assert body["bucket"] == "day"
    assert body["data"] == [
        {
            "start": "2002-03-01",
            "created": 2,
            "completed": 0,
            "rejected": 0,
            "cancelled": 0,
            "created_value": "350.50",
            "completed_value": "0.00",
        },
        {
            "start": "2002-03-02",
            "created": 0,
            "completed": 0,
            "rejected": 0,
            "cancelled": 0,
            "created_value": "0.00",
            "completed_value": "0.00",
        },
        {
            "start": "2002-03-03",
            "created": 0,
            "completed": 1,
            "rejected": 0,
            "cancelled": 1,
            "created_value": "0.00",
            "completed_value": "100.00",
        },
        {
            "start": "2002-03-04",
            "created": 1,
            "completed": 0,
            "rejected": 1,
            "cancelled": 0,
            "created_value": "100.00",
            "completed_value": "0.00",
        },
    ]
    weeks = await report(
        world, "throughput", bucket="week", **{"from": "2002-03-01", "to": "2002-03-10"}
    )
    assert [(w["start"], w["created"], w["completed"], w["rejected"]) for w in weeks["data"]] == [
        ("2002-02-25", 2, 1, 0),
        ("2002-03-04", 1, 0, 1),
    ]


async def test_approval_turnaround_per_level_and_approver(world: World) -> None:
    customer = await world.add_customer()
    start = datetime(2003, 5, 5, 9, tzinfo=UTC)
    quick, slow, delegate = (f"{name}-{world.tag}" for name in ("quick", "slow", "delegate"))
    escalated = KnownOrder(
        customer,
        start,
        [("CREATED", 0, None), ("UNDER_REVIEW", 0, None), ("APPROVED", 600, None)],
        levels=[
            Level(
                1,
                "supervisor",
                opened=0,
                decided=600,
                escalated_to="manager",
                notices=[
                    ("reminder", 1, "sup-a", 100),
                    ("reminder", 1, "sup-b", 100),
                    ("reminder", 2, "sup-a", 200),
                    ("reminder", 2, "sup-b", 200),
                    ("escalation", 1, "mgr-a", 300),
                ],
                decisions=[(quick, None, 600)],
            )
        ],
    )
    expired = KnownOrder(
        customer,
        start,
        [
            ("CREATED", 0, None),
            ("UNDER_REVIEW", 0, None),
            ("ON_HOLD", 9000, "review expired"),
        ],
        levels=[
            Level(1, "supervisor", opened=0, decided=1800, decisions=[(slow, delegate, 1800)]),
            Level(
                2,
                "manager",
                status="pending",
                opened=1800,
                notices=[("expiry", 1, "ops-a", 9000)],
            ),
        ],
    )
    await write(world.sessions, escalated, expired)

    body = await report(world, "approvals", **{"from": "2003-01-01", "to": "2003-12-31"})

    assert body["levels"] == [
        {
            "level": 1,
            "role": "supervisor",
            "decided": 2,
            "mean_seconds": 1200.0,
            "p50_seconds": 1200.0,
            "p90_seconds": pytest.approx(1680.0),
            "escalated": 1,
            "expired": 0,
            "reminders": 2,
        },
        {
            "level": 2,
            "role": "manager",
            "decided": 0,
            "mean_seconds": None,
            "p50_seconds": None,
            "p90_seconds": None,
            "escalated": 0,
            "expired": 1,
            "reminders": 0,
        },
    ]
    assert body["approvers"] == [
        {"username": quick, "decisions": 1, "mean_seconds": 600.0, "p50_seconds": 600.0},
        {"username": slow, "decisions": 1, "mean_seconds": 1800.0, "p50_seconds": 1800.0},
    ]
    assert (body["escalations"], body["expiries"], body["reminders"]) == (1, 1, 2)
    assert body["delegated_share"] == 0.5


async def test_delivery_against_the_requested_day(world: World) -> None:
    customer = await world.add_customer()
    start = datetime(2004, 5, 1, tzinfo=UTC)
    steps: list[tuple[str, float, str | None]] = [("CREATED", 0, None), ("DELIVERED", 1, None)]
    requested = date(2004, 5, 10)
    on_time = KnownOrder(
        customer,
        start,
        steps,
        requested_delivery_date=requested,
        delivered=(datetime(2004, 5, 10, 23, tzinfo=UTC) - start).total_seconds(),
    )
    late = KnownOrder(
        customer,
        start,
        steps,
        requested_delivery_date=requested,
        delivered=(datetime(2004, 5, 13, 1, tzinfo=UTC) - start).total_seconds(),
    )
    unasked = KnownOrder(customer, start, steps, delivered=5 * 86_400)
    await write(world.sessions, on_time, late, unasked)

    body = await report(world, "delivery", **{"from": "2004-01-01", "to": "2004-12-31"})

    assert (body["delivered"], body["on_time"], body["on_time_rate"]) == (2, 1, 0.5)
    assert body["without_requested_date"] == 1
    customer_code = (await world.api.get("/api/v1/customers", headers=world["ops"].headers)).json()
    code = next(c["code"] for c in customer_code["data"] if c["id"] == customer)
    assert body["late"] == [
        {
            "order_no": late.order_no,
            "customer_code": code,
            "requested_delivery_date": "2004-05-10",
            "delivered_at": "2004-05-13T01:00:00Z",
            "days_late": 3,
        }
    ]
    nothing = await report(world, "delivery", **{"from": "2005-01-01", "to": "2005-02-01"})
    assert (nothing["delivered"], nothing["on_time_rate"], nothing["late"]) == (0, None, [])
