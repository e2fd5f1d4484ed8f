"""Delegations of approval rights, and what waits on each approver.

An approver lends their approval rights to a colleague of the same or a higher role for a
period; while it runs, the colleague decides on the approver's behalf. Separation of duties
holds through a delegation: the delegate decides nothing that the delegator could not
(an order the delegator entered, a second level of an order the delegator already decided).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import Conflict, Forbidden, InvalidRequest, NotFound
from api.services import decode_cursor, encode_cursor
from db.audit import append_audit
from db.models import (
    Customer,
    Decision,
    Delegation,
    Order,
    ReviewLevel,
    StatusHistory,
    User,
    WorkOrder,
)
from domain.actors import CARRIER
from domain.roles import APPROVER_ROLES, LENDABLE_ROLES, Role, may_stand_in_for
from domain.statuses import OrderStatus

PENDING_LIMIT = 200

# ---------------------------------------------------------------------------- delegations


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


async def _public(
    session: AsyncSession, delegations: list[Delegation]
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
        await session.scalars(
            select(Delegation)
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
    await session.commit()
    await session.refresh(delegation)
    return (await _public(session, [delegation]))[0]


async def _audit_delegation(
    session: AsyncSession, delegation: Delegation, *, actor: str, action: str
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
    query = select(Delegation).where(_visible_delegations(user))
    if cursor:
        query = query.where(Delegation.id < decode_cursor(cursor))
    rows = list(await session.scalars(query.order_by(Delegation.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return schemas.Page(data=await _public(session, rows[:limit]), next_cursor=next_cursor)


async def revoke_delegation(
    session: AsyncSession, user: User, delegation_id: int
) -> schemas.DelegationPublic:
    """End a delegation now; by its delegator, or by ops."""
    delegation = (
        await session.scalars(
            select(Delegation)
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
    delegation.revoked_at = now
    await _audit_delegation(session, delegation, actor=user.username, action="revoked")
    await session.commit()
    await session.refresh(delegation)
    return (await _public(session, [delegation]))[0]


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


# ---------------------------------------------------------------------------- pending approvals


def _entered_or_decided_by(person: str) -> ColumnElement[bool]:
    """``person`` entered the order, or decided one of its levels (or had one decided for them):
    either way separation of duties keeps them from deciding it."""
    return or_(
        Order.created_by == person,
        exists().where(
            Decision.order_id == Order.id,
            or_(Decision.decided_by == person, Decision.on_behalf_of == person),
        ),
    )


def _level_decided_by(role: str) -> ColumnElement[bool]:
    """The pending level is decided by ``role``: its own role, or the one it escalated to."""
    return or_(
        ReviewLevel.role == role,
        and_(ReviewLevel.escalated.is_(True), ReviewLevel.escalated_to == role),
    )


def _on_time() -> ColumnElement[bool]:
    """The order met its promises: no work order finished late (or never finished), and the
    carrier never held it with an exception."""
    late_work = exists().where(
        WorkOrder.order_id == Order.id,
        WorkOrder.status != "cancelled",
        or_(WorkOrder.finished_at.is_(None), WorkOrder.finished_at > WorkOrder.planned_finish),
    )
    carrier_hold = exists().where(
        StatusHistory.order_id == Order.id,
        StatusHistory.to_status == OrderStatus.ON_HOLD.value,
        StatusHistory.actor == CARRIER,
    )
    return and_(not_(late_work), not_(carrier_hold))


async def _customer_histories(
    session: AsyncSession, customer_ids: set[int]
) -> dict[int, schemas.CustomerHistoryPublic]:
    """Per customer: how many orders, what its completed orders came to, and how many of
    those were on time. The order under review is one of the customer's orders but never a
    completed one, so it is taken off the count only."""
    completed = Order.status == OrderStatus.COMPLETED.value
    rows = await session.execute(
        select(
            Order.customer_id,
            func.count(),
            func.count().filter(completed),
            func.coalesce(func.sum(Order.total).filter(completed), 0),
            func.count().filter(and_(completed, _on_time())),
        )
        .where(Order.customer_id.in_(customer_ids))
        .group_by(Order.customer_id)
    )
    return {
        customer_id: schemas.CustomerHistoryPublic(
            orders=orders - 1,
            total_spend=Decimal(spend or 0).quantize(Decimal("0.01")),
            on_time_rate=on_time / finished if finished else None,
        )
        for customer_id, orders, finished, spend, on_time in rows
    }


async def _approvals_so_far(
    session: AsyncSession, order_ids: list[int]
) -> dict[tuple[int, int], int]:
    rows = await session.execute(
        select(Decision.order_id, Decision.level, func.count())
        .where(Decision.order_id.in_(order_ids), Decision.decision == "approve")
        .group_by(Decision.order_id, Decision.level)
    )
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for order_id, level, count in rows:
        counts[order_id, level] = count
    return counts


async def pending_approvals(
    session: AsyncSession, user: User, *, customer_id: int | None = None
) -> list[schemas.PendingApprovalPublic]:
    """Orders under review whose open level the caller may decide now, oldest-waiting first,
    each with the customer's order history so the approver decides with context.

    The caller decides in an own role when one fits, else through a running delegation on
    behalf of its delegator. Left out: orders the caller entered or already decided a level
    of, and, through a delegation, those the delegator entered or decided a level of.

    Customer history: ``orders`` counts the customer's other orders in any status;
    ``total_spend`` sums the totals of its COMPLETED orders; ``on_time_rate`` is the share of
    its COMPLETED orders that were on time (null when none completed). An order was on time
    when every work order it had (cancelled ones aside) finished no later than its planned
    finish, and the carrier never put it ON_HOLD with an exception; an order made entirely
    from stock has no work orders and counts as on time unless the carrier held it.

    ``customer_id`` narrows the list to one customer's orders.
    """
    lent = await delegated_roles(session, user.username, datetime.now(UTC))
    # Own roles come first, so a delegation only adds levels the caller could not decide.
    own = [role for role in user.roles if role in APPROVER_ROLES]
    capacities: list[tuple[str, str | None]] = [(role, None) for role in own]
    capacities += [(role, d) for role, d in lent.items() if role not in own]
    whens = [
        (
            _level_decided_by(role)
            if delegator is None
            else and_(_level_decided_by(role), not_(_entered_or_decided_by(delegator))),
            role,
            delegator,
        )
        for role, delegator in capacities
    ]
    if not whens:
        return []
    # Who decides in which capacity is worked out in SQL, so the limit counts only orders the
    # caller may really decide.
    acting_as = case(*[(when, literal(role)) for when, role, _ in whens], else_=null())
    on_behalf_of = case(
        *[(when, literal(d) if d else null()) for when, _, d in whens], else_=null()
    )
    candidates = (
        select(
            ReviewLevel.id.label("level_id"),
            acting_as.label("acting_as"),
            on_behalf_of.label("on_behalf_of"),
        )
        .join(Order, Order.id == ReviewLevel.order_id)
        .where(
            Order.status == OrderStatus.UNDER_REVIEW.value,
            ReviewLevel.status == "pending",
            not_(_entered_or_decided_by(user.username)),
            Order.customer_id == customer_id if customer_id is not None else true(),
        )
        .subquery()
    )
    rows = (
        await session.execute(
            select(Order, ReviewLevel, Customer, candidates.c.acting_as, candidates.c.on_behalf_of)
            .select_from(candidates)
            .join(ReviewLevel, ReviewLevel.id == candidates.c.level_id)
            .join(Order, Order.id == ReviewLevel.order_id)
            .join(Customer, Customer.id == Order.customer_id)
            .where(candidates.c.acting_as.is_not(None))
            .order_by(ReviewLevel.opened_at, Order.id)
            .limit(PENDING_LIMIT)
        )
    ).all()
    if not rows:
        return []
    histories = await _customer_histories(session, {order.customer_id for order, *_ in rows})
    approvals = await _approvals_so_far(session, [order.id for order, *_ in rows])
    return [
        schemas.PendingApprovalPublic(
            order_no=order.order_no,
            customer_id=order.customer_id,
            customer_code=customer.code,
            customer_name=customer.name,
            total=order.total,
            currency=order.currency,
            created_by=order.created_by,
            created_at=order.created_at,
            level=schemas.PendingLevelPublic(
                level=level.level,
                role=level.role,
                escalated=level.escalated,
                escalated_to=level.escalated_to,
                quorum=level.quorum,
                opened_at=level.opened_at,
                approvals=approvals[order.id, level.level],
            ),
            acting_as=role,
            on_behalf_of=delegator,
            customer_history=histories[order.customer_id],
        )
        for order, level, customer, role, delegator in rows
    ]
