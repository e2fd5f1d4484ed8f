"""The notification workflow: one execution per event, writing the outbox and delivering it.

It runs apart from the order workflow, so a webhook receiver that is down for minutes keeps
no order waiting: the order starts it as an abandoned child (``send_notification``) and moves
on. Each e-mail and webhook is retried with backoff by the activity retry policy; when the
last attempt fails, the failure is written on the notification row, where ops can read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NoticeRequest, NotificationActivities

# Writing rows: retried until the database answers, like every other projection write.
WRITE_TIMEOUT = timedelta(seconds=30)
WRITE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# One delivery attempt; the SMTP and HTTP clients give up well before this.
DELIVERY_TIMEOUT = timedelta(seconds=30)

_UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._:@-]")


@dataclass
class NotificationInput:
    notice: NoticeRequest
    # Tries per e-mail or webhook delivery, and the wait before the second (doubling after).
    max_attempts: int
    initial_interval_seconds: float


def notification_workflow_id(key: str) -> str:
    """``notify-<key>``, with anything unusual in the key replaced, so ops can find it."""
    return "notify-" + _UNSAFE_ID_CHARACTERS.sub("-", key)


@workflow.defn
class NotificationWorkflow:
    @workflow.run
    async def run(self, request: NotificationInput) -> str:
        pending: list[int] = await workflow.execute_activity_method(
            NotificationActivities.notify,
            request.notice,
            start_to_close_timeout=WRITE_TIMEOUT,
            retry_policy=WRITE_RETRY,
        )
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=request.initial_interval_seconds),
            backoff_coefficient=2,
            maximum_attempts=request.max_attempts,
        )
        delivered = await asyncio.gather(*(self._deliver(i, retry) for i in pending))
        failed = delivered.count(False)
        return f"{len(delivered) - failed} delivered, {failed} failed"

    async def _deliver(self, notification_id: int, retry: RetryPolicy) -> bool:
        """Deliver one row; False (and the reason recorded) once the retries are used up."""
        try:
            await workflow.execute_activity_method(
                NotificationActivities.deliver,
                notification_id,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=retry,
            )
            return True
        except ActivityError as error:
            await workflow.execute_activity_method(
                NotificationActivities.record_failure,
                args=[notification_id, _reason(error)],
                start_to_close_timeout=WRITE_TIMEOUT,
                retry_policy=WRITE_RETRY,
            )
            return False


def _reason(error: ActivityError) -> str:
    """The last attempt's own error, rather than Temporal's wrapper around it."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)


async def send_notification(
    notice: NoticeRequest, *, max_attempts: int, initial_interval_seconds: float
) -> None:
    """From inside a workflow: start the notification for ``notice`` and return once it has
    started; it outlives the caller and never makes it wait for a delivery."""
    # Already started means the same event is being sent: nothing more to do.
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await workflow.start_child_workflow(
            NotificationWorkflow.run,
            NotificationInput(notice, max_attempts, initial_interval_seconds),
            id=notification_workflow_id(notice.key),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"{notice.event}: {notice.subject}",
        )
