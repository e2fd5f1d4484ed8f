"""What every part of the order workflow shares: the order's state, the lock that makes writers
take turns, waiting, transitions, faults, and the two ways of running activities.

Projection writes (short PostgreSQL transactions) run as local activities: inside the workflow
task, recorded as one marker each, with no server round trip. Calls to the outside world and
compensations run as regular activities. Every retry is bounded.

The state changes only once its write succeeded. A write and the state it makes visible land
in the same workflow task, and every writer holds the lock, so nobody can act on a state that
PostgreSQL does not show; and a write that fails leaves nothing to undo.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.failures import DATA_FAULT
    from activities.inputs import TransitionRecord
    from activities.orders import OrderActivities
    from domain.actors import SYSTEM
    from domain.notifications import NoticeRequest, fault_notice
    from domain.refusals import UNRECORDED, Refusal, RefusalKind, conflict
    from domain.statuses import TERMINAL, OrderStatus
    from domain.text import storable
    from workflows import search_attributes as sa
    from workflows.messages import OrderState, OrderWorkflowInput, UpdateAck
    from workflows.order.details import (
        level_under_review,
        render_details,
        waiting_on,
        waiting_role,
    )

S = OrderStatus

PROJECTION_TIMEOUT = timedelta(seconds=10)
# About half a minute of tries before a projection write counts as failed for good.
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=0.5), maximum_interval=timedelta(seconds=10),
    maximum_attempts=8,
)  # fmt: skip
# A write an update's caller waits for: a few quick tries, well inside the API's wait.
CALLER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=0.2), maximum_interval=timedelta(seconds=2),
    maximum_attempts=4,
)  # fmt: skip
OUTSIDE_TIMEOUT = timedelta(seconds=30)
# A few minutes of tries for the carrier and the compensations.
OUTSIDE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
)  # fmt: skip
# Recording a fault is the last resort: it is tried until the database takes it. No attempt
# limit on purpose: only a database away is retried (the failure classifier makes a refused
# write fail at once, and the fault's reason is kept storable), and the hold must not be lost.
FAULT_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=60))


class StepFailed(Exception):
    """An activity of the order failed for good: its retries are spent, or it raised what
    no retry can heal. Raised by ``project`` and ``call`` whatever kind of activity it was."""

    def __init__(self, step: str, error: FailureError) -> None:
        self.step = step
        # A local activity's failure arrives as its own error; a regular one's, wrapped.
        self.cause = error.cause if isinstance(error, ActivityError) else error
        message = self.cause.message if isinstance(self.cause, FailureError) else str(error)
        # Becomes the hold's reason and the alert: kept storable whatever the partner said.
        super().__init__(f"{step}: {storable(' '.join(str(message).split()))[:200]}")

    @property
    def data_fault(self) -> bool:
        """The database refused what was written: the same write cannot succeed again."""
        return isinstance(self.cause, ApplicationError) and self.cause.type == DATA_FAULT


class OrderCancelled(Exception):
    """Raised in the main flow when a cancellation was accepted; the workflow compensates."""


class ContinueAsNewDue(Exception):
    """Raised in the main flow at a wait when the history is long enough to start afresh."""


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

    @contextmanager
    def refusing(self) -> Iterator[None]:
        """A domain refusal becomes an update failure of the same kind, which the API maps to
        403, 409 or 422; non-retryable, so it never fails the workflow task. It carries the
        status the workflow holds, so the API can tell a true conflict from a workflow that
        is still catching up with a write PostgreSQL already shows (after a worker died)."""
        try:
            yield
        except Refusal as refusal:
            raise ApplicationError(
                refusal.message,
                self.state.status.value,
                type=refusal.kind.value,
                non_retryable=True,
            ) from None

    # ------------------------------------------------------------------ activities

    async def project(
        self, activity: Callable[..., Any], arg: object, retry: RetryPolicy = PROJECTION_RETRY
    ) -> Any:
        """A projection write, as a local activity; :class:`StepFailed` when it fails for
        good."""
        try:
            return await workflow.execute_local_activity_method(
                activity, arg, start_to_close_timeout=PROJECTION_TIMEOUT, retry_policy=retry
            )
        except FailureError as error:
            if isinstance(error, CancelledError):
                raise
            raise StepFailed(activity.__name__, error) from error

    async def project_for_caller(self, activity: Callable[..., Any], arg: object) -> Any:
        """A write an update's caller waits for. When it fails for good nothing of it was kept,
        and the caller hears why: 422 for data the database refused, else 503."""
        try:
            return await self.project(activity, arg, CALLER_RETRY)
        except StepFailed as failure:
            if failure.data_fault:
                raise ApplicationError(
                    f"the request could not be recorded: {failure}",
                    type=RefusalKind.INVALID.value,
                    non_retryable=True,
                ) from None
            raise ApplicationError(
                f"the order could not record the request now ({failure}); nothing of it was "
                "kept, try again",
                type=UNRECORDED,
                non_retryable=True,
            ) from None

    async def call(
        self, activity: Callable[..., Any], arg: object, timeout: timedelta = OUTSIDE_TIMEOUT
    ) -> Any:
        """A call to the outside world, or a compensation, as a regular activity;
        :class:`StepFailed` when it fails for good."""
        try:
            return await workflow.execute_activity_method(
                activity, arg, start_to_close_timeout=timeout, retry_policy=OUTSIDE_RETRY
            )
        except FailureError as error:
            if isinstance(error, CancelledError):
                raise
            raise StepFailed(activity.__name__, error) from error

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
        only_from: OrderStatus | None = None,
    ) -> None:
        """A transition of the main flow: it waits out a hold and yields to a cancellation.

        ``only_from``: the transition is due only from that status. An update that makes the
        same move (a confirmation racing the auto-confirm timer) may hold the lock when the
        main flow decides to move; once the lock is free the order has moved on, and nothing
        is written a second time."""
        while True:
            await self.wait(lambda: self.state.status != S.ON_HOLD)
            async with self.lock:
                if self.state.cancel_request is not None:
                    raise OrderCancelled()
                if self.state.status == S.ON_HOLD:
                    continue
                if only_from is not None and self.state.status != only_from:
                    return
                record = self.transition(
                    target, actor, reason, notices=notices, opens_level=opens_level
                )
                await self.write_transition(record, attributes)
                return

    async def record_transition(
        self,
        target: OrderStatus,
        actor: str,
        reason: str | None,
        *,
        held_from: OrderStatus | None = None,
        notices: Sequence[NoticeRequest] = (),
        for_caller: bool = False,
    ) -> None:
        """Write a transition and make it the order's state. Callers hold the lock;
        ``for_caller``: an update's caller waits for it (see ``project_for_caller``)."""
        record = self.transition(target, actor, reason, held_from=held_from, notices=notices)
        await self.write_transition(record, for_caller=for_caller)

    async def write_transition(
        self,
        record: TransitionRecord,
        attributes: Sequence[SearchAttributeUpdate[Any]] = (),
        *,
        for_caller: bool = False,
        retry: RetryPolicy = PROJECTION_RETRY,
    ) -> None:
        self.publish(record, attributes)
        try:
            if for_caller:
                await self.project_for_caller(OrderActivities.record_transition, record)
            else:
                await self.project(OrderActivities.record_transition, record, retry)
        except Exception:
            self.unpublish(record)
            raise
        self.apply(record)

    def transition(
        self,
        target: OrderStatus,
        actor: str,
        reason: str | None,
        *,
        held_from: OrderStatus | None = None,
        notices: Sequence[NoticeRequest] = (),
        opens_level: int | None = None,
        fault: str | None = None,
    ) -> TransitionRecord:
        """The record of a transition from where the order stands, to write by
        ``write_transition`` or together with the change that causes it."""
        return TransitionRecord(
            order_no=self.order_no,
            seq=self.state.transition_seq + 1,
            from_status=self.state.status.value,
            to_status=target.value,
            actor=actor,
            reason=reason,
            at=workflow.now(),
            held_from=held_from.value if target == S.ON_HOLD and held_from else None,
            opens_level=opens_level,
            notices=list(notices),
            fault=fault,
        )

    def publish(
        self, record: TransitionRecord, attributes: Sequence[SearchAttributeUpdate[Any]] = ()
    ) -> None:
        """The search attributes lead the write: ops see the status being written, since when
        and whom it waits on."""
        target = OrderStatus(record.to_status)
        waits_on = waiting_role(
            target, level_under_review(self.state), fault=record.fault is not None
        )
        workflow.upsert_search_attributes(
            [
                sa.ORDER_STATUS.value_set(record.to_status),
                sa.STATUS_SINCE.value_set(record.at),
                _waiting_on_update(waits_on),
                *attributes,
            ]
        )

    def unpublish(self, record: TransitionRecord) -> None:
        """The write failed: the search attributes show the status the order kept."""
        if record.from_status is not None:
            state = self.state
            waits_on = waiting_role(
                state.status, level_under_review(state), fault=state.fault is not None
            )
            workflow.upsert_search_attributes(
                [
                    sa.ORDER_STATUS.value_set(record.from_status),
                    sa.STATUS_SINCE.value_set(state.since),
                    _waiting_on_update(waits_on),
                ]
            )

    def apply(self, record: TransitionRecord) -> None:
        """The written transition, now the order's state and its current details."""
        state = self.state
        state.transition_seq = record.seq
        state.status = OrderStatus(record.to_status)
        state.held_from = OrderStatus(record.held_from) if record.held_from else None
        state.since = record.at
        self.show()

    def check_open(self, expected: OrderStatus) -> None:
        if self.state.cancel_request is not None:
            raise conflict("the order is being cancelled")
        if self.state.status != expected:
            raise conflict(f"the order is {self.state.status.value}, not {expected.value}")

    def ack(self) -> UpdateAck:
        return UpdateAck(order_no=self.order_no, status=self.state.status)

    # ------------------------------------------------------------------ faults

    async def hold_for_fault(self, failure: StepFailed) -> None:
        """A step failed for good: the order waits on hold for ops, who are told and alerted;
        a resume retries the step. Callers hold the lock."""
        state = self.state
        if state.status in TERMINAL:
            return
        reason = f"system fault: {failure}"
        state.fault = reason
        told = fault_notice(self.order_no, state.status, reason, key=str(state.transition_seq))
        if state.status == S.ON_HOLD:
            # Already waiting for ops: the fault is told and alerted without a transition.
            record = self.transition(S.ON_HOLD, SYSTEM, reason, notices=[told], fault=reason)
            await self.project(OrderActivities.record_fault, record, FAULT_RETRY)
            self.show()
            return
        record = self.transition(
            S.ON_HOLD, SYSTEM, reason, held_from=state.status, notices=[told], fault=reason
        )
        await self.write_transition(record, retry=FAULT_RETRY)

    # ------------------------------------------------------------------ what people see

    def show(self) -> None:
        """Refresh the Temporal UI's current details of the order."""
        workflow.set_current_details(render_details(self.state))

    def snapshot(self) -> OrderState:
        self.state.waiting_on = waiting_on(self.state)
        return self.state


def _waiting_on_update(role: str | None) -> SearchAttributeUpdate[str]:
    """``WaitingOn`` set to ``role``; removed once the order is closed and waits on nobody."""
    return sa.WAITING_ON.value_set(role) if role is not None else sa.WAITING_ON.value_unset()
