"""What the routes do, kept out of the routes: reading the order record from PostgreSQL and
turning people's requests into workflow starts, updates and signals."""

from __future__ import annotations

import base64
import binascii
import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import fulfilment, schemas
from api.errors import AppError, Conflict, Forbidden, InvalidRequest, NotFound
from config import Settings
from db.models import (
    Customer,
    Decision,
    Order,
    OrderLine,
    ReviewLevel,
    ReviewNotice,
    Shipment,
    StatusHistory,
    User,
)
from domain.refusals import RefusalKind
from domain.roles import Role
from domain.statuses import STATUS_LABELS, OrderStatus
from workflows import search_attributes as sa
from workflows.messages import Actor, OrderTimers, OrderWorkflowInput, workflow_id_for
from workflows.order import OrderWorkflow

_REFUSALS: dict[str, type[AppError]] = {
    RefusalKind.FORBIDDEN.value: Forbidden,
    RefusalKind.CONFLICT.value: Conflict,
    RefusalKind.INVALID.value: InvalidRequest,
}


def actor_of(user: User) -> Actor:
    return Actor(username=user.username, roles=list(user.roles))


def is_customer(user: User) -> bool:
    """Decided by the role alone: a customer user tied to no customer sees nothing, never
    everything."""
    return Role.CUSTOMER.value in user.roles


def _own_customer(user: User, column: Any) -> ColumnElement[bool]:
    return column == user.customer_id if user.customer_id is not None else false()


# ---------------------------------------------------------------------------- reading orders


def _visible_orders(user: User) -> Select[Order]:
    """Staff see every order; a customer sees only its own, and nothing else exists for it."""
    query = select(Order)
    if is_customer(user):
        query = query.where(_own_customer(user, Order.customer_id))
    return query


async def find_order(session: AsyncSession, user: User, order_no: str) -> Order:
    order = (
        await session.scalars(
            _visible_orders(user)
            .where(Order.order_no == order_no)
            .options(selectinload(Order.lines))
        )
    ).one_or_none()
    if order is None:
        raise NotFound(f"order {order_no} does not exist")
    return order


