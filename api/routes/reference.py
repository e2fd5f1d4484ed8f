"""Reference data every signed-in user may read, and the caller's review notices."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api import services
from api.deps import CurrentUser, SessionDep
from api.errors import Unauthorized, responses
from api.schemas import (
    CustomerPublic,
    OrderStatusPublic,
    Page,
    ProductPublic,
    ReviewNoticePublic,
    StatusLabel,
)
from db.models import Product
from domain.statuses import STATUS_LABELS, STATUS_MEANINGS, TERMINAL, TRANSITIONS, OrderStatus

router = APIRouter(tags=["reference"], responses=responses(Unauthorized))


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
async def products(_: CurrentUser, session: SessionDep) -> Page[ProductPublic]:
    rows = await session.scalars(select(Product).order_by(Product.sku))
    return Page(data=[ProductPublic.model_validate(p) for p in rows])


@router.get("/customers", response_model=Page[CustomerPublic])
async def customers(user: CurrentUser, session: SessionDep) -> Page[CustomerPublic]:
    """Staff see every customer; a customer user sees its own record."""
    rows = await session.scalars(services.reference_customers(user))
    return Page(data=[CustomerPublic.model_validate(c) for c in rows])


@router.get("/reminders", response_model=Page[ReviewNoticePublic])
async def reminders(user: CurrentUser, session: SessionDep) -> Page[ReviewNoticePublic]:
    """Reminders and escalations of stalled reviews addressed to the caller, newest first."""
    return Page(data=await services.review_notices_for(session, user))
