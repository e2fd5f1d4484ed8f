"""Known order histories written straight into PostgreSQL through the models, with the
timestamps a test chooses, for the analytics tests. Each stay ends where the next transition
begins (``left_at``), as the transition write records it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Alert,
    Decision,
    Order,
    OrderLine,
    ReviewLevel,
    ReviewNotice,
    Shipment,
    StatusHistory,
    WorkOrder,
)


def at(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


@dataclass
class Level:
    level: int
    role: str
    status: str = "approved"
    opened: float | None = None
    decided: float | None = None
    escalated_to: str | None = None
    # (kind, round, recipient, seconds from the start)
    notices: list[tuple[str, int, str, float]] = field(default_factory=list)
    # (username, on behalf of, seconds from the start)
    decisions: list[tuple[str, str | None, float]] = field(default_factory=list)


@dataclass
class KnownOrder:
    """An order whose transitions happened at ``start`` + each step's seconds."""

    customer_id: int
    start: datetime
    # (status, seconds from the start, reason)
    steps: list[tuple[str, float, str | None]]
    total: Decimal = Decimal("100.00")
    requested_delivery_date: date | None = None
    delivered: float | None = None
    levels: list[Level] = field(default_factory=list)
    # (line, status, booked at, finished at): seconds from the start
    work_orders: list[tuple[str, str, float, float | None]] = field(default_factory=list)
    # One order line per entry, with the date it was promised (None: never promised).
    promised_dates: list[date | None] = field(default_factory=list)
    order_no: str = field(
        default_factory=lambda: f"SO-1999-{random.randrange(10**11, 10**12):012d}"
    )
    id: int = 0


async def write(sessions: async_sessionmaker[AsyncSession], *orders: KnownOrder) -> None:
    async with sessions.begin() as session:
        for known in orders:
            await _write_one(session, known)


async def _write_one(session: AsyncSession, known: KnownOrder) -> None:
    status = known.steps[-1][0]
    held_from = known.steps[-2][0] if status == "ON_HOLD" else None
    order = Order(
        order_no=known.order_no,
        customer_id=known.customer_id,
        status=status,
        held_from=held_from,
        total=known.total,
        currency="CNY",
        created_by="analytics-test",
        rejection_reasons=[],
        requested_delivery_date=known.requested_delivery_date,
        created_at=at(known.start, known.steps[0][1]),
    )
    session.add(order)
    await session.flush()
    known.id = order.id
    for line_no, promised in enumerate(known.promised_dates, start=1):
        session.add(
            OrderLine(
                order_id=order.id,
                line_no=line_no,
                sku="ANALYTICS-TEST",
                quantity=1,
                promised_date=promised,
            )
        )
    previous: str | None = None
    for seq, (to_status, seconds, reason) in enumerate(known.steps, start=1):
        following = known.steps[seq] if seq < len(known.steps) else None
        session.add(
            StatusHistory(
                order_id=order.id,
                seq=seq,
                from_status=previous,
                to_status=to_status,
                actor="system",
                reason=reason,
                at=at(known.start, seconds),
                left_at=at(known.start, following[1]) if following else None,
            )
        )
        previous = to_status
    for level in known.levels:
        session.add(
            ReviewLevel(
                order_id=order.id,
                level=level.level,
                role=level.role,
                status=level.status,
                escalated=level.escalated_to is not None,
                escalated_to=level.escalated_to,
                opened_at=at(known.start, level.opened) if level.opened is not None else None,
                decided_at=at(known.start, level.decided) if level.decided is not None else None,
            )
        )
        for kind, round_no, recipient, seconds in level.notices:
            session.add(
                ReviewNotice(
                    order_id=order.id,
                    level=level.level,
                    kind=kind,
                    round=round_no,
                    role=level.role,
                    recipient=recipient,
                    at=at(known.start, seconds),
                )
            )
        for username, on_behalf_of, seconds in level.decisions:
            session.add(
                Decision(
                    order_id=order.id,
                    level=level.level,
                    decided_by=username,
                    on_behalf_of=on_behalf_of,
                    acting_role=level.role,
                    decision="approve",
                    at=at(known.start, seconds),
                )
            )
    for n, (line, wo_status, booked, finished) in enumerate(known.work_orders, start=1):
        session.add(
            WorkOrder(
                work_order_no=f"WO-{known.order_no[3:]}-{n}",
                order_id=order.id,
                seq=n,
                line=line,
                status=wo_status,
                created_at=at(known.start, booked),
                finished_at=at(known.start, finished) if finished is not None else None,
            )
        )
    if known.delivered is not None:
        session.add(
            Shipment(
                order_id=order.id,
                carrier="test",
                tracking_no=f"T-{known.order_no}",
                status="delivered",
                booked_at=known.start,
                shipped_at=known.start,
                delivered_at=at(known.start, known.delivered),
            )
        )


async def add_alert(
    sessions: async_sessionmaker[AsyncSession], order: KnownOrder, message: str
) -> None:
    async with sessions.begin() as session:
        session.add(
            Alert(
                key=f"test:{order.order_no}:{random.randrange(10**9)}",
                kind="order_fault",
                order_id=order.id,
                message=message,
            )
        )
