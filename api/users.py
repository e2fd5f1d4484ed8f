"""The people who sign in: created, changed, deactivated and given new passwords by an admin,
each change audited in the hash chain (never the password itself).

A deactivated user can no longer sign in, and its tokens stop working at once: every request
reads the user and refuses an inactive one (``api/deps.py``). A password reset ends every
session of the user the same way: tokens issued before it are refused. An admin may not deactivate
itself or change its own roles, so the last admin cannot lock everyone out by mistake.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import Conflict, InvalidRequest, NotFound
from api.master_data import audit_change, changed_fields
from api.schemas.master_data import UserCreate, UserUpdate
from db.models import Customer, User
from domain.passwords import hash_password, password_problems
from domain.roles import Role, role_conflicts


async def users(session: AsyncSession) -> list[schemas.UserAccountPublic]:
    rows = await session.scalars(select(User).order_by(User.username))
    return [schemas.UserAccountPublic.model_validate(user) for user in rows]


async def _check_roles(session: AsyncSession, roles: list[str], customer_id: int | None) -> None:
    problems = role_conflicts(roles)
    if Role.CUSTOMER in roles and customer_id is None:
        problems.append("a customer user needs the customer_id it acts for")
    if Role.CUSTOMER not in roles and customer_id is not None:
        problems.append("customer_id is only for a user with the customer role")
    if problems:
        raise InvalidRequest("; ".join(problems))
    if customer_id is not None and await session.get(Customer, customer_id) is None:
        raise InvalidRequest(f"customer {customer_id} does not exist")


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise InvalidRequest("the password is too weak: " + "; ".join(problems))


def _audited(fields: dict[str, object]) -> dict[str, object]:
    """What the audit row says about the change: that a password was set, never which."""
    shown = {name: value for name, value in fields.items() if name != "password"}
    if "password" in fields:
        shown["password_reset"] = True
    return shown


async def create_user(
    session: AsyncSession, actor: User, body: UserCreate
) -> schemas.UserAccountPublic:
    duplicate = f"a user named {body.username} already exists"
    if await session.scalar(select(User.id).where(User.username == body.username)):
        raise Conflict(duplicate)
    roles = sorted({role.value for role in body.roles})
    await _check_roles(session, roles, body.customer_id)
    _check_password(body.password, body.username)
    user = User(
        username=body.username,
        full_name=body.full_name,
        password_hash=hash_password(body.password),
        roles=roles,
        email=body.email,
        customer_id=body.customer_id,
        active=True,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(duplicate) from None
    await audit_change(
        session, actor, "user", "create", body.username, _audited(changed_fields(body))
    )
    await session.commit()
    return schemas.UserAccountPublic.model_validate(user)


async def update_user(
    session: AsyncSession, actor: User, username: str, body: UserUpdate
) -> schemas.UserAccountPublic:
    user = (
        await session.scalars(select(User).where(User.username == username).with_for_update())
    ).one_or_none()
    if user is None:
        raise NotFound(f"user {username} does not exist")
    fields = changed_fields(body)
    if user.id == actor.id and ("roles" in fields or body.active is False):
        raise Conflict("an admin may not change its own roles or deactivate itself")
    roles = sorted({role.value for role in body.roles}) if body.roles is not None else user.roles
    customer_id = body.customer_id if "customer_id" in fields else user.customer_id
    if "roles" in fields or "customer_id" in fields:
        await _check_roles(session, roles, customer_id)
    if body.password is not None:
        _check_password(body.password, username)
        user.password_hash = hash_password(body.password)
        user.password_changed_at = datetime.now(UTC)
    user.roles = roles
    user.customer_id = customer_id
    for name in ("full_name", "email", "active"):
        if name in fields:
            setattr(user, name, fields[name])
    await audit_change(session, actor, "user", "update", username, _audited(fields))
    await session.commit()
    return schemas.UserAccountPublic.model_validate(user)
