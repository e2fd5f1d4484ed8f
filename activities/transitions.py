"""Writing a status transition: the history row, the order's status, the review level it
opens and the notices it sends, in the caller's transaction. Shared by every activity whose
change moves the order (a transition of its own, or the decision that ends a review)."""

from __future__ import annotations

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.inputs import TransitionRecord
from activities.outbox import OrderKeys, write_notices
from activities.review_levels import open_review_level
from db.audit import append_transition_audit
from db.models import Alert, Order, StatusHistory


async def write_transition(
    session: AsyncSession, order: OrderKeys, record: TransitionRecord
) -> bool:
    """Apply the transition to the (locked) order; False when it was written before.

    The caller audits it with :func:`audit_transition` after its other writes, since the
    audit append takes the chain's lock until the transaction ends.
    """
    inserted = await session.scalar(
        insert(StatusHistory)
        .values(
            order_id=order.id,
            seq=record.seq,
            from_status=record.from_status,
            to_status=record.to_status,
            actor=record.actor,
            reason=record.reason,
            at=record.at,
        )
        .on_conflict_do_nothing(index_elements=["order_id", "seq"])
        .returning(StatusHistory.id)
    )
    if inserted is None:
        return False
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(status=record.to_status, held_from=record.held_from, updated_at=func.now())
    )
    if record.opens_level is not None:
        await open_review_level(session, order.id, record.opens_level, record.at)
    await write_fault(session, order, record)
    return True


async def write_fault(session: AsyncSession, order: OrderKeys, record: TransitionRecord) -> None:
    """The notices of the record, and the alert of a fault it reports, once."""
    await write_notices(session, record.notices, order)
    if record.fault is not None:
        await session.execute(
            insert(Alert)
            .values(
                key=f"fault:{record.order_no}:{record.seq}",
                kind="order_fault",
                order_id=order.id,
                message=f"{record.order_no}: {record.fault}",
                at=record.at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )


async def audit_transition(session: AsyncSession, record: TransitionRecord) -> None:
    await append_transition_audit(
        session,
        order_no=record.order_no,
        seq=record.seq,
        from_status=record.from_status,
        to_status=record.to_status,
        actor=record.actor,
        reason=record.reason,
        at=record.at,
    )
