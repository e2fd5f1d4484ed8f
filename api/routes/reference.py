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


@router.get("/order-statuses", response_model=Page[OrderStatusPublic])
async def order_statuses(_: CurrentUser) -> Page[OrderStatusPublic]:
    """Every status with its labels (en, zh) and the statuses it may move to."""
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


@router.get("/products", response_model=Page[ProductPublic])
async def products(user: CurrentUser, session: SessionDep) -> Page[ProductPublic]:
    """Products with stock on hand, reserved and available; staff also see any low-stock
    alert (it names the order that caused it)."""
    staff = not visibility.is_customer(user)
    return Page(data=await fulfilment.products(session, with_alerts=staff))


@router.get(
    "/production-lines",
    response_model=Page[ProductionLinePublic],
    responses=responses(Forbidden),
)
async def production_lines(_: Staff, session: SessionDep) -> Page[ProductionLinePublic]:
    """Each line's capacity, load and queue of booked work orders."""
    return Page(data=await fulfilment.production_lines(session))


@router.get("/alerts", response_model=Page[AlertPublic], responses=responses(Forbidden))
async def alerts(
    _: Staff,
    session: SessionDep,
    kind: Literal["low_stock", "production_overdue", "carrier_exception", "order_fault"]
    | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[AlertPublic]:
    """Low stock, late work orders, carrier exceptions and orders a system fault holds,
    newest first."""
    return Page(data=await fulfilment.alerts(session, kind, limit))


@router.get("/customers", response_model=Page[CustomerPublic])
async def customers(user: CurrentUser, session: SessionDep) -> Page[CustomerPublic]:
    """Staff see every customer; a customer user sees its own record."""
    rows = await session.scalars(visibility.reference_customers(user))
    return Page(data=[CustomerPublic.model_validate(c) for c in rows])


@router.get("/reminders", response_model=Page[ReviewNoticePublic])
async def reminders(user: CurrentUser, session: SessionDep) -> Page[ReviewNoticePublic]:
    """Reminders and escalations of stalled reviews addressed to the caller, newest first."""
    return Page(data=await order_records.review_notices_for(session, user))
