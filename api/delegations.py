"""Delegations of approval rights.

An approver lends their approval rights to a colleague of the same or a higher role for a
period; while it runs, the colleague decides on the approver's behalf. Separation of duties
holds through a delegation: the delegate decides nothing that the delegator could not
(an order the delegator entered, a second level of an order the delegator already decided).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound
from api.paging import decode_cursor, encode_cursor
from db.audit import append_audit
from db.models import Delegation, User
from domain.roles import LENDABLE_ROLES, Role, may_stand_in_for


def lendable_roles(delegator_roles: list[str], delegate_roles: list[str]) -> list[str]:
    """The delegator's approver roles that the delegate may stand in for, lowest first."""
    return [
        role.value
        for role in Role
        if role in LENDABLE_ROLES
        and role.value in delegator_roles
        and may_stand_in_for(delegate_roles, role)
    ]


async def _user(session: AsyncSession, username: str) -> User | None:
    return (await session.scalars(select(User).where(User.username == username))).one_or_none()


async def _roles_of(session: AsyncSession, usernames: set[str]) -> dict[str, list[str]]:
    rows = await session.execute(
        select(User.username, User.roles).where(User.username.in_(usernames))
    )
    return {username: list(roles) for username, roles in rows}


# Before the edge bounded datetimes, a period could be stored that ends past the year 9999
# (``9999-12-31T23:59:59-23:59``), which no Python datetime holds. Every read of a period
# goes through these columns, clamped a day inside what Python holds (a day, so that no
# session time zone pushes them out again), so such a row still lists and can be revoked.
_READABLE_FROM = datetime(1, 1, 2, tzinfo=UTC)
_READABLE_UNTIL = datetime(9999, 12, 30, tzinfo=UTC)


def _readable(column: Any, name: str) -> Any:
    return case(
        (column < _READABLE_FROM, _READABLE_FROM),
        (column > _READABLE_UNTIL, _READABLE_UNTIL),
        else_=column,
    ).label(name)


def _read_delegations() -> Select[Any]:
    """The delegations' columns, every datetime readable (see above)."""
    return select(
        Delegation.id,
        Delegation.delegator,
        Delegation.delegate,
        _readable(Delegation.starts_at, "starts_at"),
        _readable(Delegation.ends_at, "ends_at"),
        Delegation.reason,
        _readable(Delegation.revoked_at, "revoked_at"),
        _readable(Delegation.created_at, "created_at"),
    )


async def _public(
    session: AsyncSession, delegations: Sequence[Row[Any]]
) -> list[schemas.DelegationPublic]:
    """Roles are worked out from what both people hold now, so a delegation follows a
    promotion or a change of duties without being made again."""
    roles = await _roles_of(
        session, {d.delegator for d in delegations} | {d.delegate for d in delegations}
    )
    return [
        schemas.DelegationPublic(
            id=d.id,
            delegator=d.delegator,
            delegate=d.delegate,
            roles=lendable_roles(roles.get(d.delegator, []), roles.get(d.delegate, [])),
            starts_at=d.starts_at,
            ends_at=d.ends_at,
            reason=d.reason,
            revoked_at=d.revoked_at,
            created_at=d.created_at,
        )
        for d in delegations
    ]


def ensure_may_delegate(user: User) -> None:
    if not LENDABLE_ROLES.intersection(user.roles):
        raise Forbidden(
            "only an approver (supervisor, manager, director or finance) may delegate approvals"
        )


async def create_delegation(
    session: AsyncSession, user: User, body: schemas.DelegationCreate
) -> schemas.DelegationPublic:
    """Lend the caller's approval rights to a colleague for a period; one stand-in at a time."""
    ensure_may_delegate(user)
    now = datetime.now(UTC)
    starts_at = body.starts_at or now
    if body.ends_at <= starts_at:
        raise InvalidRequest("ends_at must be later than starts_at")
    if body.ends_at <= now:
        raise InvalidRequest("ends_at is in the past; a delegation must end in the future")
    if body.delegate == user.username:
        raise InvalidRequest("you cannot delegate your approvals to yourself")
    delegate = await _user(session, body.delegate)
    if delegate is None or not delegate.active:
        raise InvalidRequest(f"{body.delegate} is not an active user")
    roles = lendable_roles(list(user.roles), list(delegate.roles))
    if not roles:
        mine = sorted(LENDABLE_ROLES.intersection(user.roles))
        raise InvalidRequest(
            f"{body.delegate} may stand in for none of your approver roles "
            f"({', '.join(mine)}): a delegate needs the same role or a higher one"
        )

    # Serialise one delegator's requests, so two at once cannot both pass the overlap check.
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    overlapping = (
        await session.execute(
            _read_delegations()
            .where(
                Delegation.delegator == user.username,
                Delegation.revoked_at.is_(None),
                Delegation.starts_at < body.ends_at,
                Delegation.ends_at > starts_at,
            )
            .order_by(Delegation.starts_at)
            .limit(1)
        )
    ).one_or_none()
    if overlapping is not None:
        raise InvalidRequest(
            f"the period overlaps your delegation {overlapping.id} to {overlapping.delegate} "
            f"({overlapping.starts_at.isoformat()} to {overlapping.ends_at.isoformat()}); "
            "one stand-in at a time, so revoke it or pick another period"
        )

    delegation = Delegation(
        delegator=user.username,
        delegate=delegate.username,
        starts_at=starts_at,
        ends_at=body.ends_at,
        reason=body.reason,
    )
    session.add(delegation)
    await session.flush()
    await _audit_delegation(session, delegation, actor=user.username, action="granted")
    # Read back before the commit: an answer that cannot be built leaves nothing behind.
    created = await _public_by_id(session, delegation.id)
    await session.commit()
    return created


