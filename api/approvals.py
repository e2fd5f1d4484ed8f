"""What waits on each approver: the orders whose open review level the caller may decide,
in an own role or through a delegation (see :mod:`api.delegations`), each with the customer's
order history. Ops watches every review: it sees every open level, deciding those escalated
to it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    DateTime,
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
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.delegations import delegated_roles
from api.feedback import ratings_by_customer
from api.paging import cursor_moment, decode_sorted_cursor, encode_sorted_cursor
from db.models import (
    Customer,
    Decision,
    Order,
    OrderVersion,
    ReviewLevel,
    SetAsideDecision,
    StatusHistory,
    User,
    WorkOrder,
)
from domain.actors import CARRIER
from domain.roles import APPROVER_ROLES, Role
from domain.statuses import OrderStatus

PENDING_LIMIT = 200
# Pages go by how long the open level has waited (every open level has opened; the order's
# entry stands in should one not), then by order.
_WAITING_SINCE = func.coalesce(ReviewLevel.opened_at, Order.created_at)
_PAGE_ORDER = "waiting_since"


def _after_cursor(cursor: str | None) -> ColumnElement[bool]:
    if not cursor:
        return true()
    since, order_id = decode_sorted_cursor(cursor, _PAGE_ORDER)
    return tuple_(_WAITING_SINCE, Order.id) > tuple_(
        literal(cursor_moment(since), DateTime(timezone=True)), literal(order_id)
    )


def _entered_or_decided_by(person: str) -> ColumnElement[bool]:
    """``person`` entered the order, or decided one of its levels (or had one decided for them):
    either way separation of duties keeps them from deciding it. A decision an amendment set
    aside counts for the other levels, not for the re-opened one: whoever gave it decides that
    level again."""
    return or_(
        Order.created_by == person,
        exists().where(
            Decision.order_id == Order.id,
            or_(Decision.decided_by == person, Decision.on_behalf_of == person),
        ),
        exists().where(
            SetAsideDecision.order_id == Order.id,
            or_(SetAsideDecision.decided_by == person, SetAsideDecision.on_behalf_of == person),
            SetAsideDecision.level != ReviewLevel.level,
        ),
    )


def open_level_waits_on(role: str) -> ColumnElement[bool]:
    """The pending level waits on ``role``, who may decide it: its own role, or the one it
    escalated to."""
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
    """Per customer: how many orders, what its completed orders came to, how many of those
    were on time, and how it rated them. The order under review is one of the customer's
    orders but never a completed one, so it is taken off the count only."""
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
    ratings = await ratings_by_customer(session, customer_ids)
    return {
        customer_id: schemas.CustomerHistoryPublic(
            orders=orders - 1,
            total_spend=Decimal(spend or 0).quantize(Decimal("0.01")),
            on_time_rate=on_time / finished if finished else None,
            ratings=ratings.get(customer_id, (0, None))[0],
            average_rating=ratings.get(customer_id, (0, None))[1],
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


async def _latest_amendments(
    session: AsyncSession, order_ids: list[int]
) -> dict[int, schemas.LatestAmendmentPublic]:
    """Each order's latest amendment (orders never amended left out), in one query."""
    latest = (
        select(OrderVersion.order_id, func.max(OrderVersion.version).label("version"))
        .where(OrderVersion.order_id.in_(order_ids))
        .group_by(OrderVersion.order_id)
        .subquery()
    )
    rows = await session.scalars(
        select(OrderVersion).join(
            latest,
            and_(
                OrderVersion.order_id == latest.c.order_id,
                OrderVersion.version == latest.c.version,
            ),
        )
    )
    return {
        row.order_id: schemas.LatestAmendmentPublic(
            version=row.version,
            amended_by=row.amended_by,
            reason=row.reason,
            at=row.at,
            changes=row.changes,
        )
        for row in rows
    }


async def pending_approvals(
    session: AsyncSession,
    user: User,
    *,
    customer_id: int | None = None,
    limit: int = PENDING_LIMIT,
    cursor: str | None = None,
) -> schemas.Page[schemas.PendingApprovalPublic]:
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
    ``ratings`` counts the feedback the customer gave on its completed orders and
    ``average_rating`` is its mean (null when none was given).

    Ops sees every order under review, since it answers for orders that stall: the levels it
    may decide (escalated to ops) with ``acting_as``, every other one with ``acting_as`` null;
    the level's ``role`` and, once escalated, ``escalated_to`` say whom it waits on.

    ``latest_amendment`` is the order's latest version with the diff it made, so an approver
    whose level an amendment re-opened sees what changed.

    ``customer_id`` narrows the list to one customer's orders. Pages of ``limit`` go by how
    long the level has waited, then by order; ``next_cursor`` asks for the next.
    """
    lent = await delegated_roles(session, user.username, datetime.now(UTC))
    # Own roles come first, so a delegation only adds levels the caller could not decide.
    own = [role for role in user.roles if role in APPROVER_ROLES]
    capacities: list[tuple[str, str | None]] = [(role, None) for role in own]
    capacities += [(role, d) for role, d in lent.items() if role not in own]
    may_decide = not_(_entered_or_decided_by(user.username))
    whens = [
        (
            and_(may_decide, open_level_waits_on(role))
            if delegator is None
            else and_(
                may_decide, open_level_waits_on(role), not_(_entered_or_decided_by(delegator))
            ),
            role,
            delegator,
        )
        for role, delegator in capacities
    ]
    watches_every_review = Role.OPS.value in user.roles
    if not whens and not watches_every_review:
        return schemas.Page(data=[])
    # Who decides in which capacity is worked out in SQL, so the limit counts only orders the
    # caller may really decide (or, for ops, every order under review).
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
            .where(
                true() if watches_every_review else candidates.c.acting_as.is_not(None),
                _after_cursor(cursor),
            )
            .order_by(_WAITING_SINCE, Order.id)
            .limit(limit + 1)
        )
    ).all()
    if not rows:
        return schemas.Page(data=[])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_order, last_level, *_ = rows[-1]
        since = last_level.opened_at or last_order.created_at
        next_cursor = encode_sorted_cursor(_PAGE_ORDER, since.isoformat(), last_order.id)
    histories = await _customer_histories(session, {order.customer_id for order, *_ in rows})
    order_ids = [order.id for order, *_ in rows]
    approvals = await _approvals_so_far(session, order_ids)
    amended = await _latest_amendments(session, order_ids)
    items = [
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
            latest_amendment=amended.get(order.id),
        )
        for order, level, customer, role, delegator in rows
    ]
    return schemas.Page(data=items, next_cursor=next_cursor)