def encode_cursor(row_id: int) -> str:
    """An opaque cursor for keyset paging: the id of the last row of a page."""
    return base64.urlsafe_b64encode(str(row_id).encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this API returned") from None


async def list_orders(
    session: AsyncSession,
    user: User,
    *,
    status: OrderStatus | None,
    customer_id: int | None,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> schemas.Page[schemas.OrderSummary]:
    """Newest first; the cursor is the last order seen, so pages stay stable as orders arrive."""
    query = _visible_orders(user)
    if status is not None:
        query = query.where(Order.status == status.value)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if q:
        pattern = f"%{q.strip()}%"
        query = query.join(Customer, Customer.id == Order.customer_id).where(
            or_(
                Order.order_no.ilike(pattern),
                Customer.code.ilike(pattern),
                Customer.name.ilike(pattern),
            )
        )
    if cursor:
        query = query.where(Order.id < decode_cursor(cursor))
    orders = list(await session.scalars(query.order_by(Order.id.desc()).limit(limit + 1)))
    next_cursor = encode_cursor(orders[limit - 1].id) if len(orders) > limit else None
    return schemas.Page(data=[order_summary(o) for o in orders[:limit]], next_cursor=next_cursor)


def order_summary(order: Order) -> schemas.OrderSummary:
    return schemas.OrderSummary(**_summary_fields(order))


def _summary_fields(order: Order) -> dict[str, Any]:
    return {
        "order_no": order.order_no,
        "status": order.status,
        "status_label": schemas.StatusLabel(**STATUS_LABELS[OrderStatus(order.status)]),
        "held_from": order.held_from,
        "customer_id": order.customer_id,
        "total": order.total,
        "currency": order.currency,
        "created_by": order.created_by,
        "created_at": order.created_at,
    }


async def order_history(session: AsyncSession, order: Order) -> list[schemas.HistoryPublic]:
    rows = await session.scalars(
        select(StatusHistory).where(StatusHistory.order_id == order.id).order_by(StatusHistory.seq)
    )
    return [
        schemas.HistoryPublic(
            from_status=row.from_status,
            to_status=row.to_status,
            actor=row.actor,
            reason=row.reason,
            at=row.at,
        )
        for row in rows
    ]


async def order_detail(session: AsyncSession, order: Order) -> schemas.OrderPublic:
    """The whole order as PostgreSQL records it; sections not reached yet are null."""
    return schemas.OrderPublic(
        **_summary_fields(order),
        lines=[schemas.OrderLinePublic.model_validate(line) for line in order.lines],
        rejection_reasons=list(order.rejection_reasons),
        review=await _review_section(session, order),
        production=await fulfilment.production_section(session, order),
        production_records=await fulfilment.production_records(session, order),
        stock_movements=await fulfilment.stock_movements(session, order),
        shipment=await fulfilment.shipment_section(session, order),
        history=await order_history(session, order),
    )


async def _review_section(session: AsyncSession, order: Order) -> schemas.ReviewPublic | None:
    levels = list(
        await session.scalars(
            select(ReviewLevel).where(ReviewLevel.order_id == order.id).order_by(ReviewLevel.level)
        )
    )
    if not levels:
        return None
    decisions = list(
        await session.scalars(
            select(Decision).where(Decision.order_id == order.id).order_by(Decision.at)
        )
    )
    notices = list(
        await session.scalars(
            select(ReviewNotice)
            .where(ReviewNotice.order_id == order.id)
            .order_by(ReviewNotice.at, ReviewNotice.id)
        )
    )
    pending = [level.level for level in levels if level.status == "pending"]
    return schemas.ReviewPublic(
        current_level=pending[0] if pending else None,
        policy_version=order.policy_version,
        policy_rule=order.policy_rule,
        levels=[
            schemas.ReviewLevelPublic(
                level=level.level,
                role=level.role,
                status=level.status,
                escalated=level.escalated,
                escalated_to=level.escalated_to,
                quorum=level.quorum,
                opened_at=level.opened_at,
                decided_at=level.decided_at,
                decisions=[
                    schemas.DecisionPublic(
                        by=d.decided_by,
                        on_behalf_of=d.on_behalf_of,
                        acting_role=d.acting_role,
                        decision=d.decision,
                        comment=d.comment,
                        at=d.at,
                    )
                    for d in decisions
                    if d.level == level.level
                ],
                notices=_firings([n for n in notices if n.level == level.level]),
            )
            for level in levels
        ],
    )


def _firings(notices: list[ReviewNotice]) -> list[schemas.ReviewNoticeFiring]:
    """One entry per firing (kind, round, role), with everyone it was addressed to."""
    firings: dict[tuple[str, int, str], schemas.ReviewNoticeFiring] = {}
    for notice in notices:
        key = (notice.kind, notice.round, notice.role)
        if key not in firings:
            firings[key] = schemas.ReviewNoticeFiring(
                kind=notice.kind, round=notice.round, role=notice.role, recipients=[], at=notice.at
            )
        firings[key].recipients.append(notice.recipient)
    return list(firings.values())


async def review_notices_for(session: AsyncSession, user: User) -> list[schemas.ReviewNoticePublic]:
    rows = await session.execute(
        select(ReviewNotice, Order.order_no)
        .join(Order, Order.id == ReviewNotice.order_id)
        .where(ReviewNotice.recipient == user.username)
        .order_by(ReviewNotice.at.desc(), ReviewNotice.id.desc())
        .limit(200)
    )
    return [
        schemas.ReviewNoticePublic(
            order_no=order_no, level=notice.level, kind=notice.kind, role=notice.role, at=notice.at
        )
        for notice, order_no in rows
    ]


# ---------------------------------------------------------------------------- entering orders


async def create_order(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: User,
    body: schemas.OrderCreate,
    idempotency_key: str | None,
) -> tuple[Order, bool]:
    """Record the order entry and start its workflow; ``(order, created)``.

    The entry and its idempotency key are committed in one transaction before the workflow
    starts, so the same key can never yield two orders; a repeated request (also one retried
    after a crash between commit and start) finds the entry and makes sure its workflow runs.
    """
    # Read before the commit: a rollback after a lost race expires every loaded object.
    username = user.username
    if idempotency_key is not None:
        existing = await _order_for_key(session, username, idempotency_key)
        if existing is not None:
            await _start_workflow(temporal, settings, existing)
            return existing, False

    customer = await session.get(Customer, body.customer_id)
    if customer is None:
        raise InvalidRequest(f"customer {body.customer_id} does not exist")
    number = await session.scalar(text("SELECT nextval('order_no_seq')"))
    now = datetime.now(UTC)
    order = Order(
        order_no=f"SO-{now.year}-{number:06d}",
        customer_id=customer.id,
        status=OrderStatus.CREATED.value,
        currency="CNY",
        created_by=username,
        idempotency_key=idempotency_key,
        rejection_reasons=[],
        lines=[
            OrderLine(
                line_no=i,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.unit_price * line.quantity if line.unit_price is not None else None,
            )
            for i, line in enumerate(body.lines, start=1)
        ],
    )
    amounts = [line.amount for line in order.lines if line.amount is not None]
    order.total = sum(amounts, Decimal("0")) if amounts else None
    session.add(order)
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its order.
        await session.rollback()
        assert idempotency_key is not None
        winner = await _order_for_key(session, username, idempotency_key)
        if winner is None:
            raise
        await _start_workflow(temporal, settings, winner)
        return winner, False
    # The commit handed the connection back; no connection is held while Temporal starts it.
    await _start_workflow(temporal, settings, order)
    return order, True


async def _order_for_key(session: AsyncSession, username: str, key: str) -> Order | None:
    return (
        await session.scalars(
            select(Order)
            .where(Order.created_by == username, Order.idempotency_key == key)
            .options(selectinload(Order.lines))
        )
    ).one_or_none()


async def _start_workflow(temporal: Client, settings: Settings, order: Order) -> None:
    params = OrderWorkflowInput(
        order_no=order.order_no,
        created_by=order.created_by,
        timers=OrderTimers(
            remind_after=settings.remind_after.total_seconds(),
            escalate_after=settings.escalate_after.total_seconds(),
            auto_confirm_after=settings.auto_confirm_after.total_seconds(),
            expire_after=(settings.expire_after.total_seconds() if settings.expire_after else None),
            reminder_limit=settings.reminder_limit,
        ),
        history_limit=settings.order_history_limit,
    )
    # A workflow that already ran to its end is not started again.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await temporal.start_workflow(
            OrderWorkflow.run,
            params,
            id=workflow_id_for(order.order_no),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.ORDER_STATUS, OrderStatus.CREATED.value),
                    SearchAttributePair(sa.CUSTOMER_ID, str(order.customer_id)),
                    SearchAttributePair(sa.ORDER_TOTAL, float(order.total or 0)),
                    SearchAttributePair(sa.REVIEW_LEVEL, 0),
                    SearchAttributePair(sa.ESCALATED, False),
                ]
            ),
            static_summary=(
                f"Sales order {order.order_no} for customer {order.customer_id}, "
                f"{len(order.lines)} line(s), entered by {order.created_by}"
            ),
        )


