"""Review: who may decide which level, rejections, and timers that remind and escalate."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import Client

from db.models import Decision, ReviewNotice
from tests.factories import TWO_LEVEL_QTY, World
from workflows import search_attributes as sa
from workflows.messages import workflow_id_for


async def test_rejection_with_comment_ends_the_order(world: World) -> None:
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.approve_levels(order_no, ["sup"])
    response = await world.decide(
        order_no, as_="mgr", decision="reject", comment="Margin too thin for this customer"
    )
    assert response.status_code == 200, response.text
    order = await world.wait_for(order_no, "REJECTED")
    levels = order["review"]["levels"]
    assert [level["status"] for level in levels] == ["approved", "rejected"]
    assert levels[1]["decisions"][0]["comment"] == "Margin too thin for this customer"
    last = order["history"][-1]
    assert (last["from_status"], last["to_status"]) == ("UNDER_REVIEW", "REJECTED")
    assert last["actor"] == world["mgr"].username
    assert last["reason"] == "Margin too thin for this customer"


async def test_rejection_without_comment_is_refused(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    for comment in (None, "   "):
        response = await world.decide(order_no, as_="sup", decision="reject", comment=comment)
        assert response.status_code == 422, response.text
        assert response.json()["error"] == "ValidationError"
    order = await world.order(order_no)
    assert order["status"] == "UNDER_REVIEW"
    assert order["review"]["levels"][0]["decisions"] == []


async def test_wrong_role_may_not_decide(world: World) -> None:
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")
    # Level 1 belongs to supervisors: a manager or a director is the wrong level.
    for approver in ("mgr", "dir"):
        response = await world.decide(order_no, as_=approver)
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "Forbidden"
    # Production staff are not approvers at all.
    assert (await world.decide(order_no, as_="prod")).status_code == 403
    assert await world.rows_for(Decision, order_no) == 0


async def test_creator_may_not_approve_own_order(world: World) -> None:
    await world.add_person("sales_sup", ["sales", "supervisor"])
    order_no = await world.new_order(by="sales_sup")
    await world.wait_for(order_no, "UNDER_REVIEW")
    response = await world.decide(order_no, as_="sales_sup")
    assert response.status_code == 403
    assert "entered" in response.json()["detail"]
    assert await world.rows_for(Decision, order_no) == 0


async def test_one_person_decides_one_level(world: World) -> None:
    await world.add_person("boss", ["supervisor", "manager"])
    order_no = await world.new_order(TWO_LEVEL_QTY)
    await world.approve_levels(order_no, ["boss"])
    response = await world.decide(order_no, as_="boss")
    assert response.status_code == 403
    assert "one level" in response.json()["detail"]
    assert await world.rows_for(Decision, order_no) == 1
    assert (await world.decide(order_no, as_="mgr")).status_code == 200


async def test_deciding_a_closed_order_conflicts(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "IN_PRODUCTION")
    response = await world.decide(order_no, as_="sup2")
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"


async def test_deciding_a_completed_order_conflicts(world: World) -> None:
    order_no = await world.new_order()
    await world.approve_levels(order_no, ["sup"])
    order = await world.finish_production(order_no)
    assert (await world.act(order_no, "dispatch", as_="log")).status_code == 200
    await world.carrier_event(order["shipment"]["tracking_no"], "delivered")
    await world.wait_for(order_no, "DELIVERED")
    assert (await world.act(order_no, "confirm-delivery", as_="sales")).status_code == 200
    await world.wait_for(order_no, "COMPLETED")
    response = await world.decide(order_no, as_="sup2")
    assert response.status_code == 409, response.text
    assert "COMPLETED" in response.json()["detail"]


async def test_unknown_order_is_not_found(world: World) -> None:
    response = await world.decide("SO-2026-999999", as_="sup")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "order SO-2026-999999 does not exist"}


async def test_stalled_review_reminds_then_escalates(
    world: World, api_with: Any, temporal_client: Client
) -> None:
    async with api_with(
        remind_after=timedelta(seconds=1), escalate_after=timedelta(seconds=6)
    ) as fast_api:
        order_no = await world.new_order(api=fast_api)
    await world.wait_for(order_no, "UNDER_REVIEW")

    reminders = await wait_for_notices(world, "sup", order_no, kind="reminder")
    assert reminders[0]["level"] == 1
    # Reminded but not yet escalated: a manager may not decide a supervisor's level.
    assert (await world.decide(order_no, as_="mgr")).status_code == 403

    await wait_for_notices(world, "mgr", order_no, kind="escalation")
    order = await world.order(order_no)
    level = order["review"]["levels"][0]
    assert level["escalated"] is True and level["escalated_to"] == "manager"
    described = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).describe()
    assert described.typed_search_attributes.get(sa.ESCALATED) is True

    response = await world.decide(order_no, as_="mgr2")
    assert response.status_code == 200, response.text
    decision = response.json()["review"]["levels"][0]["decisions"][0]
    assert decision["by"] == world["mgr2"].username and decision["acting_role"] == "manager"
    await world.wait_for(order_no, "IN_PRODUCTION")


async def wait_for_notices(
    world: World, person: str, order_no: str, *, kind: str, timeout: float = 20
) -> list[dict[str, Any]]:
    """Poll the person's reminders until one of ``kind`` for the order arrives."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await world.api.get("/api/v1/reminders", headers=world[person].headers)
        assert response.status_code == 200
        found = [
            n for n in response.json()["data"] if n["order_no"] == order_no and n["kind"] == kind
        ]
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, f"no {kind} for {person}"
        await asyncio.sleep(0.2)


