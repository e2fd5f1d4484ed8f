"""Archiving on the real stack: the archive schedule's run archives orders closed longer than
ARCHIVE_AFTER (their closing transition moved into the past in PostgreSQL), never recent or
open ones; archived orders leave the default lists, stay findable and whole, and refuse
every action; a second run archives nothing more."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from temporalio.client import Client

from config import Settings
from tests.factories import World, eventually
from workflows.archive import ARCHIVE_SCHEDULE_ID
from workflows.archive_schedule import ensure_archive_schedule

ARCHIVING = "/api/v1/archiving"
ORDERS = "/api/v1/orders"


@pytest.fixture
async def schedule(temporal_client: Client, settings: Settings) -> AsyncIterator[Any]:
    """The archive schedule as a worker with the test settings sets it up (ARCHIVE_AFTER 30
    days); set back that way after a test that changed it."""

    async def set_up(**overrides: Any) -> None:
        await ensure_archive_schedule(temporal_client, settings.model_copy(update=overrides))

    await set_up()
    yield set_up
    handle = temporal_client.get_schedule_handle(ARCHIVE_SCHEDULE_ID)
    await handle.unpause(note="unpaused after the test")
    await set_up()


async def closed_days_ago(world: World, order_no: str, days: float) -> None:
    """Move the order's last transition (the one into where it is now) ``days`` back."""
    async with world.sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE status_history SET at = now() - make_interval(secs => :seconds) "
                "WHERE left_at IS NULL "
                "AND order_id = (SELECT id FROM orders WHERE order_no = :order_no)"
            ),
            {"seconds": days * 86400, "order_no": order_no},
        )


async def rejected(world: World) -> str:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    response = await world.decide(order_no, as_="sup", decision="reject", comment="Price too low")
    assert response.status_code == 200, response.text
    return order_no


async def cancelled(world: World) -> str:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    response = await world.act(
        order_no, "cancel", as_="sales", json_body={"reason": "Customer withdrew"}
    )
    assert response.status_code == 200, response.text
    return order_no


async def completed(world: World) -> tuple[str, str]:
    order_no, tracking_no = await world.shipped_order()
    delivered = await world.carrier_event(tracking_no, "delivered")
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    return order_no, tracking_no