# ---------------------------------------------------------------------------- acting on orders


async def send_update(
    temporal: Client, order_no: str, status: str, update: Any, request: Any
) -> None:
    """Run a workflow update; a validator's refusal becomes 403, 409 or 422 with its reason.

    The update answers once PostgreSQL shows its effect; callers read the order from there.
    """
    handle = temporal.get_workflow_handle(workflow_id_for(order_no))
    try:
        await handle.execute_update(update, request)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
            raise _REFUSALS[cause.type](cause.message) from None
        raise
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            raise Conflict(f"the order is {status} and takes no more actions") from None
        raise


async def send_signal(temporal: Client, order: Order, signal: Any, payload: Any) -> None:
    handle = temporal.get_workflow_handle(workflow_id_for(order.order_no))
    try:
        await handle.signal(signal, payload)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(f"the order is {order.status} and takes no more events") from None
        raise


def new_event_id() -> str:
    return uuid.uuid4().hex


async def shipment_order(session: AsyncSession, tracking_no: str) -> Order:
    order = (
        await session.scalars(
            select(Order)
            .join(Shipment, Shipment.order_id == Order.id)
            .where(Shipment.tracking_no == tracking_no)
        )
    ).one_or_none()
    if order is None:
        raise NotFound(f"no shipment has tracking number {tracking_no}")
    return order


def reference_customers(user: User) -> Select[Customer]:
    query = select(Customer).order_by(Customer.code)
    if is_customer(user):
        query = query.where(_own_customer(user, Customer.id))
    return query


def ensure_may_confirm_receipt(user: User, order: Order) -> None:
    """Receipt is confirmed by the order's own customer, or by sales on its behalf."""
    if is_customer(user) and user.customer_id is not None and order.customer_id == user.customer_id:
        return
    if Role.SALES.value not in user.roles:
        raise Forbidden("only the order's customer or sales may confirm receipt")
