"""Promise dates in PostgreSQL: giving each line its promise, and moving it with the plan.

These run inside the transaction of the activity whose change they follow (reserving stock,
booking or re-booking work orders), with the order row locked, so a promise, its history row
(``promise_changes``) and the customer's notice commit with the change or not at all. Each is
idempotent: a line promised once is not promised again, and a move is recorded once per cause.

An amendment after approval calls the same two functions once its reservations and work
orders follow the new quantities: :func:`promise_new_lines` for the lines it added and
:func:`move_promises` (with ``earlier_too`` if shrinking work should bring dates forward).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.outbox import write_notice
from db.models import Order, OrderLine, PromiseChange, WorkOrder
from domain.promises import (
    PromiseMove,
    WorkOrderTimes,
    moves,
    promise_changed_notice,
    promised_day,
    ready_at,
)

APPROVAL = "approval"


async def promise_new_lines(
    session: AsyncSession, order: Order, *, lead_days: int, cause: str = APPROVAL
) -> None:
    """Promise every line that has no promise yet and whose readiness is known.

    A line served wholly from stock is ready now; a line production makes is ready when the
    last work order of its product is, so it waits (unpromised) until they are booked.
    """
    ready = await _ready_by_sku(session, order.id)
    now = datetime.now(UTC)
    for line in await _lines(session, order.id):
        if line.promised_date is not None:
            continue
        if line.produce_qty == 0:
            line.promised_date = promised_day(now, lead_days)
            reason = "served from stock"
        elif (finish := ready.get(line.sku)) is not None:
            line.promised_date = promised_day(finish, lead_days)
            reason = f"made by production, planned to finish {finish.isoformat(timespec='minutes')}"
        else:
            continue
        await _record(session, order, line, None, line.promised_date, cause, reason)


async def move_promises(
    session: AsyncSession,
    order: Order,
    *,
    lead_days: int,
    cause: str,
    why: str,
    earlier_too: bool = False,
) -> list[PromiseMove]:
    """Move the promise of each produced line the plan can no longer keep, record each move,
    and tell the customer the old and the new dates in one notice; the moves made."""
    ready = await _ready_by_sku(session, order.id)
    changes: list[PromiseMove] = []
    for line in await _lines(session, order.id):
        finish = ready.get(line.sku)
        if line.promised_date is None or line.produce_qty == 0 or finish is None:
            continue
        planned = promised_day(finish, lead_days)
        if not moves(line.promised_date, planned, earlier_too=earlier_too):
            continue
        changes.append(PromiseMove(line.line_no, line.sku, line.promised_date, planned))
        await _record(session, order, line, line.promised_date, planned, cause, why)
        line.promised_date = planned
    if changes:
        notice = promise_changed_notice(
            order.order_no, order.status, order.created_by, changes, cause=cause, why=why
        )
        await write_notice(session, notice, order)
    return changes


async def _lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    return list(
        await session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
        )
    )


async def _ready_by_sku(session: AsyncSession, order_id: int) -> dict[str, datetime]:
    """When the order's work orders of each product are done (see ``ready_at``)."""
    rows = await session.execute(
        select(
            WorkOrder.sku, WorkOrder.status, WorkOrder.planned_finish, WorkOrder.finished_at
        ).where(WorkOrder.order_id == order_id)
    )
    by_sku: dict[str, list[WorkOrderTimes]] = defaultdict(list)
    for sku, status, planned_finish, finished_at in rows:
        if sku is not None:
            by_sku[sku].append(WorkOrderTimes(status, planned_finish, finished_at))
    ready = {sku: ready_at(times) for sku, times in by_sku.items()}
    return {sku: moment for sku, moment in ready.items() if moment is not None}


async def _record(
    session: AsyncSession,
    order: Order,
    line: OrderLine,
    old_date: date | None,
    new_date: date,
    cause: str,
    reason: str,
) -> None:
    await session.execute(
        insert(PromiseChange)
        .values(
            order_id=order.id,
            line_no=line.line_no,
            old_date=old_date,
            new_date=new_date,
            cause=cause,
            reason=reason,
        )
        .on_conflict_do_nothing(index_elements=["order_id", "line_no", "cause"])
    )
