"""Analytics of the order book now, of an order driven through the real workflow, who may
read them and which periods are refused; and the requested delivery date of an entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import Client

from domain.statuses import OrderStatus
from domain.waiting import waiting_on
from tests.analytics_history import KnownOrder, Level, add_alert, write
from tests.factories import World
from tests.test_analytics import ANALYTICS, report, stage
from workflows.messages import workflow_id_for


def by_status(body: dict[str, Any]) -> dict[str, tuple[int, Decimal]]:
    return {s["status"]: (s["count"], Decimal(s["value"])) for s in body["statuses"]}


async def test_overview_names_the_oldest_waiting_and_held_orders(world: World) -> None:
    customer = await world.add_customer()
    # Earlier than anything other tests write, so these are the oldest waiting orders.
    start = datetime(2000, 1, 1, tzinfo=UTC)
    day = 86_400
    fault = KnownOrder(
        customer,
        start,
        [
            ("CREATED", 0, None),
            ("AWAITING_SHIPMENT", 10, None),
            ("ON_HOLD", 20, "system fault: carrier booking failed"),
        ],
        total=Decimal("1000.00"),
    )
    escalated = KnownOrder(
        customer,
        start,
        [("CREATED", day - 1, None), ("UNDER_REVIEW", day, None)],
        total=Decimal("20000.00"),
        levels=[
            Level(1, "supervisor", opened=day, decided=day + 60),
            Level(
                2,
                "manager",
                status="pending",
                opened=day + 60,
                escalated_to="director",
                notices=[("escalation", 1, "dir-a", 2 * day)],
            ),
        ],
    )
    expired = KnownOrder(
        customer,
        start,
        [
            ("CREATED", 3 * day, None),
            ("UNDER_REVIEW", 3 * day, None),
            ("ON_HOLD", 3 * day + 5, "review expired"),
        ],
        total=Decimal("5.50"),
    )
    closed = KnownOrder(customer, start, [("CREATED", 0, None), ("REJECTED", 1, None)])
    await write(world.sessions, fault, escalated, expired, closed)
    await add_alert(world.sessions, fault, "carrier booking failed")
    await add_alert(world.sessions, closed, "of a closed order: not open")

    everyone = await report(world, "overview")
    body = await report(world, "overview", customer_id=customer)

    assert len(body["statuses"]) == 11
    assert body["statuses"][0]["label"] == {"en": "Created", "zh": "已创建"}
    assert {status: figures for status, figures in by_status(body).items() if figures[0]} == {
        "ON_HOLD": (2, Decimal("1005.50")),
        "UNDER_REVIEW": (1, Decimal("20000.00")),
        "REJECTED": (1, Decimal("100.00")),
    }
    # Of the two alerts, the one about an order still open.
    assert body["open_alerts"] == 1
    # Dated before anything else, they are the oldest waiting of the whole order book too.
    assert [w["order_no"] for w in everyone["oldest_waiting"][:2]] == [
        fault.order_no,
        escalated.order_no,
    ]
    waiting = body["oldest_waiting"]
    assert [(w["order_no"], w["status"], w["waiting_on"], w["since"]) for w in waiting] == [
        (
            fault.order_no,
            "ON_HOLD",
            "ops to resume or cancel (system fault)",
            "2000-01-01T00:00:20Z",
        ),
        (
            escalated.order_no,
            "UNDER_REVIEW",
            "manager or director (escalated) approval, level 2 of 2",
            "2000-01-02T00:00:00Z",
        ),
        (expired.order_no, "ON_HOLD", "ops to resume", "2000-01-04T00:00:05Z"),
    ]
    assert body["escalated"] == [
        {
            "order_no": escalated.order_no,
            "status": "UNDER_REVIEW",
            "customer_code": waiting[1]["customer_code"],
            "since": "2000-01-03T00:00:00Z",
            "reason": "level 2 (manager) escalated to director",
        }
    ]
    assert [r["order_no"] for r in body["on_hold"]] == [fault.order_no, expired.order_no]
    [system_fault] = body["system_faults"]
    assert system_fault["order_no"] == fault.order_no
    assert system_fault["reason"] == "system fault: carrier booking failed"
    assert [r["order_no"] for r in body["expired"]] == [expired.order_no]


async def test_an_order_through_the_workflow_is_measured(world: World) -> None:
    wanted = (datetime.now(UTC) + timedelta(days=3)).date()
    entry = {
        "customer_id": world.customer_id,
        "lines": [{"sku": world.sku, "quantity": 10}],
        "requested_delivery_date": wanted.isoformat(),
    }
    response = await world.api.post("/api/v1/orders", json=entry, headers=world["sales"].headers)
    assert response.status_code == 201, response.text
    order_no = response.json()["order_no"]
    await world.approve_levels(order_no, ["sup"])
    order = await world.finish_production(order_no)
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    tracking_no = order["shipment"]["tracking_no"]
    assert (await world.carrier_event(tracking_no, "delivered")).status_code == 202
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    await world.wait_for(order_no, "COMPLETED")

    body = await report(world, "stage-durations", customer_id=world.customer_id)

    for status in (
        "CREATED",
        "UNDER_REVIEW",
        "APPROVED",
        "IN_PRODUCTION",
        "AWAITING_SHIPMENT",
        "SHIPPED",
        "DELIVERED",
    ):
        assert (stage(body, status)["count"], stage(body, status)["open"]) == (1, 0), status
    assert stage(body, "ON_HOLD")["count"] == 0
    assert body["bottleneck"] is not None
    assert [(r["level"], r["role"], r["count"]) for r in body["review_levels"]] == [
        (1, "supervisor", 1)
    ]
    assert [(p["line"], p["count"]) for p in body["production_lines"]] == [(world.line, 1)]
    approvals = await report(world, "approvals")
    assert world["sup"].username in {a["username"] for a in approvals["approvers"]}
    delivery = await report(world, "delivery", customer_id=world.customer_id)
    assert (delivery["delivered"], delivery["on_time"], delivery["on_time_rate"]) == (1, 1, 1.0)
    assert (delivery["without_requested_date"], delivery["late"]) == (0, [])


async def test_requested_delivery_date_round_trips(world: World, temporal_client: Client) -> None:
    wanted = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    body = {
        "customer_id": world.customer_id,
        "lines": [{"sku": world.sku, "quantity": 1}],
        "requested_delivery_date": wanted,
    }
    created = await world.api.post("/api/v1/orders", json=body, headers=world["sales"].headers)
    assert created.status_code == 201, created.text
    assert created.json()["requested_delivery_date"] == wanted
    order_no = created.json()["order_no"]
    assert (await world.order(order_no))["requested_delivery_date"] == wanted
    assert (await world.order(order_no, as_="customer"))["requested_delivery_date"] == wanted
    # The workflow's input, as the Temporal UI shows it, names the day too.
    history = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [params] = started.input.payloads
    assert f'"requested_delivery_date":"{wanted}"' in params.data.decode()
    listed = await world.api.get(
        "/api/v1/orders", params={"customer_id": world.customer_id}, headers=world["ops"].headers
    )
    assert {o["order_no"]: o["requested_delivery_date"] for o in listed.json()["data"]}[
        order_no
    ] == wanted
    plain = await world.order(await world.new_order(1))
    assert plain["requested_delivery_date"] is None


@pytest.mark.parametrize(
    "wanted",
    [
        (datetime.now(UTC) - timedelta(days=2)).date().isoformat(),
        (datetime.now(UTC) + timedelta(days=800)).date().isoformat(),
        "2026-13-01",
        "soon",
    ],
)
async def test_a_requested_delivery_date_in_the_past_or_far_ahead_is_refused(
    world: World, wanted: str
) -> None:
    body = {
        "customer_id": world.customer_id,
        "lines": [{"sku": world.sku, "quantity": 1}],
        "requested_delivery_date": wanted,
    }
    response = await world.api.post("/api/v1/orders", json=body, headers=world["sales"].headers)
    assert response.status_code == 422, response.text
    assert await world.order_nos(world.customer_id) == []


@pytest.mark.parametrize(
    "name", ["stage-durations", "throughput", "approvals", "delivery", "overview"]
)
async def test_customers_may_not_read_analytics(world: World, name: str) -> None:
    response = await world.api.get(f"{ANALYTICS}/{name}", headers=world["customer"].headers)
    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"
    for staff in ("sales", "prod", "log", "fin"):
        allowed = await world.api.get(f"{ANALYTICS}/{name}", headers=world[staff].headers)
        assert allowed.status_code == 200, (staff, allowed.text)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("stage-durations", {"from": "2026-02-01", "to": "2026-01-01"}),
        ("stage-durations", {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
        ("throughput", {"from": "2026-01-01T08:00:00"}),
        ("approvals", {"from": "1999-12-31"}),
        ("delivery", {"to": "2100-01-01"}),
        ("delivery", {"from": "yesterday"}),
        ("approvals", {"from": "2026-01-01\x00"}),
        ("throughput", {"bucket": "month"}),
        ("throughput", {"from": "2001-01-01", "to": "2026-01-01"}),
        ("stage-durations", {"customer_id": "0"}),
    ],
)
async def test_bad_periods_are_refused(world: World, name: str, params: dict[str, str]) -> None:
    response = await world.api.get(
        f"{ANALYTICS}/{name}", params=params, headers=world["ops"].headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"


async def test_the_default_period_is_the_last_30_days(world: World) -> None:
    body = await report(world, "throughput")
    start, end = (datetime.fromisoformat(body[k]) for k in ("from", "to"))
    assert end - start == timedelta(days=30)
    assert abs(end - datetime.now(UTC)) < timedelta(minutes=5)
    assert len(body["data"]) == 31


def test_waiting_on_says_whom_in_plain_words() -> None:
    review = OrderStatus.UNDER_REVIEW
    assert waiting_on(review, level=1, level_count=2, role="supervisor") == (
        "supervisor approval, level 1 of 2"
    )
    assert waiting_on(review, level=2, level_count=3, role="manager", escalated_to="director") == (
        "manager or director (escalated) approval, level 2 of 3"
    )
    assert waiting_on(OrderStatus.AWAITING_SHIPMENT) == "logistics to dispatch"
    assert waiting_on(OrderStatus.ON_HOLD, carrier_hold=True) == (
        "ops to resume or cancel (carrier exception)"
    )
    assert waiting_on(OrderStatus.ON_HOLD, fault=True) == "ops to resume or cancel (system fault)"
    assert waiting_on(OrderStatus.COMPLETED) == "nothing: the order is closed"
