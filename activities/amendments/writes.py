"""The writes of an amendment: the order's lines, its review levels, and the decisions a
re-opening sets aside; each in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from activities.amendments.inputs import LevelWrite
from db.models import Decision, Order, OrderLine, ReviewLevel, SetAsideDecision
from domain.amendments import LineVersion


async def write_lines(session: AsyncSession, order: Order, lines: list[LineVersion]) -> None:
    """Make the order's lines ``lines``: changed in place, removed, or added."""
    wanted = {line.line_no: line for line in lines}
    await session.execute(
        delete(OrderLine).where(
            OrderLine.order_id == order.id, OrderLine.line_no.not_in(list(wanted))
        )
    )
    existing = {line.line_no for line in order.lines}
    for line in lines:
        values = {
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.unit_price * line.quantity if line.unit_price is not None else None,
        }
        if line.line_no in existing:
            await session.execute(
                update(OrderLine)
                .where(OrderLine.order_id == order.id, OrderLine.line_no == line.line_no)
                .values(**values)
            )
        else:
            session.add(OrderLine(order_id=order.id, line_no=line.line_no, **values))


async def set_aside_decisions(
    session: AsyncSession, order_id: int, levels: list[int], version: int
) -> None:
    """Move the decisions of re-opened levels to ``set_aside_decisions``, with the opening
    they were for: the level is decided again, and what was decided stays on the record."""
    if not levels:
        return
    taken = (
        select(
            Decision.order_id,
            Decision.level,
            ReviewLevel.opening,
            Decision.decided_by,
            Decision.on_behalf_of,
            Decision.acting_role,
            Decision.decision,
            Decision.comment,
            Decision.at,
            literal(version),
        )
        .join(
            ReviewLevel,
            (ReviewLevel.order_id == Decision.order_id) & (ReviewLevel.level == Decision.level),
        )
        .where(Decision.order_id == order_id, Decision.level.in_(levels))
    )
    await session.execute(
        insert(SetAsideDecision).from_select(
            [
                "order_id",
                "level",
                "opening",
                "decided_by",
                "on_behalf_of",
                "acting_role",
                "decision",
                "comment",
                "at",
                "set_aside_by_version",
            ],
            taken,
        )
    )
    await session.execute(
        delete(Decision).where(Decision.order_id == order_id, Decision.level.in_(levels))
    )


async def write_levels(
    session: AsyncSession, order_id: int, levels: list[LevelWrite], dropped: list[int], at: datetime
) -> None:
    """The amended review's levels; a level no longer needed stays listed as dropped."""
    existing = set(
        await session.scalars(select(ReviewLevel.level).where(ReviewLevel.order_id == order_id))
    )
    for level in levels:
        values: dict[str, Any] = {
            "role": level.spec.role,
            "quorum": level.spec.quorum,
            "status": level.status,
            "opening": level.opening,
            "remind_every": level.spec.remind_every,
            "escalate_after": level.spec.escalate_after,
            "expire_after": level.spec.expire_after,
            "reminder_limit": level.spec.reminder_limit,
            "opened_at": at if level.status == "pending" else None,
            "decided_at": None,
        }
        if level.status == "approved":
            # A kept approval keeps when it was opened and decided.
            del values["opened_at"], values["decided_at"]
        if level.level in existing:
            await session.execute(
                update(ReviewLevel)
                .where(ReviewLevel.order_id == order_id, ReviewLevel.level == level.level)
                .values(**values)
            )
        else:
            session.add(ReviewLevel(order_id=order_id, level=level.level, **values))
    if dropped:
        await session.execute(
            update(ReviewLevel)
            .where(ReviewLevel.order_id == order_id, ReviewLevel.level.in_(dropped))
            .values(status="dropped")
        )