async def _public_by_id(session: AsyncSession, delegation_id: int) -> schemas.DelegationPublic:
    row = (await session.execute(_read_delegations().where(Delegation.id == delegation_id))).one()
    return (await _public(session, [row]))[0]


async def _audit_delegation(
    session: AsyncSession, delegation: Delegation | Row[Any], *, actor: str, action: str
) -> None:
    await append_audit(
        session,
        kind="delegation",
        actor=actor,
        order_no=None,
        payload={
            "action": action,
            "id": delegation.id,
            "delegator": delegation.delegator,
            "delegate": delegation.delegate,
            "starts_at": delegation.starts_at,
            "ends_at": delegation.ends_at,
            "reason": delegation.reason,
        },
        at=datetime.now(UTC),
    )


def _visible_delegations(user: User) -> ColumnElement[bool]:
    """Ops sees every delegation; anyone else the ones they gave or received."""
    if Role.OPS.value in user.roles:
        return true()
    return or_(Delegation.delegator == user.username, Delegation.delegate == user.username)


async def list_delegations(
    session: AsyncSession, user: User, *, limit: int, cursor: str | None
) -> schemas.Page[schemas.DelegationPublic]:
    """Newest first; the cursor is the last delegation seen."""
    query = _read_delegations().where(_visible_delegations(user))
    if cursor:
        query = query.where(Delegation.id < decode_cursor(cursor))
    rows = list(await session.execute(query.order_by(Delegation.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return schemas.Page(data=await _public(session, rows[:limit]), next_cursor=next_cursor)


async def revoke_delegation(
    session: AsyncSession, user: User, delegation_id: int
) -> schemas.DelegationPublic:
    """End a delegation now; by its delegator, or by ops."""
    delegation = (
        await session.execute(
            _read_delegations()
            .where(Delegation.id == delegation_id, _visible_delegations(user))
            .with_for_update()
        )
    ).one_or_none()
    if delegation is None:
        raise NotFound(f"delegation {delegation_id} does not exist")
    if delegation.delegator != user.username and Role.OPS.value not in user.roles:
        raise Forbidden("only the delegator or ops may revoke a delegation")
    now = datetime.now(UTC)
    if delegation.revoked_at is not None:
        raise Conflict(f"delegation {delegation_id} was already revoked")
    if delegation.ends_at <= now:
        raise Conflict(f"delegation {delegation_id} has already ended")
    await session.execute(
        update(Delegation).where(Delegation.id == delegation_id).values(revoked_at=now)
    )
    await _audit_delegation(session, delegation, actor=user.username, action="revoked")
    revoked = await _public_by_id(session, delegation_id)
    await session.commit()
    return revoked


async def delegated_roles(session: AsyncSession, username: str, at: datetime) -> dict[str, str]:
    """The approver roles ``username`` may exercise through a delegation running at ``at``,
    each mapped to the delegator they would decide on behalf of.

    A role counts when the delegator holds it and the delegate may stand in for it; a
    delegator who is no longer active lends nothing. When several delegators lend the same
    role, the earliest-made delegation wins, so the answer does not change as others arrive.
    """
    delegate = await _user(session, username)
    if delegate is None or not delegate.active:
        return {}
    rows = await session.execute(
        select(Delegation.delegator, User.roles)
        .join(User, User.username == Delegation.delegator)
        .where(
            Delegation.delegate == username,
            Delegation.revoked_at.is_(None),
            Delegation.starts_at <= at,
            Delegation.ends_at > at,
            User.active.is_(True),
        )
        .order_by(Delegation.created_at, Delegation.id)
    )
    lent: dict[str, str] = {}
    for delegator, roles in rows:
        for role in lendable_roles(list(roles), list(delegate.roles)):
            lent.setdefault(role, delegator)
    return lent
