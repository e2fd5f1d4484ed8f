"""Archiving closed orders: the archive workflow's writes to PostgreSQL.

An order is due once it has stayed COMPLETED, REJECTED or CANCELLED (its last transition, the
one into that status) since before the run's ``closed_before``; a COMPLETED order its customer
has not rated waits, besides, until its feedback window has closed
(``feedback_closed_before``), so the archiver never takes a day of the window the customer was
promised. Each batch is one transaction that stamps ``archived_at`` with the run's start and
appends one audit row per order, so an attempt retried after a crash finds those orders
archived and takes the next ones; a run's count is read back from its stamp, whatever attempt
wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db.audit import append_audit
from db.models import ArchiveRun, Order
from domain.actors import SYSTEM
from domain.statuses import TERMINAL

AUDIT_KIND = "archive"

# The due orders of one batch, oldest id first, locked so that two runs at once (an ops run
# while the scheduled one works) never take the same order.
_DUE_ORDERS = text(
    """
SELECT o.id, o.order_no, o.status, h.at AS closed_at
  FROM orders o
  JOIN status_history h
    ON h.order_id = o.id AND h.to_status = o.status AND h.left_at IS NULL
 WHERE o.archived_at IS NULL
   AND o.status = ANY(:closed)
   AND h.at < :closed_before
   AND (o.status <> 'COMPLETED' OR h.at < :feedback_closed_before
        OR EXISTS (SELECT 1 FROM order_feedback f WHERE f.order_id = o.id))
 ORDER BY o.id
 LIMIT :batch_size
   FOR UPDATE OF o SKIP LOCKED
"""
)


@dataclass
class ArchiveBatch:
    """Archive at most ``batch_size`` orders closed before ``closed_before`` (ISO-8601),
    stamping them with ``archived_at`` (ISO-8601, the run's start); unrated COMPLETED orders
    only once completed before ``feedback_closed_before`` too (the run's start less
    FEEDBACK_WINDOW; ``None``: the run's start, as for a run that did not send it)."""

    closed_before: str
    archived_at: str
    batch_size: int
    feedback_closed_before: str | None = None


@dataclass
class ArchiveRunRecord:
    run_id: str
    workflow_id: str
    started_at: str
    closed_before: str
    archive_after_seconds: float
    more_left: bool


class ArchiveActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn
    async def archive_batch(self, batch: ArchiveBatch) -> int:
        """Archive one batch; answers how many orders it archived (fewer than the batch size:
        none are left)."""
        archived_at = datetime.fromisoformat(batch.archived_at)
        async with self.sessions.begin() as session:
            due = (
                await session.execute(
                    _DUE_ORDERS,
                    {
                        "closed": sorted(status.value for status in TERMINAL),
                        "closed_before": datetime.fromisoformat(batch.closed_before),
                        "feedback_closed_before": datetime.fromisoformat(
                            batch.feedback_closed_before or batch.archived_at
                        ),
                        "batch_size": batch.batch_size,
                    },
                )
            ).all()
            if not due:
                return 0
            await session.execute(
                update(Order)
                .where(Order.id.in_([row.id for row in due]))
                .values(archived_at=archived_at)
            )
            # Audit rows last: appending takes the audit lock until this transaction ends.
            for row in due:
                await append_audit(
                    session,
                    kind=AUDIT_KIND,
                    actor=SYSTEM,
                    order_no=row.order_no,
                    payload={"status": row.status, "closed_at": row.closed_at},
                    at=archived_at,
                )
        return len(due)

    @activity.defn
    async def record_run(self, run: ArchiveRunRecord) -> int:
        """Record the finished run once; answers how many orders it archived in all."""
        started_at = datetime.fromisoformat(run.started_at)
        async with self.sessions.begin() as session:
            archived = await session.scalar(
                select(func.count()).select_from(Order).where(Order.archived_at == started_at)
            )
            await session.execute(
                insert(ArchiveRun)
                .values(
                    run_id=run.run_id,
                    workflow_id=run.workflow_id,
                    started_at=started_at,
                    finished_at=datetime.now(UTC),
                    closed_before=datetime.fromisoformat(run.closed_before),
                    archive_after_seconds=run.archive_after_seconds,
                    archived=archived or 0,
                    more_left=run.more_left,
                )
                .on_conflict_do_nothing(index_elements=[ArchiveRun.run_id])
            )
        return int(archived or 0)
