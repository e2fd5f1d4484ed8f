"""Delegations of approval rights, and what waits on each approver, through the HTTP API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from db.models import Delegation, User
from domain.roles import Role, may_stand_in_for
from tests.factories import ONE_LEVEL_QTY, TWO_LEVEL_QTY, World
from tests.test_auth import assert_error, assert_validation_error

DELEGATIONS = "/api/v1/delegations"
PENDING = "/api/v1/approvals/pending"


def hours_from_now(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def delegate(
    world: World, by: str, to: str, *, ends_in_hours: float = 8, **extra: Any
) -> httpx.Response:
    body = {"delegate": world[to].username, "ends_at": hours_from_now(ends_in_hours), **extra}
    return await world.api.post(DELEGATIONS, json=body, headers=world[by].headers)


async def delegated(world: World, by: str, to: str, **extra: Any) -> dict[str, Any]:
    response = await delegate(world, by, to, **extra)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def delegations_seen_by(world: World, person: str) -> list[int]:
    response = await world.api.get(
        DELEGATIONS, params={"limit": 200}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["data"]]


async def revoke(world: World, delegation_id: int, *, as_: str) -> httpx.Response:
    return await world.api.delete(f"{DELEGATIONS}/{delegation_id}", headers=world[as_].headers)


async def delegations_given(world: World, person: str) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Delegation)
            .where(Delegation.delegator == world[person].username)
        )
    return int(count or 0)


async def pending(world: World, person: str) -> list[dict[str, Any]]:
    """The person's pending approvals among this test's orders."""
    response = await world.api.get(
        PENDING, params={"customer_id": world.customer_id}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    items: list[dict[str, Any]] = body["data"]
    return items


async def pending_nos(world: World, person: str) -> list[str]:
    return [item["order_no"] for item in await pending(world, person)]


async def set_active(world: World, person: str, active: bool) -> None:
    async with world.sessions.begin() as session:
        await session.execute(
            update(User).where(User.username == world[person].username).values(active=active)
        )


async def add_ended_delegation(world: World, by: str, to: str) -> int:
    """A delegation that ran yesterday; the API accepts none that ends in the past."""
    now = datetime.now(UTC)
    async with world.sessions.begin() as session:
        row = Delegation(
            delegator=world[by].username,
            delegate=world[to].username,
            starts_at=now - timedelta(days=1),
            ends_at=now - timedelta(hours=1),
        )
        session.add(row)
        await session.flush()
        return row.id


async def level_open(world: World, order_no: str, level: int, *, timeout: float = 30) -> None:
    """Wait until PostgreSQL shows the level open for decisions: the order's status and its
    review levels are written one after the other, and pending approvals read the levels."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        review = (await world.order(order_no))["review"]
        if review and review["levels"][level - 1]["status"] == "pending":
            return
        assert asyncio.get_running_loop().time() < deadline, f"{order_no} level {level} not open"
        await asyncio.sleep(0.1)


async def under_review(world: World, quantity: int = ONE_LEVEL_QTY, **kwargs: Any) -> str:
    order_no = await world.new_order(quantity, **kwargs)
    await level_open(world, order_no, 1)
    return order_no


async def approved_first_level(world: World, order_no: str, by: str) -> None:
    await world.approve_levels(order_no, [by])
    await level_open(world, order_no, 2)


# ---------------------------------------------------------------------------- same or higher


@pytest.mark.parametrize(
    ("delegate_roles", "role", "allowed"),
    [
        (["supervisor"], Role.SUPERVISOR, True),
        (["manager"], Role.SUPERVISOR, True),
        (["director"], Role.SUPERVISOR, True),
        (["ops"], Role.SUPERVISOR, True),
        (["supervisor"], Role.MANAGER, False),
        (["finance"], Role.SUPERVISOR, False),
        (["director"], Role.FINANCE, True),
        (["ops"], Role.FINANCE, True),
        (["manager"], Role.FINANCE, False),
        (["finance"], Role.DIRECTOR, False),
        (["ops"], Role.DIRECTOR, True),
        (["sales", "production"], Role.SUPERVISOR, False),
        (["sales", "manager"], Role.SUPERVISOR, True),
        ([], Role.MANAGER, False),
    ],
)
def test_a_delegate_needs_the_same_role_or_one_it_escalates_to(
    delegate_roles: list[str], role: Role, allowed: bool
) -> None:
    assert may_stand_in_for(delegate_roles, role) is allowed


