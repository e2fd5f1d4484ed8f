"""Users: an admin creates them, changes their roles, resets their passwords and deactivates
them; a deactivated user can no longer sign in and its tokens stop working; every change is
in the audit chain, never a password. The first admin comes from ``python -m db.admin``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from sqlalchemy import select

from api.security import ALGORITHM
from db.admin import PASSWORD_VARIABLE
from db.models import AuditEntry
from tests.conftest import PROJECT_ROOT
from tests.factories import World
from tests.fresh_database import empty_database_url

__all__ = ["empty_database_url"]  # a fixture, used by name
from tests.test_auth import assert_error

USERS = "/api/v1/users"
GOOD_PASSWORD = "a-long-first-password"


def new_username(world: World, name: str) -> str:
    return f"{name}-{world.tag}-{uuid.uuid4().hex[:4]}"


async def sign_in(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post("/api/v1/auth/token", data={"username": username, "password": password})


async def create_user(world: World, **fields: Any) -> dict[str, Any]:
    body = {"full_name": "New Person", "password": GOOD_PASSWORD, "roles": ["sales"], **fields}
    response = await world.api.post(USERS, json=body, headers=world["admin"].headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def user_audit(world: World, username: str) -> list[dict[str, Any]]:
    async with world.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.kind == "user", AuditEntry.payload["key"].astext == username)
            .order_by(AuditEntry.id)
        )
        return [{"actor": row.actor, **row.payload} for row in rows]


async def test_an_admin_creates_a_user_who_signs_in_and_acts_in_its_roles(world: World) -> None:
    username = new_username(world, "sales")
    created = await create_user(world, username=username, email="li.na@erp.example.test")
    assert created["roles"] == ["sales"] and created["active"] is True
    assert "password" not in created and "password_hash" not in created

    signed_in = await sign_in(world.api, username, GOOD_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    entered = await world.api.post(
        "/api/v1/orders",
        json={"customer_id": world.customer_id, "lines": [{"sku": world.sku, "quantity": 1}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert entered.status_code == 201, entered.text

    listed = await world.api.get(USERS, headers=world["admin"].headers)
    assert username in {user["username"] for user in listed.json()["data"]}

    [audited] = await user_audit(world, username)
    assert audited["actor"] == world["admin"].username
    assert audited["action"] == "create" and audited["changes"]["roles"] == ["sales"]
    assert GOOD_PASSWORD not in str(audited) and audited["changes"]["password_reset"] is True


async def test_a_deactivated_user_cannot_sign_in_and_its_token_stops_working(
    world: World,
) -> None:
    username = new_username(world, "leaver")
    await create_user(world, username=username)
    token = (await sign_in(world.api, username, GOOD_PASSWORD)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await world.api.get("/api/v1/me", headers=headers)).status_code == 200

    deactivated = await world.api.patch(
        f"{USERS}/{username}", json={"active": False}, headers=world["admin"].headers
    )
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False

    assert_error(await sign_in(world.api, username, GOOD_PASSWORD), 401, "Unauthorized")
    assert_error(await world.api.get("/api/v1/me", headers=headers), 401, "Unauthorized")
    assert [row["changes"] for row in await user_audit(world, username)][-1] == {"active": False}


async def test_an_admin_resets_a_password_and_changes_roles(world: World) -> None:
    username = new_username(world, "mover")
    await create_user(world, username=username)
    admin = world["admin"].headers
    # A token from before the reset (tokens count whole seconds, so a minute before).
    issued = datetime.now(UTC) - timedelta(minutes=1)
    claims = {"sub": username, "iat": issued, "exp": issued + timedelta(hours=1)}
    old_token = jwt.encode(claims, world.settings.jwt_secret, ALGORITHM)
    old_headers = {"Authorization": f"Bearer {old_token}"}
    assert (await world.api.get("/api/v1/me", headers=old_headers)).status_code == 200
    new_password = "another-long-password"
    reset = await world.api.patch(
        f"{USERS}/{username}",
        json={"password": new_password, "roles": ["logistics", "production"]},
        headers=admin,
    )
    assert reset.status_code == 200, reset.text
    assert reset.json()["roles"] == ["logistics", "production"]
    assert_error(await sign_in(world.api, username, GOOD_PASSWORD), 401, "Unauthorized")
    assert_error(await world.api.get("/api/v1/me", headers=old_headers), 401, "Unauthorized")
    signed_in = await sign_in(world.api, username, new_password)
    assert signed_in.status_code == 200, signed_in.text
    me = await world.api.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    )
    assert me.json()["roles"] == ["logistics", "production"]
    changes = (await user_audit(world, username))[-1]["changes"]
    assert changes == {"roles": ["logistics", "production"], "password_reset": True}


async def test_users_are_refused_clearly_and_nothing_is_written(world: World) -> None:
    admin = world["admin"].headers
    taken = world["sales"].username
    body = {"full_name": "X", "password": GOOD_PASSWORD, "roles": ["sales"]}
    duplicate = await world.api.post(USERS, json={**body, "username": taken}, headers=admin)
    assert "already exists" in assert_error(duplicate, 409, "Conflict")["detail"]

    username = new_username(world, "weak")
    for refused in (
        {**body, "username": username, "password": "short"},
        {**body, "username": username, "password": f"{username}-secret"},
        {**body, "username": username, "roles": ["admin", "supervisor"]},
        {**body, "username": username, "roles": ["customer"]},
        {**body, "username": username, "roles": ["sales"], "customer_id": world.customer_id},
    ):
        response = await world.api.post(USERS, json=refused, headers=admin)
        assert_error(response, 422, "ValidationError")
    for malformed in (
        {**body, "username": "bad\x00name"},
        {**body, "username": username, "roles": ["emperor"]},
        {**body, "username": username, "email": "not-an-address"},
        {**body, "username": username, "extra": 1},
    ):
        assert (await world.api.post(USERS, json=malformed, headers=admin)).status_code == 422
    listed = await world.api.get(USERS, headers=admin)
    assert username not in {user["username"] for user in listed.json()["data"]}
    assert await user_audit(world, username) == []

    assert_error(
        await world.api.patch(f"{USERS}/nobody-{world.tag}", json={"active": False}, headers=admin),
        404,
        "NotFound",
    )
    own = await world.api.patch(
        f"{USERS}/{world['admin'].username}", json={"active": False}, headers=admin
    )
    assert_error(own, 409, "Conflict")


async def test_only_an_admin_manages_users(world: World) -> None:
    for person in ("ops", "sales", "customer"):
        response = await world.api.get(USERS, headers=world[person].headers)
        assert_error(response, 403, "Forbidden")


def run_create_admin(
    database_url: str, username: str, password: str | None
) -> subprocess.CompletedProcess[str]:
    """``python -m db.admin create-admin`` as an operator runs it, without a terminal."""
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop(PASSWORD_VARIABLE, None)
    if password is not None:
        env[PASSWORD_VARIABLE] = password
    return subprocess.run(
        [sys.executable, "-m", "db.admin", "create-admin", "--username", username],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        cwd=PROJECT_ROOT,
    )


async def test_create_admin_makes_the_first_admin_of_an_empty_database_once(
    empty_database_url: str, api_with: Any
) -> None:
    weak = run_create_admin(empty_database_url, "root", "root-pass")
    assert weak.returncode == 1 and "too weak" in weak.stderr, weak
    no_password = run_create_admin(empty_database_url, "root", None)
    assert no_password.returncode == 1 and PASSWORD_VARIABLE in no_password.stderr

    created = run_create_admin(empty_database_url, "root", GOOD_PASSWORD)
    assert created.returncode == 0, created.stderr
    assert "created" in created.stdout
    again = run_create_admin(empty_database_url, "root", GOOD_PASSWORD)
    assert again.returncode == 0 and "exists already" in again.stdout, again
    second = run_create_admin(empty_database_url, "root2", GOOD_PASSWORD)
    assert second.returncode == 1 and "an admin exists already (root)" in second.stderr

    async with api_with(database_url=empty_database_url) as api:
        signed_in = await sign_in(api, "root", GOOD_PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        listed = await api.get(USERS, headers=headers)
        assert [(u["username"], u["roles"]) for u in listed.json()["data"]] == [("root", ["admin"])]
        audit = await api.get("/api/v1/audit/verify", headers=headers)
        assert audit.status_code == 403  # the audit log is for ops; admins act, ops look
