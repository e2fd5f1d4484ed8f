"""Archiving: a small workflow that the archive schedule starts every ARCHIVE_EVERY (and ops
on demand, from the Temporal UI or ``POST /api/v1/archiving/run``).

It archives, batch by batch, the orders closed (COMPLETED, REJECTED, CANCELLED) more than
ARCHIVE_AFTER before its start, then records the run. It never touches an order's own
workflow: an archived order is one whose workflow has long finished; only its record in
PostgreSQL changes (``archived_at``), which the API reads to keep it out of default lists and
refuse actions on it. A run stops after MAX_BATCHES_PER_RUN so its history stays short; what
is left is taken by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archiving import ArchiveActivities, ArchiveBatch, ArchiveRunRecord

ARCHIVE_SCHEDULE_ID = "archive-orders"
ARCHIVE_WORKFLOW_ID = "archive-orders-run"
MAX_BATCHES_PER_RUN = 200
BATCH_TIMEOUT = timedelta(minutes=2)
# A database away is retried for a while; a run that still fails is left to the next one.
BATCH_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=20)


@dataclass
class ArchiveInput:
    """What the schedule hands every run: ARCHIVE_AFTER, ARCHIVE_BATCH_SIZE and
    FEEDBACK_WINDOW as the worker that last set up the schedule had them (a schedule set up
    before FEEDBACK_WINDOW was handed over sends none: 0)."""

    archive_after_seconds: float
    batch_size: int
    feedback_window_seconds: float = 0.0


@dataclass
class ArchiveResult:
    archived: int
    more_left: bool


@workflow.defn
class ArchiveWorkflow:
    @workflow.run
    async def run(self, request: ArchiveInput) -> ArchiveResult:
        started_at = workflow.now()
        closed_before = started_at - timedelta(seconds=request.archive_after_seconds)
        # A COMPLETED order its customer may still rate is kept out until the window closes.
        feedback_closed_before = started_at - timedelta(seconds=request.feedback_window_seconds)
        batch = ArchiveBatch(
            closed_before=closed_before.isoformat(),
            archived_at=started_at.isoformat(),
            batch_size=request.batch_size,
            feedback_closed_before=feedback_closed_before.isoformat(),
        )
        more_left = False
        for number in range(1, MAX_BATCHES_PER_RUN + 1):
            archived: int = await workflow.execute_activity_method(
                ArchiveActivities.archive_batch,
                batch,
                start_to_close_timeout=BATCH_TIMEOUT,
                retry_policy=BATCH_RETRY,
                summary=f"batch {number}",
            )
            if archived < request.batch_size:
                break
        else:
            more_left = True
        total: int = await workflow.execute_activity_method(
            ArchiveActivities.record_run,
            ArchiveRunRecord(
                run_id=workflow.info().run_id,
                workflow_id=workflow.info().workflow_id,
                started_at=started_at.isoformat(),
                closed_before=closed_before.isoformat(),
                archive_after_seconds=request.archive_after_seconds,
                more_left=more_left,
            ),
            start_to_close_timeout=BATCH_TIMEOUT,
            retry_policy=BATCH_RETRY,
        )
        workflow.set_current_details(
            f"**Archived** {total} order(s) closed before {closed_before.isoformat()}"
            + (" (more left for the next run)" if more_left else "")
        )
        return ArchiveResult(archived=total, more_left=more_left)
