"""Order templates and recurring orders, on the real stack: sales keeps a customer's usual
order, enters orders from it with overrides, and gives it a schedule that Temporal runs,
pauses and triggers; each run enters exactly one order through the same path as a person, and
a run whose customer became inactive is skipped with the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment

from activities.recurring import RecurringOrderActivities, RunRequest
from api.scheduled_entry import ScheduledEntryActivities
from api.template_schedules import schedule_id
from db.models import Customer
from tests.factories import World, eventually
from tests.test_auth import assert_error

API = "/api/v1/order-templates"


async def make_template(world: World, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"Usual order {world.tag}",
        "customer_id": world.customer_id,
        "lines": [{"sku": world.sku, "quantity": 10}],
        "notes": "Deliver to dock 3.\nCall first.",
        **fields,
    }
    response = await world.api.post(API, json=body, headers=world["sales"].headers)
    assert response.status_code == 201, response.text
    template: dict[str, Any] = response.json()
    return template


async def runs(world: World, template_id: int) -> list[dict[str, Any]]:
    response = await world.api.get(f"{API}/{template_id}/runs", headers=world["ops"].headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def act(world: World, template_id: int, action: str, as_: str = "sales") -> httpx.Response:
    return await world.api.post(
        f"{API}/{template_id}/schedule/{action}", headers=world[as_].headers
    )


# ---------------------------------------------------------------------------- templates


async def test_sales_keeps_templates_and_staff_read_them(world: World) -> None:
    other_sku = await world.add_product()
    template = await make_template(world)
    assert template["owner"] == world["sales"].username
    assert template["lines"] == [{"sku": world.sku, "quantity": 10}]
    assert template["schedule"] is None and template["schedule_state"] is None
    template_id = template["id"]

    listed = await world.api.get(
        API, params={"customer_id": world.customer_id}, headers=world["prod"].headers
    )
    assert [t["id"] for t in listed.json()["data"]] == [template_id]
    # Its notes are internal: customers do not read templates.
    refused = await world.api.get(API, headers=world["customer"].headers)
    assert_error(refused, 403, "Forbidden")

    colleague = await world.add_person("sales2", ["sales"])
    changed = await world.api.put(
        f"{API}/{template_id}",
        json={
            "name": "Usual order, bigger",
            "customer_id": world.customer_id,
            "lines": [{"sku": world.sku, "quantity": 20}, {"sku": other_sku, "quantity": 5}],
        },
        headers=colleague.headers,
    )
    assert changed.status_code == 200, changed.text
    read = await world.api.get(f"{API}/{template_id}", headers=world["ops"].headers)
    assert read.json()["name"] == "Usual order, bigger"
    assert read.json()["notes"] is None
    assert read.json()["owner"] == colleague.username
    assert [line["quantity"] for line in read.json()["lines"]] == [20, 5]

    audit = await world.api.get(
        "/api/v1/audit",
        params={"kind": "order_template", "limit": 200},
        headers=world["ops"].headers,
    )
    actions = [
        row["payload"]["action"]
        for row in audit.json()["data"]
        if row["payload"]["template_id"] == template_id
    ]
    assert sorted(actions) == ["create", "update"]

    deleted = await world.api.delete(f"{API}/{template_id}", headers=world["sales"].headers)
    assert deleted.status_code == 204, deleted.text
    gone = await world.api.get(f"{API}/{template_id}", headers=world["ops"].headers)
    assert_error(gone, 404, "NotFound")


async def test_an_order_from_a_template_takes_its_customer_and_lines_or_the_overrides(
    world: World,
) -> None:
    customer_id = await world.add_customer()
    template = await make_template(
        world, customer_id=customer_id, lines=[{"sku": world.sku, "quantity": 7}]
    )
    as_is = await world.api.post(
        "/api/v1/orders", json={"template_id": template["id"]}, headers=world["sales"].headers
    )
    assert as_is.status_code == 201, as_is.text
    assert as_is.json()["customer_id"] == customer_id
    assert [(line["sku"], line["quantity"]) for line in as_is.json()["lines"]] == [(world.sku, 7)]
    assert as_is.json()["status"] == "UNDER_REVIEW"

    wanted = (date.today() + timedelta(days=20)).isoformat()
    body = {
        "template_id": template["id"],
        "lines": [{"sku": world.sku, "quantity": 3}],
        "requested_delivery_date": wanted,
    }
    headers = {**world["sales"].headers, "Idempotency-Key": f"tpl-{world.tag}"}
    overridden = await world.api.post("/api/v1/orders", json=body, headers=headers)
    assert overridden.status_code == 201, overridden.text
    assert [line["quantity"] for line in overridden.json()["lines"]] == [3]
    assert overridden.json()["requested_delivery_date"] == wanted
    # The idempotency rules hold: the same request again is the same order, another is refused.
    again = await world.api.post("/api/v1/orders", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["order_no"] == overridden.json()["order_no"]
    other = await world.api.post(
        "/api/v1/orders",
        json={**body, "lines": [{"sku": world.sku, "quantity": 4}]},
        headers=headers,
    )
    assert_error(other, 422, "ValidationError")
    assert len(await world.order_nos(customer_id)) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"customer_id": 10**9},
        {"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]},
        {"name": "bad\x00name"},
        {"lines": []},
        {"schedule": {"kind": "monthly", "day": 31}},
        {"schedule": {"kind": "cron", "cron": "every day"}},
        {"schedule": {"kind": "cron", "cron": "99 * * * *"}},
        {"schedule": {"kind": "monthly", "day": 1, "time_zone": "Mars/Olympus"}},
    ],
)
async def test_bad_templates_are_refused_and_leave_nothing(
    world: World, change: dict[str, Any]
) -> None:
    body = {
        "name": "bad",
        "customer_id": world.customer_id,
        "lines": [{"sku": world.sku, "quantity": 1}],
        **change,
    }
    response = await world.api.post(API, json=body, headers=world["sales"].headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "ValidationError"
    listed = await world.api.get(
        API, params={"customer_id": world.customer_id}, headers=world["ops"].headers
    )
    assert listed.json()["data"] == []


async def test_bad_orders_from_templates_are_refused(world: World) -> None:
    template = await make_template(world)
    for body in (
        {"template_id": 10**9},
        {"template_id": template["id"], "customer_id": world.customer_id},
        {"template_id": template["id"], "lines": []},
        {},
    ):
        response = await world.api.post("/api/v1/orders", json=body, headers=world["sales"].headers)
        assert response.status_code == 422, (body, response.text)
    assert await world.order_nos(world.customer_id) == []
    no_schedule = await act(world, template["id"], "trigger")
    assert_error(no_schedule, 409, "Conflict")
    missing = await act(world, 10**9, "pause")
    assert_error(missing, 404, "NotFound")


# ---------------------------------------------------------------------------- schedules


async def test_a_schedule_runs_in_temporal_is_paused_and_each_trigger_enters_one_order(
    world: World, temporal_client: Client
) -> None:
    customer_id = await world.add_customer()
    schedule = {"kind": "monthly", "day": 1, "hour": 6, "minute": 0, "time_zone": "UTC"}
    template = await make_template(world, customer_id=customer_id, schedule=schedule)
    template_id = template["id"]

    read = await world.api.get(f"{API}/{template_id}", headers=world["ops"].headers)
    state = read.json()["schedule_state"]
    assert state["schedule_id"] == f"order-template-{template_id}"
    assert state["paused"] is False
    next_runs = [datetime.fromisoformat(at) for at in state["next_runs"]]
    assert next_runs and all((at.day, at.hour, at.minute) == (1, 6, 0) for at in next_runs)
    # The schedule is Temporal's own, as ops see it in the UI.
    described = await temporal_client.get_schedule_handle(schedule_id(template_id)).describe()
    assert described.info.next_action_times == next_runs

    paused = await act(world, template_id, "pause", as_="ops")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True

    # A trigger runs it now, paused or not: one order, entered as its owner and reviewed.
    triggered = await act(world, template_id, "trigger")
    assert triggered.status_code == 200, triggered.text
    [first] = await eventually(lambda: runs(world, template_id), lambda rows: len(rows) == 1)
    assert first["outcome"] == "entered", first
    order = await world.wait_for(first["order_no"], "UNDER_REVIEW")
    assert order["customer_id"] == customer_id
    assert order["created_by"] == world["sales"].username
    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [(world.sku, 10)]

    # Runs are named by the second they were due: the next trigger comes in a later one.
    first_due = datetime.fromisoformat(first["scheduled_at"])

    async def now() -> datetime:
        return datetime.now(UTC)

    await eventually(now, lambda at: at >= first_due + timedelta(seconds=1))
    assert (await act(world, template_id, "trigger")).status_code == 200
    both = await eventually(lambda: runs(world, template_id), lambda rows: len(rows) == 2)
    assert all(run["outcome"] == "entered" for run in both), both
    orders = await world.order_nos(customer_id)
    assert sorted(orders) == sorted(run["order_no"] for run in both)

    unpaused = await act(world, template_id, "unpause")
    assert unpaused.json()["paused"] is False

    # Deleting the template deletes its schedule.
    deleted = await world.api.delete(f"{API}/{template_id}", headers=world["sales"].headers)
    assert deleted.status_code == 204, deleted.text
    with pytest.raises(RPCError):
        await temporal_client.get_schedule_handle(schedule_id(template_id)).describe()


async def test_a_run_whose_customer_became_inactive_is_skipped_with_the_reason(
    world: World,
) -> None:
    customer_id = await world.add_customer()
    template = await make_template(
        world,
        customer_id=customer_id,
        schedule={"kind": "cron", "cron": "0 6 * * 1", "time_zone": "Asia/Shanghai"},
    )
    async with world.sessions.begin() as session:
        await session.execute(
            update(Customer).where(Customer.id == customer_id).values(active=False)
        )

    assert (await act(world, template["id"], "trigger")).status_code == 200
    [run] = await eventually(lambda: runs(world, template["id"]), lambda rows: len(rows) == 1)
    assert run["outcome"] == "skipped" and run["order_no"] is None
    assert "inactive" in run["reason"], run
    alerts = await world.api.get(
        "/api/v1/alerts", params={"kind": "template_run_skipped"}, headers=world["ops"].headers
    )
    assert any(
        f"order template {template['id']}," in alert["message"] for alert in alerts.json()["data"]
    ), alerts.text
    assert await world.order_nos(customer_id) == []


async def test_a_run_retried_for_the_same_scheduled_time_enters_its_order_once(
    world: World, temporal_client: Client
) -> None:
    """What a retried activity (or a run started again for the same time) does: the key named
    after the scheduled time finds the order the first attempt entered."""
    customer_id = await world.add_customer()
    template = await make_template(world, customer_id=customer_id)
    activities = RecurringOrderActivities(world.sessions)
    entry = ScheduledEntryActivities(world.sessions, world.settings)
    env = ActivityEnvironment(client=temporal_client)
    due = "2026-12-01T06:00:00+00:00"
    planned = await env.run(activities.plan_run, RunRequest(template["id"], due))
    assert planned.plan is not None, planned
    first = await env.run(entry.enter_order, planned.plan)
    again = await env.run(entry.enter_order, planned.plan)
    assert first.outcome == again.outcome == "entered"
    assert first.order_no == again.order_no
    assert await world.order_nos(customer_id) == [first.order_no]
    [run] = await runs(world, template["id"])
    assert run["order_no"] == first.order_no
    assert datetime.fromisoformat(run["scheduled_at"]) == datetime.fromisoformat(due)