# ---------------------------------------------------------------------------- delegations


async def test_an_approver_delegates_to_a_colleague_for_a_period(world: World) -> None:
    ends_at = datetime.now(UTC) + timedelta(days=3)
    response = await world.api.post(
        DELEGATIONS,
        json={
            "delegate": world["mgr"].username,
            "ends_at": ends_at.isoformat(),
            "reason": "on leave",
        },
        headers=world["sup"].headers,
    )
    assert response.status_code == 201, response.text
    given = response.json()
    assert given["delegator"] == world["sup"].username
    assert given["delegate"] == world["mgr"].username
    assert given["roles"] == ["supervisor"]
    assert given["reason"] == "on leave"
    assert given["revoked_at"] is None
    assert datetime.fromisoformat(given["ends_at"]) == ends_at
    # Without a start it starts now.
    starts_at = datetime.fromisoformat(given["starts_at"])
    assert abs(starts_at - datetime.now(UTC)) < timedelta(minutes=1)

    assert given["id"] in await delegations_seen_by(world, "sup")
    assert given["id"] in await delegations_seen_by(world, "mgr")
    assert given["id"] in await delegations_seen_by(world, "ops")
    assert given["id"] not in await delegations_seen_by(world, "sup2")


async def test_only_the_roles_the_delegate_may_stand_in_for_are_lent(world: World) -> None:
    await world.add_person("cfo", ["supervisor", "finance"])
    to_manager = await delegated(world, "cfo", "mgr")
    assert to_manager["roles"] == ["supervisor"]
    assert (await revoke(world, to_manager["id"], as_="cfo")).status_code == 200
    to_director = await delegated(world, "cfo", "dir")
    assert to_director["roles"] == ["supervisor", "finance"]


async def test_only_approvers_may_delegate(world: World) -> None:
    for person in ("sales", "prod", "customer", "ops"):
        response = await delegate(world, person, "mgr")
        assert_error(response, 403, "Forbidden")
        assert await delegations_given(world, person) == 0


