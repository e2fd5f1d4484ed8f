"""Delegations of approval rights through the HTTP API: who may lend to whom, for which
roles and periods, and revoking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import Delegation
from domain.roles import Role, may_stand_in_for
from tests.delegation_helpers import (
    DELEGATIONS,
    add_ended_delegation,
    delegate,
    delegated,
    hours_from_now,
    revoke,
    set_active,
)
from tests.factories import World
from tests.test_auth import assert_error, assert_validation_error


async def delegations_seen_by(world: World, person: str) -> list[int]:
    response = await world.api.get(
        DELEGATIONS, params={"limit": 200}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["data"]]


async def delegations_given(world: World, person: str) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Delegation)
            .where(Delegation.delegator == world[person].username)
        )
    return int(count or 0)


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
