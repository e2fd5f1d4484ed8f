"""What every part of the order workflow shares: the order's state, the lock that makes writers
take turns, waiting, transitions, and the two ways of running activities.

Projection writes (short PostgreSQL transactions) run as local activities: inside the workflow
task, recorded as one marker each, with no server round trip. Calls to the outside world and
compensations run as regular activities.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inputs import TransitionRecord
    from activities.orders import OrderActivities
    from domain.notifications import NoticeRequest
    from domain.refusals import Refusal, conflict
    from domain.statuses import OrderStatus
    from workflows import search_attributes as sa
    from workflows.messages import OrderState, OrderWorkflowInput, UpdateAck
    from workflows.order.details import render_details, waiting_on

S = OrderStatus

PROJECTION_TIMEOUT = timedelta(seconds=10)
PROJECTION_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
OUTSIDE_TIMEOUT = timedelta(seconds=30)
OUTSIDE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


class OrderCancelled(Exception):
    """Raised in the main flow when a cancellation was accepted; the workflow compensates."""


class ContinueAsNewDue(Exception):
    """Raised in the main flow at a wait when the history is long enough to start afresh."""


@contextmanager
def refusing() -> Iterator[None]:
    """A domain refusal becomes an update failure of the same kind, which the API maps to
    403, 409 or 422; non-retryable, so it never fails the workflow task."""
    try:
        yield
    except Refusal as refusal:
        raise ApplicationError(
            refusal.message, type=refusal.kind.value, non_retryable=True
        ) from None


class OrderContext:
    def __init__(self, params: OrderWorkflowInput) -> None:
        self.params = params
        self.order_no = params.order_no
        # A new order's entry, its first transition, was recorded with the order itself.
        self.state: OrderState = params.carried or OrderState(
            order_no=params.order_no, status=S.CREATED, since=workflow.now(), transition_seq=1
        )
        # Serialises everything that writes: handlers and the main flow take turns.
        self.lock = asyncio.Lock()
        # The last transition PostgreSQL shows, and the last review level shown as pending;
        # a continued run starts with everything shown.
        self.recorded_seq = self.state.transition_seq
        self.shown_level = self.state.current_level

    # ------------------------------------------------------------------ activities

    async def project(self, activity: Callable[..., Any], arg: object) -> Any:
        """A projection write, as a local activity."""
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY,
        )

    async def call(
        self, activity: Callable[..., Any], arg: object, timeout: timedelta = OUTSIDE_TIMEOUT
    ) -> Any:
        """A call to the outside world, or a compensation, as a regular activity."""
        return await workflow.execute_activity_method(
            activity, arg, start_to_close_timeout=timeout, retry_policy=OUTSIDE_RETRY
        )

    # ------------------------------------------------------------------ waiting

    async def wait(self, condition: Callable[[], bool], timeout: timedelta | None = None) -> bool:
        """Wait for ``condition`` in the main flow; False on timeout.

        Raises :class:`OrderCancelled` once a cancellation is accepted, and
        :class:`ContinueAsNewDue` when the history has grown long and nothing is in flight.
        """
        try:
            await workflow.wait_condition(
                lambda: (
                    condition()
                    or self.state.cancel_request is not None
                    or self._continue_as_new_due()
                ),
                timeout=timeout,
            )
        except TimeoutError:
            return False
        if self.state.cancel_request is not None:
            raise OrderCancelled()
        if not condition() and self._continue_as_new_due():
            raise ContinueAsNewDue()
        return True

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        long = (
            info.get_current_history_length() >= self.params.history_limit
            or info.is_continue_as_new_suggested()
        )
        return long and not self.lock.locked() and workflow.all_handlers_finished()

    # ------------------------------------------------------------------ transitions

    def stage(self) -> OrderStatus:
        """Where the main flow is: the status, or the one an order on hold resumes to."""
        if self.state.status == S.ON_HOLD and self.state.held_from is not None:
            return self.state.held_from
        return self.state.status

    async def advance(
        self,
        target: OrderStatus,
        actor: str,
        reason: str | None,
        *,
        notices: Sequence[NoticeRequest] = (),
        opens_level: int | None = None,
        attributes: Sequence[SearchAttributeUpdate[Any]] = (),
    ) -> None:
        """A transition of the main flow: it waits out a hold and yields to a cancellation."""
        while True:
            await self.wait(lambda: self.state.status != S.ON_HOLD)
            async with self.lock:
                if self.state.cancel_request is not None:
                    raise OrderCancelled()
                if self.state.status == S.ON_HOLD:
                    continue
                await self.record_transition(
                    target,
                    actor,
                    reason,
                    notices=notices,
                    opens_level=opens_level,
                    attributes=attributes,
                )
                return

    async def record_transition(
        self,
        target: OrderStatus,
        actor: str,
        reason: str | None,
        *,
        notices: Sequence[NoticeRequest] = (),
        opens_level: int | None = None,
        attributes: Sequence[SearchAttributeUpdate[Any]] = (),
    ) -> None:
        """Make the new status visible everywhere and write it to PostgreSQL. Callers hold
        the lock, so nothing else acts on the order until the write is done."""
        record = self.begin_transition(
            target, actor, reason, notices=notices, opens_level=opens_level, attributes=attributes
        )
        await self.project(OrderActivities.record_transition, record)
        self.transition_recorded(record)

    def begin_transition(
        self,
        target: OrderStatus,
        actor: str,
        reason: str | None,
        *,
        notices: Sequence[NoticeRequest] = (),
        opens_level: int | None = None,
        attributes: Sequence[SearchAttributeUpdate[Any]] = (),
    ) -> TransitionRecord:
        """Take the new status and answer the record to write, by ``record_transition`` or
        together with the change that causes it.

        The workflow takes the new status before the write, so that anyone who reads it in
        PostgreSQL and acts at once finds the workflow already there.
        """
        state = self.state
        state.transition_seq += 1
        now = workflow.now()
        record = TransitionRecord(
            order_no=self.order_no,
            seq=state.transition_seq,
            from_status=state.status.value,
            to_status=target.value,
            actor=actor,
            reason=reason,
            at=now,
            held_from=state.held_from.value if target == S.ON_HOLD and state.held_from else None,
            opens_level=opens_level,
            notices=list(notices),
        )
        state.status = target
        state.since = now
        workflow.upsert_search_attributes([sa.ORDER_STATUS.value_set(target.value), *attributes])
        self.show()
        return record

    def transition_recorded(self, record: TransitionRecord) -> None:
        self.recorded_seq = record.seq
        if record.opens_level is not None:
            self.shown_level = record.opens_level

    def settled(self) -> bool:
        """Whether PostgreSQL already shows every transition the workflow made."""
        return self.recorded_seq == self.state.transition_seq

    def check_open(self, expected: OrderStatus) -> None:
        if self.state.cancel_request is not None:
            raise conflict("the order is being cancelled")
        if self.state.status != expected:
            raise conflict(f"the order is {self.state.status.value}, not {expected.value}")

    def ack(self) -> UpdateAck:
        return UpdateAck(order_no=self.order_no, status=self.state.status)

    # ------------------------------------------------------------------ what people see

    def show(self) -> None:
        """Refresh the Temporal UI's current details of the order."""
        workflow.set_current_details(render_details(self.state))

    def snapshot(self) -> OrderState:
        self.state.waiting_on = waiting_on(self.state)
        return self.state