async def test_hold_pauses_review_timers_and_resume_returns(world: World, api_with: Any) -> None:
    async with api_with(
        remind_after=timedelta(seconds=2), escalate_after=timedelta(seconds=60)
    ) as fast_api:
        order_no = await world.new_order(api=fast_api)
    await world.wait_for(order_no, "UNDER_REVIEW")
    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": "customer audit"})
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "ON_HOLD"
    assert held.json()["held_from"] == "UNDER_REVIEW"

    # While on hold nobody decides, and the reminder does not fire.
    assert (await world.decide(order_no, as_="sup")).status_code == 409
    await asyncio.sleep(3)
    assert await world.rows_for(ReviewNotice, order_no) == 0

    resumed = await world.act(order_no, "resume", as_="ops", json_body={"reason": "audit done"})
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "UNDER_REVIEW"
    await wait_for_notices(world, "sup", order_no, kind="reminder")
    assert (await world.decide(order_no, as_="sup")).status_code == 200
    order = await world.wait_for(order_no, "IN_PRODUCTION")
    path = [(h["from_status"], h["to_status"]) for h in order["history"]][1:5]
    assert path == [
        ("CREATED", "UNDER_REVIEW"),
        ("UNDER_REVIEW", "ON_HOLD"),
        ("ON_HOLD", "UNDER_REVIEW"),
        ("UNDER_REVIEW", "APPROVED"),
    ]


async def test_hold_and_resume_refuse_what_does_not_fit(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    assert (await world.act(order_no, "resume", as_="ops", json_body={})).status_code == 409
    assert (
        await world.act(order_no, "hold", as_="sales", json_body={"reason": "x"})
    ).status_code == 403
    assert (await world.act(order_no, "hold", as_="ops", json_body={})).status_code == 422
    assert (
        await world.act(order_no, "hold", as_="ops", json_body={"reason": "x"})
    ).status_code == 200
    again = await world.act(order_no, "hold", as_="ops", json_body={"reason": "x"})
    assert again.status_code == 409
    assert (await world.order(order_no))["status"] == "ON_HOLD"


async def test_a_stalled_review_reminds_a_bounded_number_of_times(
    world: World, api_with: Any, temporal_client: Client
) -> None:
    """Reminders stop at the limit, so a review left waiting neither spams its approvers nor
    grows its order's history without end; escalation and expiry still follow."""
    async with api_with(
        remind_after=timedelta(seconds=0.3),
        reminder_limit=2,
        escalate_after=timedelta(seconds=2),
        expire_after=timedelta(seconds=3),
    ) as fast_api:
        order_no = await world.new_order(api=fast_api)
    order = await world.wait_for(order_no, "ON_HOLD", timeout=20)
    assert order["history"][-1]["reason"] == "review expired"
    notices = order["review"]["levels"][0]["notices"]
    assert [(n["kind"], n["round"]) for n in notices] == [
        ("reminder", 1),
        ("reminder", 2),
        ("escalation", 1),
        ("escalation", 1),
        ("expiry", 1),
    ]
    history = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    events_on_hold = len(history.events)
    # On hold nothing fires: the history stays as it is until ops acts.
    await asyncio.sleep(1.5)
    history = await temporal_client.get_workflow_handle(workflow_id_for(order_no)).fetch_history()
    assert len(history.events) == events_on_hold
