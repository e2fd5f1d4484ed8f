"""Writing a status transition: the history row, the order's status, the review level it
opens and the notices it sends (a completion also asks the customer for feedback), in the
caller's transaction. Shared by every activity whose
change moves the order (a transition of its own, or the decision that ends a review)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from activities.inputs import TransitionRecord
from activities.outbox import OrderKeys, write_notices
from activities.review_levels import open_review_level
from db.audit import append_transition_audit
from db.models import Alert, Order, StatusHistory
from domain.notifications import feedback_request_notice
from domain.statuses import OrderStatus

logger = logging.getLogger(__name__)


async def write_transition(
    session: AsyncSession, order: OrderKeys, record: TransitionRecord
) -> bool:
    """Apply the transition to the (locked) order; False when it was written before.

    The caller audits it with :func:`audit_transition` after its other writes, since the
    audit append takes the chain's lock until the transaction ends.
    """
    if not await _insert_or_supersede(session, order, record):
        return False
    # The stay in the status it leaves ends here (see ``StatusHistory.left_at``).
    await session.execute(
        update(StatusHistory)
        .where(StatusHistory.order_id == order.id, StatusHistory.seq == record.seq - 1)
        .values(left_at=record.at)
    )
    await session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(status=record.to_status, held_from=record.held_from, updated_at=func.now())
    )
    if record.opens_level is not None:
        await open_review_level(session, order.id, record.opens_level, record.at)
    await write_fault(session, order, record)
    if record.to_status == OrderStatus.COMPLETED:
        # Written here rather than carried by the workflow's record: asking is part of
        # completing, whichever way the order completed, and the workflow stays as released.
        await write_notices(session, [feedback_request_notice(record.order_no)], order)
    return True


async def _insert_or_supersede(
    session: AsyncSession, order: OrderKeys, record: TransitionRecord
) -> bool:
    """The history row of the transition, keyed by the workflow's sequence number; False when
    that row is already this transition (an activity run again).

    A row of that number that is another transition was written by an attempt that did not
    survive: its worker committed it and died before Temporal recorded the step, and the
    workflow, run again, took another path (a cancellation reached it first). The workflow is
    the truth, so its transition replaces the row; the audit chain keeps both.
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
    if inserted is not None:
        return True
    written = await session.scalars(
        select(StatusHistory).where(
            StatusHistory.order_id == order.id, StatusHistory.seq == record.seq
        )
    )
    row = written.one()
    if (row.from_status, row.to_status) == (record.from_status, record.to_status):
        return False
    logger.warning(
        "%s: transition %d was %s -> %s, written by an attempt that did not survive; "
        "replaced by %s -> %s",
        record.order_no,
        record.seq,
        row.from_status,
        row.to_status,
        record.from_status,
        record.to_status,
    )
    row.from_status, row.to_status = record.from_status, record.to_status
    row.actor, row.reason, row.at = record.actor, record.reason, record.at
    await session.flush()
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