async def archiving(world: World) -> dict[str, Any]:
    response = await world.api.get(ARCHIVING, headers=world["ops"].headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def run_archiving(world: World) -> dict[str, Any]:
    """Trigger a run as ops would and answer it once it finished, as the last run."""
    before = (await archiving(world))["last_run"]
    response = await world.api.post(f"{ARCHIVING}/run", headers=world["ops"].headers)
    assert response.status_code == 202, response.text
    state = await eventually(
        lambda: archiving(world), lambda body: body["last_run"] not in (None, before)
    )
    last_run: dict[str, Any] = state["last_run"]
    return last_run


async def stage_durations(world: World) -> Any:
    """The stage report of the test's customer over the last year."""
    response = await world.api.get(
        "/api/v1/analytics/stage-durations",
        params={
            "customer_id": world.customer_id,
            "from": (datetime.now(UTC) - timedelta(days=365)).date().isoformat(),
            "to": (datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
        },
        headers=world["ops"].headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def listed(world: World, *, as_: str = "ops", **params: Any) -> set[str]:
    response = await world.api.get(
        ORDERS,
        params={"customer_id": world.customer_id, "limit": 200, **params},
        headers=world[as_].headers,
    )
    assert response.status_code == 200, response.text
    return {order["order_no"] for order in response.json()["data"]}


async def test_closed_long_ago_is_archived_read_only_and_still_whole(
    world: World, schedule: Any
) -> None:
    old_rejected, old_cancelled = await rejected(world), await cancelled(world)
    old_completed, tracking_no = await completed(world)
    recent_rejected = await rejected(world)
    open_order = await world.new_order()
    await world.wait_for(open_order, "UNDER_REVIEW")
    for order_no in (old_rejected, old_cancelled, old_completed):
        await closed_days_ago(world, order_no, 40)
    await closed_days_ago(world, recent_rejected, 20)
    await closed_days_ago(world, open_order, 400)  # waiting a long time, but open
    whole_before = await world.order(old_completed)
    stages_before = await stage_durations(world)
    assert sum(stage["count"] for stage in stages_before["stages"]) > 0
    audit_before = await world.api.get(
        "/api/v1/audit", params={"order_no": old_completed}, headers=world["ops"].headers
    )

    run = await run_archiving(world)

    assert run["archive_after_seconds"] == timedelta(days=30).total_seconds()
    assert run["archived"] >= 3 and run["more_left"] is False
    old = {old_rejected, old_cancelled, old_completed}
    for order_no in old:
        assert (await world.order(order_no))["archived_at"] is not None
    for order_no in (recent_rejected, open_order):
        assert (await world.order(order_no))["archived_at"] is None

    # Out of the default lists (JSON and CSV), findable on asking.
    assert await listed(world) == {recent_rejected, open_order}
    assert await listed(world, archived="true") == old
    assert await listed(world, archived="any") == old | {recent_rejected, open_order}
    assert await listed(world, as_="customer") == {recent_rejected, open_order}
    assert await listed(world, as_="customer", archived=True) == old
    export = await world.api.get(
        f"{ORDERS}.csv", params={"customer_id": world.customer_id}, headers=world["ops"].headers
    )
    assert export.status_code == 200 and old_completed not in export.text
    assert recent_rejected in export.text

    # Whole: lines, review and decisions, production, stock, shipment and tracking, history.
    whole_after = await world.order(old_completed)
    assert whole_before.pop("archived_at") is None
    assert whole_after.pop("archived_at") is not None
    assert whole_after == whole_before
    assert whole_after["shipment"]["tracking_no"] == tracking_no
    assert [e["status"] for e in whole_after["shipment"]["events"]] == ["delivered"]
    history = await world.api.get(
        f"{ORDERS}/{old_completed}/history", headers=world["customer"].headers
    )
    assert history.status_code == 200
    assert history.json()["data"][-1]["to_status"] == "COMPLETED"
    audit_after = await world.api.get(
        "/api/v1/audit", params={"order_no": old_completed}, headers=world["ops"].headers
    )
    kept, added = audit_before.json()["data"], audit_after.json()["data"]
    assert added[1:] == kept and added[0]["kind"] == "archive"

    # History for analytics: they keep counting archived orders.
    assert await stage_durations(world) == stages_before

    # Read-only: every action answers 409 and says why.
    refusals = [
        await world.act(old_cancelled, "cancel", as_="sales", json_body={"reason": "again"}),
        await world.act(old_rejected, "hold", as_="ops", json_body={"reason": "look again"}),
        await world.decide(old_rejected, as_="sup"),
        await world.act(old_completed, "confirm-delivery", as_="customer"),
        await world.carrier_event(tracking_no, "delivered"),
    ]
    for refusal in refusals:
        assert refusal.status_code == 409, refusal.text
        assert "archived" in refusal.json()["detail"]

    # A second run finds nothing more to archive and leaves the archived as they were.
    stamps = {order_no: (await world.order(order_no))["archived_at"] for order_no in old}
    again = await run_archiving(world)
    assert again["archived"] == 0
    assert {order_no: (await world.order(order_no))["archived_at"] for order_no in old} == stamps


async def test_archive_after_decides_what_is_due(world: World, schedule: Any) -> None:
    ten_days, three_days = await rejected(world), await rejected(world)
    open_order = await world.new_order()
    await world.wait_for(open_order, "UNDER_REVIEW")
    await closed_days_ago(world, ten_days, 10)
    await closed_days_ago(world, three_days, 3)
    await closed_days_ago(world, open_order, 10)

    await schedule(archive_after=timedelta(days=7))
    run = await run_archiving(world)
    assert run["archive_after_seconds"] == timedelta(days=7).total_seconds()
    started = datetime.fromisoformat(run["started_at"])
    assert datetime.fromisoformat(run["closed_before"]) == started - timedelta(days=7)
    assert await listed(world, archived="true") == {ten_days}

    await schedule(archive_after=timedelta(days=2))
    await run_archiving(world)
    assert await listed(world, archived="true") == {ten_days, three_days}
    assert await listed(world) == {open_order}


async def test_a_completed_order_waits_for_its_feedback_window_and_then_takes_no_rating(
    world: World, schedule: Any
) -> None:
    unrated, _ = await completed(world)
    rated, _ = await completed(world)
    given = await world.api.post(
        f"{ORDERS}/{rated}/feedback", json={"rating": 4}, headers=world["customer"].headers
    )
    assert given.status_code == 201, given.text
    for order_no in (unrated, rated):
        await closed_days_ago(world, order_no, 40)

    # Past ARCHIVE_AFTER (30 days) but inside a 60-day FEEDBACK_WINDOW: the customer may still
    # rate the unrated order, so it stays; the rated one has nothing left to wait for.
    await schedule(feedback_window=timedelta(days=60))
    await run_archiving(world)
    assert await listed(world, archived="true") == {rated}
    assert await listed(world) == {unrated}

    # With the window closed (FEEDBACK_WINDOW 30 days) it is archived, and a rating of it is
    # refused like every other action on an archived order, writing nothing.
    await schedule()
    await run_archiving(world)
    assert await listed(world, archived="true") == {rated, unrated}
    late = await world.api.post(
        f"{ORDERS}/{unrated}/feedback", json={"rating": 1}, headers=world["customer"].headers
    )
    assert late.status_code == 409, late.text
    assert "archived" in late.json()["detail"]
    feedback = await world.api.get(
        f"{ORDERS}/{unrated}/feedback", headers=world["customer"].headers
    )
    assert feedback.status_code == 200 and feedback.json()["feedback"] is None


async def test_schedule_is_visible_pausable_and_runs_on_demand(
    world: World, schedule: Any, temporal_client: Client
) -> None:
    shown = (await archiving(world))["schedule"]
    assert shown["schedule_id"] == ARCHIVE_SCHEDULE_ID
    assert shown["paused"] is False and shown["every_seconds"] == 86400
    assert datetime.fromisoformat(shown["next_run_at"]) > datetime.now(UTC)

    # Paused in the Temporal UI, it stays paused when a worker sets it up again, and ops can
    # still run it on demand.
    await temporal_client.get_schedule_handle(ARCHIVE_SCHEDULE_ID).pause(note="quarter close")
    await schedule()
    shown = (await archiving(world))["schedule"]
    assert shown["paused"] is True and shown["note"] == "quarter close"
    due = await rejected(world)
    await closed_days_ago(world, due, 31)
    await run_archiving(world)
    assert (await world.order(due))["archived_at"] is not None


async def test_only_ops_run_archiving(world: World, schedule: Any) -> None:
    for person in ("sales", "sup", "customer"):
        refused = await world.api.post(f"{ARCHIVING}/run", headers=world[person].headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "Forbidden"


async def test_archived_filter_refuses_what_it_does_not_know(world: World) -> None:
    refused = await world.api.get(
        ORDERS, params={"archived": "maybe"}, headers=world["ops"].headers
    )
    assert refused.status_code == 422, refused.text


def test_archive_after_reads_seconds_or_iso_and_refuses_nothing() -> None:
    assert Settings(archive_after="P45D").archive_after == timedelta(days=45)
    assert Settings(archive_after="3600").archive_after == timedelta(hours=1)
    for wrong in ("0", "PT0S", "-5", "soon"):
        with pytest.raises(ValidationError):
            Settings(archive_after=wrong)