async def test_a_delegation_that_cannot_work_is_refused_and_nothing_is_written(
    world: World,
) -> None:
    await world.add_person("leaver", ["manager"])
    await set_active(world, "leaver", False)
    now = datetime.now(UTC)
    refusals: list[tuple[str, dict[str, Any], str]] = [
        ("sup", {"delegate": "nobody-at-all", "ends_at": hours_from_now(8)}, "not an active"),
        ("sup", {"delegate": world["leaver"].username, "ends_at": hours_from_now(8)}, "active"),
        ("sup", {"delegate": world["sup"].username, "ends_at": hours_from_now(8)}, "yourself"),
        # A manager may not hand a manager's decisions to a supervisor, nor finance to a manager.
        ("mgr", {"delegate": world["sup"].username, "ends_at": hours_from_now(8)}, "higher"),
        ("fin", {"delegate": world["mgr"].username, "ends_at": hours_from_now(8)}, "higher"),
        (
            "sup",
            {
                "delegate": world["mgr"].username,
                "starts_at": (now + timedelta(hours=5)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
            },
            "later than starts_at",
        ),
        (
            "sup",
            {
                "delegate": world["mgr"].username,
                "starts_at": (now - timedelta(days=2)).isoformat(),
                "ends_at": (now - timedelta(days=1)).isoformat(),
            },
            "past",
        ),
    ]
    for person, body, reason in refusals:
        response = await world.api.post(DELEGATIONS, json=body, headers=world[person].headers)
        refused = assert_error(response, 422, "ValidationError")
        assert reason in refused["detail"], refused
    for person in ("sup", "mgr", "fin"):
        assert await delegations_given(world, person) == 0

    for malformed in (
        {"delegate": world["mgr"].username},
        {"delegate": world["mgr"].username, "ends_at": "next tuesday"},
        {"delegate": world["mgr"].username, "ends_at": "2099-01-01T00:00:00"},  # no time zone
        {"delegate": world["mgr"].username, "ends_at": hours_from_now(8), "roles": ["ops"]},
    ):
        response = await world.api.post(DELEGATIONS, json=malformed, headers=world["sup"].headers)
        assert_validation_error(response)
    assert await delegations_given(world, "sup") == 0


async def test_one_stand_in_at_a_time(world: World) -> None:
    first = await delegated(world, "sup", "mgr", ends_in_hours=8)
    overlapping = await delegate(world, "sup", "sup2", ends_in_hours=2)
    refused = assert_error(overlapping, 422, "ValidationError")
    assert f"delegation {first['id']}" in refused["detail"]
    assert await delegations_given(world, "sup") == 1

    # Back to back is not overlapping.
    later = await delegated(
        world, "sup", "sup2", starts_at=first["ends_at"], ends_at=hours_from_now(20)
    )
    assert later["delegate"] == world["sup2"].username

    # Once the first is revoked its period is free again.
    assert (await revoke(world, first["id"], as_="sup")).status_code == 200
    again = await delegate(world, "sup", "dir", ends_in_hours=2)
    assert again.status_code == 201, again.text
    assert await delegations_given(world, "sup") == 3


async def test_revoking_a_delegation(world: World) -> None:
    given = await delegated(world, "sup", "mgr")
    # The delegate sees it but may not revoke it; others do not see it at all.
    assert_error(await revoke(world, given["id"], as_="mgr"), 403, "Forbidden")
    assert_error(await revoke(world, given["id"], as_="sup2"), 404, "NotFound")
    assert_error(await revoke(world, 987_654_321, as_="sup"), 404, "NotFound")

    revoked = await revoke(world, given["id"], as_="sup")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert_error(await revoke(world, given["id"], as_="sup"), 409, "Conflict")
    listed = await world.api.get(DELEGATIONS, headers=world["mgr"].headers)
    [shown] = [d for d in listed.json()["data"] if d["id"] == given["id"]]
    assert shown["revoked_at"] == revoked.json()["revoked_at"]

    # Ops revokes anyone's.
    other = await delegated(world, "sup2", "mgr2")
    by_ops = await revoke(world, other["id"], as_="ops")
    assert by_ops.status_code == 200, by_ops.text
    assert by_ops.json()["revoked_at"] is not None

    ended = await add_ended_delegation(world, "dir", "ops")
    assert_error(await revoke(world, ended, as_="dir"), 409, "Conflict")
    async with world.sessions() as session:
        row = await session.get(Delegation, ended)
        assert row is not None and row.revoked_at is None


# ---------------------------------------------------------------------------- pending approvals


async def test_pending_approvals_follow_the_level_and_who_may_decide_it(world: World) -> None:
    order_no = await under_review(world)
    for approver in ("sup", "sup2"):
        [item] = await pending(world, approver)
        assert item["order_no"] == order_no
        assert item["acting_as"] == "supervisor" and item["on_behalf_of"] is None
        assert item["customer_id"] == world.customer_id
        assert item["customer_code"].startswith("C-")
        assert item["customer_name"] == f"Customer {world.tag}"
        assert (item["total"], item["currency"]) == ("1000.00", "CNY")
        assert item["created_by"] == world["sales"].username
        level = item["level"]
        assert (level["level"], level["role"], level["escalated"]) == (1, "supervisor", False)
        assert (level["quorum"], level["approvals"]) == (1, 0)
        assert level["opened_at"] is not None
        assert item["customer_history"] == {
            "orders": 0,
            "total_spend": "0.00",
            "on_time_rate": None,
        }
    # Not a manager's level until it escalates.
    assert await pending(world, "mgr") == []
    for outsider in ("sales", "prod", "customer"):
        response = await world.api.get(PENDING, headers=world[outsider].headers)
        assert_error(response, 403, "Forbidden")


async def test_the_person_who_entered_an_order_does_not_see_it(world: World) -> None:
    await world.add_person("sales_sup", ["sales", "supervisor"])
    order_no = await under_review(world, by="sales_sup")
    assert await pending_nos(world, "sales_sup") == []
    assert await pending_nos(world, "sup") == [order_no]


async def test_after_deciding_a_level_the_order_moves_to_the_next_role(world: World) -> None:
    order_no = await under_review(world, TWO_LEVEL_QTY)
    await approved_first_level(world, order_no, "sup")
    # One person decides one level: sup is done; sup2's role is not the open level's.
    assert await pending_nos(world, "sup") == []
    assert await pending_nos(world, "sup2") == []
    [item] = await pending(world, "mgr")
    assert item["order_no"] == order_no
    assert (item["level"]["level"], item["level"]["role"]) == (2, "manager")
    assert item["acting_as"] == "manager"


async def test_a_delegate_sees_the_delegators_levels_on_their_behalf(world: World) -> None:
    await world.add_person("deputy", ["manager"])
    order_no = await under_review(world)
    assert await pending_nos(world, "deputy") == []

    await delegated(world, "sup2", "deputy")
    [item] = await pending(world, "deputy")
    assert item["order_no"] == order_no
    assert item["acting_as"] == "supervisor"
    assert item["on_behalf_of"] == world["sup2"].username
    # A manager with no delegation still waits for the level to reach managers.
    assert await pending_nos(world, "mgr") == []

    # On a manager's level the deputy decides in their own right.
    bigger = await under_review(world, TWO_LEVEL_QTY)
    await approved_first_level(world, bigger, "sup")
    mine = {i["order_no"]: i for i in await pending(world, "deputy")}
    assert (mine[bigger]["acting_as"], mine[bigger]["on_behalf_of"]) == ("manager", None)


async def test_separation_of_duties_holds_through_a_delegation(world: World) -> None:
    await world.add_person("chief", ["sales", "supervisor", "manager"])
    await world.add_person("deputy", ["director"])
    await delegated(world, "chief", "deputy")
    # The delegator entered it: the delegate may not approve it for them.
    entered_by_chief = await under_review(world, by="chief")
    # The delegator decided level 1: level 2 is not theirs to decide through a delegate.
    decided_by_chief = await under_review(world, TWO_LEVEL_QTY)
    await approved_first_level(world, decided_by_chief, "chief")
    untouched = await under_review(world)

    seen = {i["order_no"]: i for i in await pending(world, "deputy")}
    assert entered_by_chief not in seen
    assert decided_by_chief not in seen
    assert seen[untouched]["on_behalf_of"] == world["chief"].username
    # Those orders still wait on others.
    assert entered_by_chief in await pending_nos(world, "sup")
    assert decided_by_chief in await pending_nos(world, "mgr")


async def test_a_delegation_not_running_lends_nothing(world: World) -> None:
    await world.add_person("deputy", ["manager"])
    await world.add_person("future", ["manager"])
    await world.add_person("late", ["manager"])
    await world.add_person("for_leaver", ["manager"])
    await world.add_person("leaver", ["supervisor"])
    await under_review(world)

    revoked = await delegated(world, "sup", "deputy")
    assert len(await pending(world, "deputy")) == 1
    assert (await revoke(world, revoked["id"], as_="sup")).status_code == 200
    assert await pending(world, "deputy") == []

    await delegated(world, "sup2", "future", starts_at=hours_from_now(1), ends_at=hours_from_now(5))
    assert await pending(world, "future") == []

    await add_ended_delegation(world, "sup", "late")
    assert await pending(world, "late") == []

    await delegated(world, "leaver", "for_leaver")
    assert len(await pending(world, "for_leaver")) == 1
    await set_active(world, "leaver", False)
    assert await pending(world, "for_leaver") == []


async def test_pending_approvals_oldest_first(world: World) -> None:
    first = await under_review(world)
    second = await under_review(world)
    assert await pending_nos(world, "sup") == [first, second]
    items = await pending(world, "sup")
    assert items[0]["level"]["opened_at"] <= items[1]["level"]["opened_at"]


async def complete(world: World, *, carrier_exception: bool = False) -> str:
    """An order approved by sup, made, shipped, delivered and confirmed; optionally the
    carrier reports an exception on the way, which ops resolves."""
    order_no, tracking_no = await world.shipped_order()
    now = datetime.now(UTC)
    if carrier_exception:
        await world.carrier_event(tracking_no, "exception", occurred_at=now, detail="no one in")
        await world.wait_for(order_no, "ON_HOLD")
        resumed = await world.act(order_no, "resume", as_="ops", json_body={"reason": "rebooked"})
        assert resumed.status_code == 200, resumed.text
    delivered = await world.carrier_event(
        tracking_no, "delivered", occurred_at=now + timedelta(hours=1)
    )
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="sales")
    assert confirmed.status_code == 200, confirmed.text
    await world.wait_for(order_no, "COMPLETED")
    return order_no


async def test_each_pending_order_carries_the_customers_history(world: World) -> None:
    await complete(world)
    await complete(world, carrier_exception=True)
    waiting = [await under_review(world), await under_review(world)]

    items = await pending(world, "sup2")
    assert [item["order_no"] for item in items] == waiting
    for item in items:
        # Three other orders; two completed at 1000.00 each, one of them held by the carrier.
        assert item["customer_history"] == {
            "orders": 3,
            "total_spend": "2000.00",
            "on_time_rate": 0.5,
        }
