"""Looking up the order an activity works on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from db.models import Order


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
