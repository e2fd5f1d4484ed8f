"""The Temporal Schedule of an order template: made, changed, paused, triggered and deleted
with the template, and read back for its next runs. Ops see it in the Temporal UI under
Schedules as ``order-template-<id>``, and may pause or trigger it there too; the API reads
its state from Temporal, so both always agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from api import schemas
from api.errors import AppError, Conflict, InvalidRequest, Unavailable
from config import Settings
from workflows.recurring import RecurringOrderInput, RecurringOrderWorkflow, recurring_workflow_id

# A run missed while Temporal was away still happens within this window (a day late at most),
# never a pile of them after a long outage.
CATCHUP_WINDOW = timedelta(days=1)
RETRY_AFTER_SECONDS = 2


def schedule_id(template_id: int) -> str:
    return f"order-template-{template_id}"


def schedule_spec(schedule: dict[str, Any]) -> ScheduleSpec:
    """The Temporal spec of a template's schedule as the API stores it (see
    ``api/schemas/templates.py``): monthly on a day at a time, or a cron spec."""
    if schedule["kind"] == "monthly":
        calendar = ScheduleCalendarSpec(
            second=[ScheduleRange(0)],
            minute=[ScheduleRange(schedule.get("minute", 0))],
            hour=[ScheduleRange(schedule.get("hour", 0))],
            day_of_month=[ScheduleRange(schedule["day"])],
            comment=f"monthly on day {schedule['day']}",
        )
        return ScheduleSpec(calendars=[calendar], time_zone_name=schedule.get("time_zone", "UTC"))
    return ScheduleSpec(
        cron_expressions=[schedule["cron"]], time_zone_name=schedule.get("time_zone", "UTC")
    )


def _schedule(settings: Settings, template_id: int, name: str, spec: dict[str, Any]) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RecurringOrderWorkflow.run,
            RecurringOrderInput(template_id=template_id),
            id=recurring_workflow_id(template_id),
            task_queue=settings.task_queue,
            static_summary=f"Recurring order from template {template_id}: {name[:80]}",
        ),
        spec=schedule_spec(spec),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=CATCHUP_WINDOW
        ),
        state=ScheduleState(note=f"enters an order from template {template_id} ({name[:80]})"),
    )


def _refusal(err: RPCError, template_id: int) -> AppError:
    if err.status == RPCStatusCode.INVALID_ARGUMENT:
        return InvalidRequest(f"Temporal does not take this schedule: {err.message[:200]}")
    if err.status == RPCStatusCode.NOT_FOUND:
        return Conflict(f"order template {template_id} has no schedule")
    return Unavailable(
        "the workflow engine did not answer about the template's schedule; try again",
        retry_after=RETRY_AFTER_SECONDS,
    )


async def create_schedule(
    client: Client, settings: Settings, template_id: int, name: str, spec: dict[str, Any]
) -> None:
    try:
        await client.create_schedule(
            schedule_id(template_id), _schedule(settings, template_id, name, spec)
        )
    except RPCError as err:
        raise _refusal(err, template_id) from None


async def replace_schedule(
    client: Client, settings: Settings, template_id: int, name: str, spec: dict[str, Any] | None
) -> None:
    """Make the template's schedule say ``spec`` (None: no schedule); a paused schedule stays
    paused."""
    if spec is None:
        await delete_schedule(client, template_id)
        return
    wanted = _schedule(settings, template_id, name, spec)

    def updated(current: ScheduleUpdateInput) -> ScheduleUpdate:
        wanted.state = current.description.schedule.state
        return ScheduleUpdate(schedule=wanted)

    try:
        await client.get_schedule_handle(schedule_id(template_id)).update(updated)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise _refusal(err, template_id) from None
        await create_schedule(client, settings, template_id, name, spec)


async def delete_schedule(client: Client, template_id: int) -> None:
    """Delete it; one already gone is fine."""
    try:
        await client.get_schedule_handle(schedule_id(template_id)).delete()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise _refusal(err, template_id) from None


async def act_on_schedule(client: Client, template_id: int, action: str, who: str) -> None:
    """``pause``, ``unpause`` or ``trigger`` (run once now, beside the timetable)."""
    handle = client.get_schedule_handle(schedule_id(template_id))
    try:
        if action == "pause":
            await handle.pause(note=f"paused by {who}")
        elif action == "unpause":
            await handle.unpause(note=f"unpaused by {who}")
        else:
            # Every trigger is a run of its own, even while another one still runs.
            await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    except RPCError as err:
        raise _refusal(err, template_id) from None


async def schedule_state(client: Client, template_id: int) -> schemas.ScheduleStatePublic:
    try:
        description = await client.get_schedule_handle(schedule_id(template_id)).describe()
    except RPCError as err:
        raise _refusal(err, template_id) from None
    state = description.schedule.state
    return schemas.ScheduleStatePublic(
        schedule_id=schedule_id(template_id),
        paused=state.paused,
        note=state.note or None,
        next_runs=list(description.info.next_action_times),
        recent_runs=[action.scheduled_at for action in description.info.recent_actions],
    )
