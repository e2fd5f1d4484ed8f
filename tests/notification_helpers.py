"""Helpers of the notification tests: notices written to the outbox the way every activity
writes them, inside a transaction of their own, and the outbox rows once delivered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from activities.outbox import write_notice
from db.models import Notification
from domain.notifications import NoticeRequest
from tests.factories import World, eventually


async def emit(world: World, notice: NoticeRequest) -> None:
    """Write the notice's outbox rows in a transaction of their own, as an activity would."""
    async with world.sessions.begin() as session:
        await write_notice(session, notice)


async def settled_rows(world: World, key: str, channel: str) -> list[Notification]:
    """The event's rows on ``channel`` once none is pending any more."""

    async def read() -> list[Notification]:
        async with world.sessions() as session:
            return list(
                await session.scalars(
                    select(Notification).where(
                        Notification.key.startswith(key), Notification.channel == channel
                    )
                )
            )

    return await eventually(read, lambda rows: all(r.status != "pending" for r in rows))


def order_notice(order_no: str, event: str = "shipped", **fields: Any) -> NoticeRequest:
    return NoticeRequest(
        key=f"{order_no}:{event}",
        event=event,
        order_no=order_no,
        subject=f"{order_no}: {event}",
        body=f"Your order {order_no} is {event}.",
        **fields,
    )
