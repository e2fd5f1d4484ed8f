"""Archiving for ops: how the archive schedule stands, what its last run did, and a run now.

The schedule and its runs live in Temporal (``workflows/archive.py``); what each run archived
is in PostgreSQL (``archive_runs``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.service import RPCError, RPCStatusCode

from api import schemas
from api.errors import Unavailable
from api.schemas.archiving import ArchiveRunPublic, ArchiveSchedulePublic, ArchivingPublic
from config import Settings
from db.models import ArchiveRun
from workflows.archive import ARCHIVE_SCHEDULE_ID
from workflows.archive_schedule import ensure_archive_schedule

RETRY_AFTER_SECONDS = 5


async def last_run(session: AsyncSession) -> ArchiveRunPublic | None:
    row = await session.scalar(select(ArchiveRun).order_by(ArchiveRun.id.desc()).limit(1))
    return ArchiveRunPublic.model_validate(row) if row is not None else None


async def schedule_state(temporal: Client, settings: Settings) -> ArchiveSchedulePublic | None:
    """The schedule as Temporal describes it; None when no worker created it yet."""
    try:
        described = await temporal.get_schedule_handle(ARCHIVE_SCHEDULE_ID).describe(
            rpc_timeout=settings.update_wait
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise Unavailable(
            "the workflow engine did not answer about the archive schedule; try again",
            retry_after=RETRY_AFTER_SECONDS,
        ) from None
    intervals = described.schedule.spec.intervals
    return ArchiveSchedulePublic(
        schedule_id=ARCHIVE_SCHEDULE_ID,
        paused=described.schedule.state.paused,
        note=described.schedule.state.note,
        every_seconds=intervals[0].every.total_seconds() if intervals else None,
        next_run_at=min(described.info.next_action_times, default=None),
        running=bool(described.info.running_actions),
    )


async def archiving_state(
    session: AsyncSession, temporal: Client, settings: Settings
) -> ArchivingPublic:
    run = await last_run(session)
    # The connection goes back to the pool while Temporal answers.
    await session.close()
    return ArchivingPublic(
        schedule=await schedule_state(temporal, settings),
        last_run=run,
    )


async def run_now(temporal: Client, settings: Settings) -> schemas.Accepted:
    """Start a run now through the schedule (a paused schedule runs too: ops asked); one
    asked for while a run works starts when that one ends. Before any worker started, the
    schedule is created here, with this process's settings (a worker that starts brings it
    in line with its own)."""
    handle = temporal.get_schedule_handle(ARCHIVE_SCHEDULE_ID)
    try:
        try:
            await handle.trigger(
                overlap=ScheduleOverlapPolicy.BUFFER_ONE, rpc_timeout=settings.update_wait
            )
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            await ensure_archive_schedule(temporal, settings, update_existing=False)
            await handle.trigger(
                overlap=ScheduleOverlapPolicy.BUFFER_ONE, rpc_timeout=settings.update_wait
            )
    except RPCError:
        raise Unavailable(
            "the workflow engine did not take the run; try again", retry_after=RETRY_AFTER_SECONDS
        ) from None
    return schemas.Accepted(
        detail="archiving run started; GET /api/v1/archiving shows it once it finished"
    )
