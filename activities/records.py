"""Looking up the order an activity works on, and which orders draw on a customer's credit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from db.models import Order
from domain.statuses import OPEN_STATUSES, OrderStatus


async def find_order(
    session: AsyncSession, order_no: str, *options: Any, lock: bool = False
) -> Order:
    query = select(Order).where(Order.order_no == order_no).options(*options)
    if lock:
        query = query.with_for_update()
    order = (await session.scalars(query)).one_or_none()
    if order is None:
        # Retrying cannot make a missing order appear.
        raise ApplicationError(f"order {order_no} does not exist", non_retryable=True)
    return order


async def lock_order(session: AsyncSession, order_no: str, *options: Any) -> Order:
    """The order row, locked: activities of one order that change the same rows queue here."""
    return await find_order(session, order_no, *options, lock=True)


@dataclass(frozen=True)
class OrderRow:
    """The order's keys, for writes that need no more of it than that."""

    id: int
    order_no: str
    customer_id: int


async def find_order_row(session: AsyncSession, order_no: str, *, lock: bool = False) -> OrderRow:
    """The order's keys, read lightly (and its row locked, with ``lock``)."""
    query = select(Order.id, Order.order_no, Order.customer_id).where(Order.order_no == order_no)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise ApplicationError(f"order {order_no} does not exist", non_retryable=True)
    return OrderRow(row.id, row.order_no, row.customer_id)


async def lock_order_row(session: AsyncSession, order_no: str) -> OrderRow:
    """The order row locked, read lightly: activities of one order that change the same rows
    queue here."""
    return await find_order_row(session, order_no, lock=True)


def draws_on_credit() -> ColumnElement[bool]:
    """Orders whose amount the customer's credit carries: the open ones, and those that
    passed validation (their review chosen) but do not show it in their status yet."""
    return or_(
        Order.status.in_(OPEN_STATUSES),
        and_(Order.status == OrderStatus.CREATED, Order.policy_version.is_not(None)),
    )
