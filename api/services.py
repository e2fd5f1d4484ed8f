"""What the routes do, kept out of the routes: entering orders and turning people's requests
into workflow starts, updates and signals. Reading orders is ``api/order_records.py``."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api import schemas
from api.errors import (
    AppError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    TooManyRequests,
    Unavailable,
)
from config import Settings
from db.audit import append_transition_audit
from db.models import Customer, Order, OrderLine, Shipment, StatusHistory, User
from domain.refusals import UNRECORDED, RefusalKind
from domain.statuses import OrderStatus
from workflows.entry import OrderEntry, start_and_validate
from workflows.messages import Actor, workflow_id_for

logger = logging.getLogger(__name__)

ENTERED = "order entered"
# When a caller refused for a busy or unreachable workflow may try again.
RETRY_AFTER_SECONDS = 2

_REFUSALS: dict[str, type[AppError]] = {
    RefusalKind.FORBIDDEN.value: Forbidden,
    RefusalKind.CONFLICT.value: Conflict,
    RefusalKind.INVALID.value: InvalidRequest,
}


def actor_of(user: User) -> Actor:
    return Actor(username=user.username, roles=list(user.roles))


# ---------------------------------------------------------------------------- entering orders


async def create_order(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: User,
    body: schemas.NewOrder,
    idempotency_key: str | None,
    *,
    request_hash: str | None = None,
    reason: str = ENTERED,
) -> tuple[Order, bool]:
    """Record the order entry and start its workflow; ``(order, created)``.

    ``request_hash`` is the hash of what was asked (an entry from a template hashes the
    template and its overrides, not what they resolved to); ``reason`` is the entry's first
    transition's reason. A scheduled run of a template enters its orders through here too.

    The entry and its idempotency key are committed in one transaction before the workflow
    starts, so the same key can never yield two orders; a repeated request (also one retried
    after a crash between commit and start) finds the entry and makes sure its workflow runs.
    """
    # Read before the commit: a rollback after a lost race expires every loaded object.
    username = user.username
    if request_hash is None:
        request_hash = entry_hash(body)
    if idempotency_key is not None:
        existing = await _order_for_key(session, username, idempotency_key)
        if existing is not None:
            _ensure_same_entry(existing, request_hash, idempotency_key)
            await _start_workflow(
                temporal, settings, existing, await _customer_of(session, existing)
            )
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
        request_hash=request_hash,
        rejection_reasons=[],
        requested_delivery_date=body.requested_delivery_date,
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
        await session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its order.
        await session.rollback()
        assert idempotency_key is not None
        winner = await _order_for_key(session, username, idempotency_key)
        if winner is None:
            raise
        _ensure_same_entry(winner, request_hash, idempotency_key)
        await _start_workflow(temporal, settings, winner, await _customer_of(session, winner))
        return winner, False
    # The entry is the order's first transition: it commits with the order, and the
    # workflow starts from there.
    session.add(
        StatusHistory(
            order_id=order.id,
            seq=1,
            from_status=None,
            to_status=OrderStatus.CREATED.value,
            actor=username,
            reason=reason,
            at=now,
        )
    )
    await append_transition_audit(
        session,
        order_no=order.order_no,
        seq=1,
        from_status=None,
        to_status=OrderStatus.CREATED.value,
        actor=username,
        reason=reason,
        at=now,
    )
    await session.commit()
    # The commit handed the connection back; no connection is held while Temporal starts it.
    await _start_workflow(temporal, settings, order, customer)
    return order, True


def entry_hash(body: schemas.OrderCreate | schemas.NewOrder) -> str:
    """What an entry asks for, as a hash of its canonical JSON."""
    asked = body.model_dump(mode="json")
    # Left out when not given, so entries hashed before a field existed (or became optional
    # beside template_id) still match.
    for optional in ("requested_delivery_date", "template_id", "customer_id", "lines"):
        if asked.get(optional) is None:
            asked.pop(optional, None)
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ensure_same_entry(order: Order, request_hash: str, key: str) -> None:
    """The same key again is the same request retried, never another order."""
    if order.request_hash is not None and order.request_hash != request_hash:
        raise InvalidRequest(
            f"Idempotency-Key {key!r} was used for {order.order_no}, which asked for something "
            "else; use a new key for a new order"
        )


async def _order_for_key(session: AsyncSession, username: str, key: str) -> Order | None:
    return (
        await session.scalars(
            select(Order)
            .where(Order.created_by == username, Order.idempotency_key == key)
            .options(selectinload(Order.lines))
        )
    ).one_or_none()


async def _customer_of(session: AsyncSession, order: Order) -> Customer:
    """The order's customer, whose code and name its workflow's start carries."""
    customer = await session.get(Customer, order.customer_id)
    assert customer is not None  # an order's customer is a foreign key
    return customer


async def _start_workflow(
    temporal: Client, settings: Settings, order: Order, customer: Customer
) -> None:
    """Start the order's workflow and wait (a bounded while) until it validated the order;
    when Temporal cannot take it now, the entry stays CREATED and the reconciler starts it
    (``reconcile.py``), so an entered order is never left without its workflow."""
    try:
        await start_and_validate(temporal, settings, OrderEntry.of(order, customer))
    except RPCError as err:
        logger.warning("order %s waits for the reconciler: %s", order.order_no, err.message)


# ---------------------------------------------------------------------------- acting on orders


class WorkflowConflict(Conflict):
    """The workflow refused the request as not fitting the order's status (409), which it
    names: ``workflow_status``."""

    def __init__(self, detail: str, workflow_status: str | None) -> None:
        super().__init__(detail)
        self.workflow_status = workflow_status


def conflict_or_catching_up(conflict: WorkflowConflict, shown_status: str) -> AppError:
    """409 when PostgreSQL shows the status the workflow refused in. When it shows another,
    the workflow is catching up with a write already committed (its worker died between the
    two; another worker is replaying it), so the request may well fit in a moment: 503 with
    ``Retry-After`` rather than a refusal that contradicts what the caller sees."""
    held = conflict.workflow_status
    if held is None or held == shown_status:
        return conflict
    return Unavailable(
        f"the order shows {shown_status} while its workflow is still catching up from "
        f"{held}; try again shortly",
        retry_after=RETRY_AFTER_SECONDS,
    )


async def send_update(
    temporal: Client, settings: Settings, order_no: str, status: str, update: Any, request: Any
) -> None:
    """Run a workflow update; a validator's refusal becomes 403, 409 or 422 with its reason.

    The update answers once PostgreSQL shows its effect; callers read the order from there.
    It answers within ``UPDATE_WAIT`` in any case: 503 with ``Retry-After`` when the workflow
    cannot answer in time (no worker, a fault being retried), 429 when the order has too many
    updates in flight.
    """
    handle = temporal.get_workflow_handle(workflow_id_for(order_no))
    try:
        await handle.execute_update(update, request, rpc_timeout=settings.update_wait)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == RefusalKind.CONFLICT.value:
            held = cause.details[0] if cause.details else None
            raise WorkflowConflict(cause.message, str(held) if held else None) from None
        if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
            raise _REFUSALS[cause.type](cause.message) from None
        if isinstance(cause, ApplicationError) and cause.type == UNRECORDED:
            raise Unavailable(cause.message, retry_after=RETRY_AFTER_SECONDS) from None
        raise
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise Unavailable(
            f"order {order_no} did not answer within {settings.update_wait.total_seconds():g} s; "
            "the request may still take effect, so read the order before trying again",
            retry_after=RETRY_AFTER_SECONDS,
        ) from None
    except RPCError as err:
        raise _rpc_refusal(err, order_no, status) from None


async def send_signal(
    temporal: Client, settings: Settings, order: Order, signal: Any, payload: Any
) -> None:
    handle = temporal.get_workflow_handle(workflow_id_for(order.order_no))
    try:
        await handle.signal(signal, payload, rpc_timeout=settings.update_wait)
    except RPCError as err:
        raise _rpc_refusal(err, order.order_no, order.status) from None


def _rpc_refusal(err: RPCError, order_no: str, status: str) -> AppError:
    """What Temporal's refusal of a call on an order means to the caller."""
    if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
        return Conflict(f"the order is {status} and takes no more actions")
    if err.status == RPCStatusCode.RESOURCE_EXHAUSTED:
        return TooManyRequests(
            f"order {order_no} has too many requests in progress; try again shortly",
            retry_after=RETRY_AFTER_SECONDS,
        )
    return Unavailable(
        f"the workflow engine did not take the request for order {order_no}; try again",
        retry_after=RETRY_AFTER_SECONDS,
    )


def takes_tracking_events(order: Order) -> bool:
    """Shipped or delivered (late events fill in the timeline), or on hold from shipped (a
    carrier exception): the goods went to the carrier. Earlier events would describe goods
    the carrier does not have."""
    handed_over = (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value)
    return order.status in handed_over or (
        order.status == OrderStatus.ON_HOLD.value and order.held_from in handed_over
    )


async def shipment_handed_over(session: AsyncSession, tracking_no: str) -> bool:
    """The shipment went to the carrier: a shipment of an order that ships per line is
    tracked from its hand-over, whatever the rest of the order is doing."""
    shipped_at = await session.scalar(
        select(Shipment.shipped_at).where(Shipment.tracking_no == tracking_no)
    )
    return shipped_at is not None


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
