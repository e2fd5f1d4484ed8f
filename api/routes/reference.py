"""Reference data every signed-in user may read, and the caller's review notices."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api import fulfilment, order_records, visibility
from api.deps import CurrentUser, SessionDep, require_roles
from api.errors import Forbidden, Unauthorized, responses
from api.schemas import (
    AlertPublic,
    CustomerPublic,
    OrderStatusPublic,
    Page,
    ProductionLinePublic,
    ProductPublic,
    ReviewNoticePublic,
    StatusLabel,
)
from db.models import User
from domain.roles import STAFF_ROLES
from domain.statuses import STATUS_LABELS, STATUS_MEANINGS, TERMINAL, TRANSITIONS, OrderStatus

router = APIRouter(tags=["reference"], responses=responses(Unauthorized))

Staff = Annotated[User, Depends(require_roles(*sorted(STAFF_ROLES)))]


@router.get(
    "/order-statuses",
    response_model=Page[OrderStatusPublic],
    summary="Order statuses, their labels and allowed transitions",
)
async def order_statuses(_: CurrentUser) -> Page[OrderStatusPublic]:
    """Any signed-in user. Every status with its labels (en, zh), what it means, the
    statuses it may move to and whether it is terminal: the table a client needs to show an
    order's status and the actions that fit it. An action that does not fit answers 409."""
    return Page(
        data=[
            OrderStatusPublic(
                status=status.value,
                label=StatusLabel(**STATUS_LABELS[status]),
                meaning=STATUS_MEANINGS[status],
                next=sorted(s.value for s in TRANSITIONS[status]),
                terminal=status in TERMINAL,
            )
            for status in OrderStatus
        ]
    )


@router.get(
    "/products",
    response_model=Page[ProductPublic],
    summary="Products with prices and stock",
)
async def products(user: CurrentUser, session: SessionDep) -> Page[ProductPublic]:
    """Any signed-in user. Products with list price, stock on hand, reserved and available,
    the production lines that make them and their routing; staff also see any low-stock
    alert (it names the order that caused it), customer users see `null` there."""
    staff = not visibility.is_customer(user)
    return Page(data=await fulfilment.products(session, with_alerts=staff))


@router.get(
    "/production-lines",
    response_model=Page[ProductionLinePublic],
    responses=responses(Forbidden),
    summary="Production lines with their load and queue",
)
async def production_lines(_: Staff, session: SessionDep) -> Page[ProductionLinePublic]:
    """Staff. Each line's capacity, load, the hour it is free from and its queue of booked
    work orders, late ones flagged. 403 for a customer user."""
    return Page(data=await fulfilment.production_lines(session))


@router.get(
    "/alerts",
    response_model=Page[AlertPublic],
    responses=responses(Forbidden),
    summary="Alerts: low stock, late work orders, carrier exceptions, faults, poor ratings",
)
async def alerts(
    _: Staff,
    session: SessionDep,
    kind: Annotated[
        Literal[
            "low_stock",
            "production_overdue",
            "carrier_exception",
            "order_fault",
            "template_run_skipped",
            "poor_feedback",
        ]
        | None,
        Query(description="Only alerts of this kind; leave out for all.", examples=["low_stock"]),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=500, description="At most this many alerts, newest first.")
    ] = 100,
) -> Page[AlertPublic]:
    """Staff. Low stock, late work orders, carrier exceptions, orders a system fault
    holds and poor customer ratings (2 of 5 or less), newest first; each names the order or
    product it is about. 403 for a customer user."""
    return Page(data=await fulfilment.alerts(session, kind, limit))


@router.get("/customers", response_model=Page[CustomerPublic], summary="List customers")
async def customers(user: CurrentUser, session: SessionDep) -> Page[CustomerPublic]:
    """Any signed-in user. Staff see every customer with its credit limit (the `customer_id`
    an order is entered for); a customer user sees its own record only."""
    rows = await session.scalars(visibility.reference_customers(user))
    return Page(data=[CustomerPublic.model_validate(c) for c in rows])


@router.get(
    "/reminders",
    response_model=Page[ReviewNoticePublic],
    summary="My reminders and escalations of stalled reviews",
)
async def reminders(user: CurrentUser, session: SessionDep) -> Page[ReviewNoticePublic]:
    """Any signed-in user. Reminders and escalations of stalled reviews sent to the caller,
    newest first, at most 200: which order, which review level, and when."""
    return Page(data=await order_records.review_notices_for(session, user))
