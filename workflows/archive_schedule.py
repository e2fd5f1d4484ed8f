"""The archive schedule in Temporal: created by the first worker that starts, kept in line
with the worker's settings by every later one, and triggered by ops.

It stays visible, pausable and triggerable in the Temporal UI (Schedules,
``archive-orders``). A worker that starts brings its action and interval up to date with
ARCHIVE_AFTER, ARCHIVE_BATCH_SIZE and ARCHIVE_EVERY, leaving its state alone: a schedule ops
paused stays paused."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config import Settings
from workflows.archive import (
    ARCHIVE_SCHEDULE_ID,
    ARCHIVE_WORKFLOW_ID,
    ArchiveInput,
    ArchiveWorkflow,
)


def _action(settings: Settings) -> ScheduleActionStartWorkflow:
    return ScheduleActionStartWorkflow(
        ArchiveWorkflow.run,
        ArchiveInput(
            archive_after_seconds=settings.archive_after.total_seconds(),
            batch_size=settings.archive_batch_size,
            feedback_window_seconds=settings.feedback_window.total_seconds(),
        ),
        id=ARCHIVE_WORKFLOW_ID,
        task_queue=settings.task_queue,
        static_summary=(
            f"Archives orders closed more than {settings.archive_after} ago (ARCHIVE_AFTER)"
        ),
    )


def _spec(settings: Settings) -> ScheduleSpec:
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=settings.archive_every)])


async def ensure_archive_schedule(
    client: Client, settings: Settings, *, update_existing: bool = True
) -> None:
    """Create the archive schedule, or (unless ``update_existing`` is false) bring its action
    and interval up to date."""
    schedule = Schedule(
        action=_action(settings),
        spec=_spec(settings),
        # A run while one works (an ops trigger) waits for it rather than racing it.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
        state=ScheduleState(note="archives closed orders; pause here to stop archiving"),
    )
    try:
        await client.create_schedule(ARCHIVE_SCHEDULE_ID, schedule)
        return
    except ScheduleAlreadyRunningError:
        if not update_existing:
            return

    def brought_up_to_date(current: ScheduleUpdateInput) -> ScheduleUpdate:
        kept = current.description.schedule
        kept.action = _action(settings)
        kept.spec = _spec(settings)
        return ScheduleUpdate(schedule=kept)

    await client.get_schedule_handle(ARCHIVE_SCHEDULE_ID).update(brought_up_to_date)
