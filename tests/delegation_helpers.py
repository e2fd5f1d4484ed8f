"""Delegations for the tests that need one: lent and revoked through the HTTP API, or written
straight to the database where the API would refuse them (one that has already ended); and a
user made inactive, or active again, behind the API's back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from db.models import Delegation, User
from tests.factories import World

DELEGATIONS = "/api/v1/delegations"


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


async def revoke(world: World, delegation_id: int, *, as_: str) -> httpx.Response:
    return await world.api.delete(f"{DELEGATIONS}/{delegation_id}", headers=world[as_].headers)


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
