"""Notification delivery: one long-running workflow per channel (e-mail, webhooks).

Orders never wait on a receiver: their activities only write the outbox, in the transaction of
the change they announce. This workflow waits for pending rows (PostgreSQL wakes it), sends
each row as its own activity, retried with backoff by the activity retry policy, and records
the failure of a row whose last attempt failed. Rows are sent side by side, so one receiver
that is down for minutes delays nobody else. It continues as new before its history grows
long, carrying nothing: what is pending lives in the outbox.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import DeliveryClaim, NotificationActivities
    from domain.notifications import DELIVERED_CHANNELS

# Writing and reading rows: short transactions, retried until the database answers.
ROW_TIMEOUT = timedelta(seconds=10)
# No attempt limit on purpose: only a database away is retried (the worker's failure
# classifier makes a write the database refuses fail at once, and errors are kept storable),
# and the delivery pipeline must outlast an outage.
ROW_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# One delivery attempt; the SMTP and HTTP clients give up well before this.
DELIVERY_TIMEOUT = timedelta(seconds=30)
# The wait for the outbox heartbeats; a worker that died mid-wait is noticed after this.
WAIT_HEARTBEAT_TIMEOUT = timedelta(seconds=30)
WAIT_TIMEOUT = timedelta(seconds=90)
# Rows sent by one run before it continues as new.
ROWS_PER_RUN = 500


@dataclass
class DeliveryInput:
    channel: str  # email | webhook
    # Tries per row, and the wait before the second (doubling after).
    max_attempts: int
    initial_interval_seconds: float


def delivery_workflow_id(channel: str) -> str:
    return f"notification-delivery-{channel}"


@workflow.defn
class NotificationDeliveryWorkflow:
    def __init__(self) -> None:
        # Rows being delivered (retries included), by id.
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.sent = 0

    @workflow.run
    async def run(self, request: DeliveryInput) -> None:
        if request.channel not in DELIVERED_CHANNELS:
            raise ApplicationError(f"nothing delivers on channel {request.channel}")
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=request.initial_interval_seconds),
            backoff_coefficient=2,
            maximum_attempts=request.max_attempts,
        )
        while self.sent < ROWS_PER_RUN and not workflow.info().is_continue_as_new_suggested():
            pending: list[int] = await workflow.execute_local_activity_method(
                NotificationActivities.pending_deliveries,
                DeliveryClaim(request.channel, exclude=sorted(self.in_flight)),
                start_to_close_timeout=ROW_TIMEOUT,
                retry_policy=ROW_RETRY,
            )
            for notification_id in pending:
                self.in_flight[notification_id] = asyncio.create_task(
                    self._deliver(notification_id, retry)
                )
            if not pending:
                await workflow.execute_activity_method(
                    NotificationActivities.await_outbox,
                    DeliveryClaim(request.channel, exclude=sorted(self.in_flight)),
                    start_to_close_timeout=WAIT_TIMEOUT,
                    heartbeat_timeout=WAIT_HEARTBEAT_TIMEOUT,
                    retry_policy=ROW_RETRY,
                )
        await workflow.wait_condition(lambda: not self.in_flight)
        workflow.continue_as_new(request)

    async def _deliver(self, notification_id: int, retry: RetryPolicy) -> None:
        """Deliver one row; once the retries are used up, record why it failed."""
        try:
            await workflow.execute_activity_method(
                NotificationActivities.deliver,
                notification_id,
                start_to_close_timeout=DELIVERY_TIMEOUT,
                retry_policy=retry,
            )
        except ActivityError as error:
            await workflow.execute_local_activity_method(
                NotificationActivities.record_failure,
                args=[notification_id, _reason(error)],
                start_to_close_timeout=ROW_TIMEOUT,
                retry_policy=ROW_RETRY,
            )
        finally:
            self.in_flight.pop(notification_id, None)
            self.sent += 1


def _reason(error: ActivityError) -> str:
    """The last attempt's own error, rather than Temporal's wrapper around it."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or error)
