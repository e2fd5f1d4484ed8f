"""The order workflow: one durable execution per sales order, from entry to a terminal status.

The main coroutine walks the order forward (validate, review, produce, ship, deliver, close).
People act through updates, whose validators refuse a request before anything is written;
machines report through signals. Every status change goes through ``_record_transition``, which
writes PostgreSQL through an activity and keeps the search attributes and current details in
step, so the Temporal UI and the database never disagree about where an order stands.

Fulfilment changed after the first release (stock reservation, scheduled work orders per
product, tracking exceptions, step-by-step compensation). Orders started before that change
carry no ``FULFILMENT_PATCH`` marker and finish the way they began;
``tests/histories/first-release`` holds their recorded histories, which must keep replaying.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.inputs import (
        CancellationRecord,
        CarrierEventRecord,
        Compensation,
        DecisionRecord,
        DispatchRecord,
        LevelOpening,
        OverdueNotice,
        ProductionEventRecord,
        ReplanRequest,
        ReviewNoticeRecord,
        ReviewOpening,
        ReviewPlan,
        ShipmentBooking,
        StockAllocation,
        TransitionRecord,
        ValidationOutcome,
        WorkOrderPlan,
    )
    from activities.logistics import LogisticsActivities
    from activities.notifications import NoticeRequest
    from activities.orders import OrderActivities
    from activities.production import ProductionActivities
    from activities.stock import StockActivities
    from domain.approval import review_levels_for_total
    from domain.notifications import NotificationEvent as Event
    from domain.progress import WorkOrderFacts, production_progress
    from domain.roles import Role, escalation_target
    from domain.statuses import TERMINAL, OrderStatus, can_cancel, can_hold
    from workflows import search_attributes as sa
    from workflows.messages import (
        REFUSED_CONFLICT,
        REFUSED_FORBIDDEN,
        REFUSED_INVALID,
        ActionRequest,
        CarrierUpdate,
        DecisionRequest,
        DecisionState,
        LevelState,
        OrderState,
        OrderWorkflowInput,
        ProductionReport,
        StepState,
        WorkOrderState,
    )
    from workflows.notifications import send_notification

S = OrderStatus
SYSTEM = "system"
CARRIER = "carrier"
FULFILMENT_PATCH = "fulfilment-stock-production-tracking"
PEOPLE_PATCH = "review-policy-quorum-delegation"

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A compensation whose worker died is retried after this long; it may call the carrier, whose
# adapter gives up on a call after 10 s.
COMPENSATION_TIMEOUT = timedelta(seconds=15)
ACTIVITY_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))


class _OrderCancelled(Exception):
    """Raised inside the main coroutine when a cancellation was accepted; caught in ``run``."""


def _refuse(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, params: OrderWorkflowInput) -> None:
        self.params = params
        self.status: OrderStatus = S.CREATED
        self.held_from: OrderStatus | None = None
        self.since = workflow.now()
        self.levels: list[LevelState] = []
        self.current_level = 0  # 1-based; 0 before review
        self.tracking_no: str | None = None
        self.delivered = False
        self.dispatch_request: ActionRequest | None = None
        self.confirm_request: ActionRequest | None = None
        self.cancel_request: ActionRequest | None = None
        # First release: the steps of the order's one work order, and the reports seen.
        self.steps: list[StepState] = []
        self.seen_event_ids: set[str] = set()
        # Review since PEOPLE_PATCH: policy as data, quorum, delegation, repeating clocks.
        self.people = False
        self.policy: str | None = None
        # Fulfilment since FULFILMENT_PATCH: stock, work orders, tracking, compensations.
        self.fulfilment = False
        self.allocation: StockAllocation | None = None
        self.work_orders: list[WorkOrderState] = []
        self.carrier_seen: set[str] = set()
        self.latest_tracking_at: datetime | None = None
        self.carrier_hold = False
        self._undo: list[Callable[..., Any]] = []  # compensations, in the order they became due
        self.compensations: list[str] = []
        self._transition_seq = 0
        self._recorded_seq = 0
        # The last review level PostgreSQL shows as pending.
        self._opened_level = 0
        # Serialises everything that writes: handlers and the main coroutine take turns.
        self._lock = asyncio.Lock()

    # ----------------------------------------------------------------- main flow

    @workflow.run
    async def run(self, params: OrderWorkflowInput) -> str:
        self.fulfilment = workflow.patched(FULFILMENT_PATCH)
        self.people = workflow.patched(PEOPLE_PATCH)
        await self._record_transition(S.CREATED, params.created_by, "order entered")
        try:
            await self._walk_order()
        except _OrderCancelled:
            if self.fulfilment:
                await self._compensate()
            else:
                await self._compensate_cancellation()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status.value

    async def _walk_order(self) -> None:
        outcome: ValidationOutcome = await self._activity(
            OrderActivities.validate_order, self.params.order_no
        )
        workflow.upsert_search_attributes(
            [
                sa.CUSTOMER_ID.value_set(outcome.customer_id),
                sa.ORDER_TOTAL.value_set(float(outcome.total)),
            ]
        )
        if not outcome.ok:
            await self._advance(S.REJECTED, SYSTEM, "; ".join(outcome.reasons))
            return

        await self._prepare_review(Decimal(outcome.total))
        await self._advance(S.UNDER_REVIEW, SYSTEM, "validated")
        if not await self._review():
            rejection = next(
                d for level in self.levels for d in level.decisions if d.decision == "reject"
            )
            await self._advance(S.REJECTED, rejection.by, rejection.comment)
            await self._tell(
                Event.REJECTED,
                f"rejected by {rejection.by}: {rejection.comment}",
                recipients=[self.params.created_by],
            )
            return
        await self._advance(S.APPROVED, SYSTEM, "all review levels approved")
        await self._tell(
            Event.APPROVED, "approved at every review level", recipients=[self.params.created_by]
        )
        if self.fulfilment:
            await self._fulfil()
        else:
            await self._fulfil_first_release()

    async def _fulfil(self) -> None:
        """Reserve stock, make the shortfall, book the carrier, ship, deliver, close."""
        allocation: StockAllocation = await self._activity(
            StockActivities.reserve_stock, self.params.order_no
        )
        self.allocation = allocation
        self._undo.append(StockActivities.release_stock)
        for sku in allocation.low_stock:
            await self._tell(
                Event.LOW_STOCK,
                f"{sku} fell below its reorder point",
                key=sku,
                roles=[Role.OPS.value, Role.PRODUCTION.value],
            )
        if allocation.to_produce():
            plans: list[WorkOrderPlan] = await self._activity(
                ProductionActivities.plan_production, self.params.order_no
            )
            self._undo.append(ProductionActivities.cancel_production)
            self.work_orders = [_work_order_state(plan) for plan in plans]
            await self._advance(S.IN_PRODUCTION, SYSTEM, self._production_plan_summary())
            await self._watch_production()

        booking: ShipmentBooking = await self._activity(
            LogisticsActivities.book_shipment, self.params.order_no
        )
        self._undo.append(LogisticsActivities.cancel_shipment)
        self.tracking_no = booking.tracking_no
        reason = f"{booking.carrier} {booking.tracking_no} booked"
        if not allocation.to_produce():
            reason = f"every unit reserved from stock; {reason}"
        await self._advance(S.AWAITING_SHIPMENT, SYSTEM, reason)
        await self._ship_and_close(LogisticsActivities.dispatch_shipment)

    async def _fulfil_first_release(self) -> None:
        """How orders started before ``FULFILMENT_PATCH`` go on: one unscheduled work order."""
        plan: WorkOrderPlan = await self._activity(
            ProductionActivities.create_work_order, self.params.order_no
        )
        self.steps = [StepState(name=step) for step in plan.steps]
        await self._advance(
            S.IN_PRODUCTION, SYSTEM, f"work order {plan.work_order_no} on {plan.line}"
        )
        await self._wait(lambda: all(step.status == "completed" for step in self.steps))

        booking: ShipmentBooking = await self._activity(
            LogisticsActivities.book_shipment, self.params.order_no
        )
        self.tracking_no = booking.tracking_no
        await self._advance(
            S.AWAITING_SHIPMENT, SYSTEM, f"{booking.carrier} {booking.tracking_no} booked"
        )
        await self._ship_and_close(LogisticsActivities.mark_dispatched)

    async def _ship_and_close(self, dispatch: Callable[..., Any]) -> None:
        await self._wait(lambda: self.dispatch_request is not None)
        assert self.dispatch_request is not None
        await self._activity(dispatch, DispatchRecord(self.params.order_no, workflow.now()))
        await self._advance(
            S.SHIPPED, self.dispatch_request.actor.username, self.dispatch_request.reason
        )
        await self._tell_customer(Event.SHIPPED, f"shipped, tracking number {self.tracking_no}")

        await self._wait(lambda: self.delivered)
        await self._advance(S.DELIVERED, SYSTEM, "carrier reported delivery")
        await self._tell_customer(Event.DELIVERED, "delivered; please confirm receipt")

        confirm_timeout = timedelta(seconds=self.params.timers.auto_confirm_after)
        confirmed = await self._wait(
            lambda: self.confirm_request is not None, timeout=confirm_timeout
        )
        if confirmed and self.confirm_request is not None:
            await self._advance(
                S.COMPLETED, self.confirm_request.actor.username, "receipt confirmed"
            )
        else:
            await self._advance(S.COMPLETED, SYSTEM, "auto-confirmed: no confirmation in time")
        await self._tell_customer(Event.COMPLETED, "completed")

    # ----------------------------------------------------------------- production

    async def _watch_production(self) -> None:
        """Wait until the work orders made every missing unit; flag each one that runs past
        its planned finish, once."""
        while not self._production_done():
            watched = [
                wo
                for wo in self.work_orders
                if wo.status == "open" and not wo.overdue and wo.planned_finish is not None
            ]
            due = min((wo.planned_finish for wo in watched if wo.planned_finish), default=None)
            timeout = (
                None if due is None else max(due - workflow.now(), timedelta(milliseconds=100))
            )
            progressed = await self._wait(
                functools.partial(self._production_moved, len(self.work_orders)), timeout=timeout
            )
            if progressed:
                continue
            now = workflow.now()
            for wo in watched:
                if wo.status == "open" and wo.planned_finish and wo.planned_finish <= now:
                    wo.overdue = True
                    await self._activity(
                        ProductionActivities.flag_overdue,
                        OverdueNotice(
                            self.params.order_no, wo.work_order_no, wo.planned_finish, now
                        ),
                    )
                    await self._tell(
                        Event.PRODUCTION_OVERDUE,
                        f"{wo.work_order_no} is past its planned finish",
                        key=wo.work_order_no,
                        roles=[Role.PRODUCTION.value, Role.OPS.value],
                    )
            self._show_details()

    def _production_moved(self, work_orders_seen: int) -> bool:
        """Done, or a re-plan added a work order whose planned finish needs watching."""
        return self._production_done() or len(self.work_orders) != work_orders_seen

    def _production_done(self) -> bool:
        if any(wo.status == "open" for wo in self.work_orders):
            return False
        return all(self._missing_units(sku) <= 0 for sku in {wo.sku for wo in self.work_orders})

    def _missing_units(self, sku: str | None) -> int:
        """Units of ``sku`` the order still lacks once every work order delivers what it can."""
        if self.allocation is None or sku is None:
            return 0
        coming = sum(
            wo.expected_output()
            for wo in self.work_orders
            if wo.sku == sku and wo.status != "cancelled"
        )
        return self.allocation.to_produce(sku) - coming

    def _production_plan_summary(self) -> str:
        assert self.allocation is not None
        plans = ", ".join(
            f"{wo.work_order_no} ({wo.quantity} × {wo.sku}) on {wo.line}" for wo in self.work_orders
        )
        reserved = self.allocation.reserved()
        taken = f"{reserved} unit(s) reserved from stock" if reserved else "nothing in stock"
        return f"{taken}; to make: {plans}"

    async def _prepare_review(self, total: Decimal) -> None:
        """Set out the levels the policy asks for, with the first one open for decisions."""
        if self.people:
            plan: ReviewPlan = await self._activity(
                OrderActivities.plan_review, self.params.order_no
            )
            self.policy = f"version {plan.policy_version}, rule {plan.rule!r}"
            self.levels = [
                LevelState(
                    level=number,
                    role=level.role,
                    quorum=level.quorum,
                    remind_every=level.remind_every,
                    escalate_after=level.escalate_after,
                    expire_after=level.expire_after,
                )
                for number, level in enumerate(plan.levels, start=1)
            ]
        else:
            roles = review_levels_for_total(total)
            self.levels = [LevelState(level=i + 1, role=role.value) for i, role in enumerate(roles)]
            await self._activity(
                OrderActivities.open_review,
                ReviewOpening(self.params.order_no, [r.value for r in roles]),
            )
        self._open_level(self.levels[0])

    def _open_level(self, level: LevelState) -> None:
        self.current_level = level.level
        self.since = workflow.now()
        level.status = "pending"
        workflow.upsert_search_attributes([sa.REVIEW_LEVEL.value_set(level.level)])
        self._show_details()

    async def _review(self) -> bool:
        """Walk the review levels in order; True when every level approved."""
        for level in self.levels:
            if level.status == "waiting":
                self._open_level(level)
            await self._activity(
                OrderActivities.open_level,
                LevelOpening(self.params.order_no, level.level, self.since),
            )
            self._opened_level = level.level
            await self._tell(
                Event.APPROVAL_REQUESTED,
                f"level {level.level} of {len(self.levels)} waits for {level.role} approval",
                key=str(level.level),
                roles=[level.role],
                exclude=[self.params.created_by],
            )
            if self.people:
                await self._await_decision(level)
            else:
                await self._wait_for_decision(level)
            if level.status == "rejected":
                return False
        return True

    async def _await_decision(self, level: LevelState) -> None:
        """Wait for the level's decision while its clocks run: a reminder every
        ``remind_every``, escalation to the next role up after ``escalate_after`` (both roles
        are told), and after ``expire_after`` the order goes ON_HOLD ("review expired").

        A hold stops the clocks; a resume starts them again from zero.
        """
        timers = self.params.timers
        remind_every = level.remind_every or timers.remind_after
        escalate_after = level.escalate_after or timers.escalate_after
        while level.status == "pending":
            await self._wait(lambda: self.status != S.ON_HOLD)
            started = workflow.now()
            reminded = 0
            while level.status == "pending" and self.status != S.ON_HOLD:
                due = {"reminder": remind_every * (reminded + 1)}
                if not level.escalated:
                    due["escalation"] = escalate_after
                if level.expire_after is not None:
                    due["expiry"] = level.expire_after
                kind, at = min(due.items(), key=lambda item: item[1])
                elapsed = (workflow.now() - started).total_seconds()
                happened = await self._wait(
                    lambda: level.status != "pending" or self.status == S.ON_HOLD,
                    timeout=timedelta(seconds=max(at - elapsed, 0.001)),
                )
                if happened:
                    break
                if kind == "reminder":
                    reminded += 1
                    level.reminders += 1
                    for role in self._deciders(level):
                        await self._notify_level(level, "reminder", role, level.reminders)
                    await self._tell(
                        Event.REMINDER,
                        f"level {level.level} still waits for approval (reminder "
                        f"{level.reminders})",
                        key=f"{level.level}:{level.reminders}",
                        roles=self._deciders(level),
                        exclude=[self.params.created_by],
                    )
                elif kind == "escalation":
                    level.escalated = True
                    level.escalated_to = escalation_target(Role(level.role)).value
                    for role in self._deciders(level):
                        await self._notify_level(level, "escalation", role)
                    await self._tell(
                        Event.ESCALATED,
                        f"level {level.level} escalated from {level.role} to {level.escalated_to}",
                        key=str(level.level),
                        roles=self._deciders(level),
                        exclude=[self.params.created_by],
                    )
                    workflow.upsert_search_attributes([sa.ESCALATED.value_set(True)])
                else:
                    await self._expire(level)
                self._show_details()

    def _deciders(self, level: LevelState) -> list[str]:
        return [level.role] + ([level.escalated_to] if level.escalated_to else [])

    async def _expire(self, level: LevelState) -> None:
        """Nobody decided in time: ops is told, and the order waits on hold for them."""
        level.expired += 1
        await self._notify_level(level, "expiry", Role.OPS.value, level.expired)
        async with self._lock:
            if self.cancel_request is not None or self.status != S.UNDER_REVIEW:
                return
            if level.status != "pending":
                return
            self.held_from = self.status
            await self._record_transition(S.ON_HOLD, SYSTEM, "review expired")

    async def _wait_for_decision(self, level: LevelState) -> None:
        """First release: wait for the level to be decided, reminding once and then escalating
        when it stalls.

        Only time spent outside ON_HOLD counts towards the reminder and escalation deadlines.
        """
        timers = self.params.timers
        waited = 0.0
        while level.status == "pending":
            await self._wait(lambda: self.status != S.ON_HOLD)
            if not level.reminded:
                deadline: float | None = timers.remind_after
            elif not level.escalated:
                deadline = timers.escalate_after
            else:
                deadline = None
            timeout = None if deadline is None else timedelta(seconds=max(deadline - waited, 0))
            started = workflow.now()
            happened = await self._wait(
                lambda: level.status != "pending" or self.status == S.ON_HOLD, timeout=timeout
            )
            waited += (workflow.now() - started).total_seconds()
            if happened:
                continue
            if not level.reminded:
                level.reminded = True
                await self._notify_level(level, "reminder", level.role)
            else:
                level.escalated = True
                level.escalated_to = escalation_target(Role(level.role)).value
                await self._notify_level(level, "escalation", level.escalated_to)
                workflow.upsert_search_attributes([sa.ESCALATED.value_set(True)])
                self._show_details()

    async def _tell(
        self,
        event: Event,
        subject: str,
        *,
        key: str = "",
        recipients: list[str] | None = None,
        roles: list[str] | None = None,
        order_customer: bool = False,
        exclude: list[str] | None = None,
    ) -> None:
        """Notify people and subscribed systems of an event of this order (orders reviewed
        under ``PEOPLE_PATCH`` only). Delivery runs on its own and never holds the order up."""
        if not self.people:
            return
        order_no = self.params.order_no
        retry = self.params.notifications
        await send_notification(
            NoticeRequest(
                key=f"{order_no}:{event.value}" + (f":{key}" if key else ""),
                event=event.value,
                order_no=order_no,
                subject=f"{order_no}: {subject}",
                body=f"Order {order_no}: {subject}. Status {self.status.value}.",
                data={"status": self.status.value},
                recipients=recipients or [],
                roles=roles or [],
                order_customer=order_customer,
                exclude=exclude or [],
            ),
            max_attempts=retry.max_attempts,
            initial_interval_seconds=retry.initial_interval_seconds,
        )

    async def _tell_customer(self, event: Event, subject: str) -> None:
        """The customer hears how its order travels, and so does who entered it."""
        await self._tell(event, subject, recipients=[self.params.created_by], order_customer=True)

    async def _notify_level(self, level: LevelState, kind: str, role: str, round_: int = 1) -> None:
        """Record a reminder, escalation or expiry for every user of ``role``."""
        await self._activity(
            OrderActivities.record_review_notice,
            ReviewNoticeRecord(
                order_no=self.params.order_no,
                level=level.level,
                kind=kind,
                role=role,
                created_by=self.params.created_by,
                at=workflow.now(),
                escalated_to=level.escalated_to,
                round=round_,
            ),
        )

    async def _compensate(self) -> None:
        """Undo what the order had set in motion, last first and each once, then close it.

        Each compensation is its own activity, so a worker that dies half-way leaves the ones
        already done in the history; the next worker goes on with the rest.
        """
        assert self.cancel_request is not None
        record = CancellationRecord(self.params.order_no, workflow.now())
        for undo in reversed(self._undo):
            result: Compensation = await self._activity(undo, record, COMPENSATION_TIMEOUT)
            self.compensations.append(result.done)
            if undo == ProductionActivities.cancel_production:
                for wo in self.work_orders:
                    if wo.status == "open":
                        wo.status = "cancelled"
            self._show_details()
        if any(level.status in ("waiting", "pending") for level in self.levels):
            closed: Compensation = await self._activity(OrderActivities.close_review, record)
            self.compensations.append(closed.done)
            for level in self.levels:
                if level.status in ("waiting", "pending"):
                    level.status = "cancelled"
        async with self._lock:
            await self._record_transition(
                S.CANCELLED, self.cancel_request.actor.username, self.cancel_request.reason
            )

    async def _compensate_cancellation(self) -> None:
        """First release: undo everything in one activity, then close the order as CANCELLED."""
        assert self.cancel_request is not None
        await self._activity(
            OrderActivities.cancel_fulfilment,
            CancellationRecord(self.params.order_no, workflow.now()),
        )
        for level in self.levels:
            if level.status in ("waiting", "pending"):
                level.status = "cancelled"
        async with self._lock:
            await self._record_transition(
                S.CANCELLED, self.cancel_request.actor.username, self.cancel_request.reason
            )

    # ----------------------------------------------------------------- helpers

    async def _activity(
        self, fn: Callable[..., Any], arg: object, timeout: timedelta = ACTIVITY_TIMEOUT
    ) -> Any:
        return await workflow.execute_activity_method(
            fn, arg, start_to_close_timeout=timeout, retry_policy=ACTIVITY_RETRY
        )

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta | None = None) -> bool:
        """Wait for ``condition``; False on timeout. Raises ``_OrderCancelled`` on cancellation."""
        try:
            await workflow.wait_condition(
                lambda: condition() or self.cancel_request is not None, timeout=timeout
            )
        except TimeoutError:
            return False
        if self.cancel_request is not None:
            raise _OrderCancelled()
        return True

    async def _advance(self, target: OrderStatus, actor: str, reason: str | None) -> None:
        """A transition of the main flow: it waits out a hold and yields to a cancellation."""
        while True:
            await self._wait(lambda: self.status != S.ON_HOLD)
            async with self._lock:
                if self.cancel_request is not None:
                    raise _OrderCancelled()
                if self.status == S.ON_HOLD:
                    continue
                await self._record_transition(target, actor, reason)
                return

    async def _record_transition(self, target: OrderStatus, actor: str, reason: str | None) -> None:
        """Make the new status visible everywhere and write it to PostgreSQL.

        The workflow takes the new status before the write, so that anyone who reads it in
        PostgreSQL and acts at once finds the workflow already there. Callers hold the lock,
        so nothing else acts on the order until the write is done.
        """
        self._transition_seq += 1
        now = workflow.now()
        record = TransitionRecord(
            order_no=self.params.order_no,
            seq=self._transition_seq,
            from_status=None if self._transition_seq == 1 else self.status.value,
            to_status=target.value,
            actor=actor,
            reason=reason,
            at=now,
            held_from=self.held_from.value if target == S.ON_HOLD and self.held_from else None,
        )
        self.status = target
        self.since = now
        workflow.upsert_search_attributes([sa.ORDER_STATUS.value_set(target.value)])
        self._show_details()
        await self._activity(OrderActivities.record_transition, record)
        self._recorded_seq = record.seq

    def _settled(self) -> bool:
        """Whether PostgreSQL already shows every transition the workflow made."""
        return self._recorded_seq == self._transition_seq

    def _waiting_on(self) -> str:
        if self.status == S.UNDER_REVIEW and self.current_level:
            level = self.levels[self.current_level - 1]
            who = (
                level.role
                if not level.escalated
                else f"{level.role} or {level.escalated_to} (escalated)"
            )
            return f"{who} approval, level {level.level} of {len(self.levels)}"
        return {
            S.CREATED: "validation",
            S.APPROVED: "production planning",
            S.IN_PRODUCTION: "production to complete every step",
            S.AWAITING_SHIPMENT: "logistics to dispatch",
            S.SHIPPED: "the carrier to deliver",
            S.DELIVERED: "the customer to confirm receipt",
            S.ON_HOLD: "ops to resume or cancel (carrier exception)"
            if self.carrier_hold
            else "ops to resume",
        }.get(self.status, "nothing: the order is closed")

    def _show_details(self) -> None:
        """Markdown current details for the Temporal UI: status, whom it waits on, since when."""
        lines = [
            f"**Status:** {self.status.value}",
            f"**Waiting on:** {self._waiting_on()}",
            f"**Since:** {self.since.isoformat(timespec='seconds')}",
        ]
        if self.held_from:
            lines.append(f"**Resumes to:** {self.held_from.value}")
        if self.policy:
            lines.append(f"**Approval policy:** {self.policy}")
        if self.levels:
            lines.append("")
            lines.append("| level | role | status | approvals | reminders | expired |")
            lines.append("| --- | --- | --- | --- | --- | --- |")
            for level in self.levels:
                role = level.role + (f" → {level.escalated_to}" if level.escalated else "")
                approvals = sum(d.decision == "approve" for d in level.decisions)
                lines.append(
                    f"| {level.level} | {role} | {level.status} | "
                    f"{approvals}/{level.quorum} | {level.reminders} | {level.expired} |"
                )
        if self.steps:
            done = sum(step.status == "completed" for step in self.steps)
            lines.append("")
            lines.append(f"**Production:** {done}/{len(self.steps)} steps completed")
        if self.allocation is not None and not self.compensations:
            lines.append("")
            lines.append(
                f"**Stock:** {self.allocation.reserved()} unit(s) reserved, "
                f"{self.allocation.to_produce()} to make"
            )
        if self.work_orders:
            lines.extend(self._production_details())
        if self.tracking_no:
            lines.append("")
            lines.append(f"**Tracking:** {self.tracking_no}")
        if self.compensations:
            lines.append("")
            lines.append(
                "**Undone on cancellation:** " + "; ".join(c for c in self.compensations if c)
            )
        workflow.set_current_details("\n".join(lines))

    def _production_details(self) -> list[str]:
        """Progress for the UI: steps done of all, percent, planned against actual finish."""
        progress = production_progress(
            WorkOrderFacts(
                [step.status for step in wo.steps],
                wo.planned_finish,
                wo.finished_at,
                cancelled=wo.status == "cancelled",
            )
            for wo in self.work_orders
        )
        summary = (
            f"{progress.steps_done}/{progress.steps_total} steps ({progress.percent}%), "
            f"planned finish {_minutes(progress.planned_finish)}, "
            f"actual finish {_minutes(progress.actual_finish)}"
            if progress.steps_total
            else "cancelled"
        )
        lines = [
            "",
            f"**Production:** {summary}",
            "",
            "| work order | product | line | quantity | planned finish | status |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for wo in self.work_orders:
            status = wo.status + (" (overdue)" if wo.overdue and wo.status == "open" else "")
            lines.append(
                f"| {wo.work_order_no} | {wo.sku} | {wo.line} | {wo.quantity} | "
                f"{_minutes(wo.planned_finish)} | {status} |"
            )
        return lines

    def _snapshot(self) -> OrderState:
        return OrderState(
            order_no=self.params.order_no,
            status=self.status.value,
            held_from=self.held_from.value if self.held_from else None,
            since=self.since,
            waiting_on=self._waiting_on(),
            current_level=self.current_level,
            levels=[replace(level, decisions=list(level.decisions)) for level in self.levels],
            steps=[replace(step) for step in self.steps],
            tracking_no=self.tracking_no,
            work_orders=[
                replace(wo, steps=[replace(step) for step in wo.steps]) for wo in self.work_orders
            ],
            compensations=list(self.compensations),
        )

    # ----------------------------------------------------------------- query

    @workflow.query
    def state(self) -> OrderState:
        return self._snapshot()

    # ----------------------------------------------------------------- review decisions

    @workflow.update
    async def decide(self, request: DecisionRequest) -> OrderState:
        async with self._lock:
            # The order may have moved while this update waited for the lock.
            level, acting_role, on_behalf_of = self._check_decision(request)
            now = workflow.now()
            approvals = 1 + sum(d.decision == "approve" for d in level.decisions)
            if request.decision == "reject":
                outcome = "rejected"
            else:
                # A quorum level stays open until enough distinct approvers approved.
                outcome = "approved" if approvals >= level.quorum else "pending"
            await self._activity(
                OrderActivities.record_decision,
                DecisionRecord(
                    order_no=self.params.order_no,
                    level=level.level,
                    decided_by=request.actor.username,
                    acting_role=acting_role,
                    decision=request.decision,
                    comment=request.comment,
                    at=now,
                    on_behalf_of=on_behalf_of,
                    level_status=outcome,
                ),
            )
            level.decisions.append(
                DecisionState(
                    request.actor.username, request.decision, request.comment, now, on_behalf_of
                )
            )
            level.status = outcome
            self._show_details()
        # Answer once the main flow has acted on the decision, so the caller sees its effect.
        await workflow.wait_condition(
            lambda: (
                (
                    level.status == "pending"
                    or self.current_level != level.level
                    or self.status != S.UNDER_REVIEW
                )
                and self._settled()
                and self._next_level_shown()
            )
        )
        return self._snapshot()

    def _next_level_shown(self) -> bool:
        """Whether PostgreSQL shows the level now under review as pending, so the next
        approver finds it in their list (orders under ``PEOPLE_PATCH``)."""
        if not self.people or self.status != S.UNDER_REVIEW:
            return True
        return self._opened_level == self.current_level

    @decide.validator
    def _validate_decide(self, request: DecisionRequest) -> None:
        self._check_decision(request)

    def _check_decision(self, request: DecisionRequest) -> tuple[LevelState, str, str | None]:
        """The level under review, the role the caller decides it in, and on whose behalf.

        Separation of duties holds through delegations too: neither the caller nor the one it
        stands in for may have entered the order or decided any level of it.
        """
        if request.decision not in ("approve", "reject"):
            raise _refuse(REFUSED_INVALID, "decision must be 'approve' or 'reject'")
        if request.decision == "reject" and not (request.comment or "").strip():
            raise _refuse(REFUSED_INVALID, "a rejection needs a comment")
        self._check_open(S.UNDER_REVIEW)
        level = self.levels[self.current_level - 1]
        if level.status != "pending":
            raise _refuse(REFUSED_CONFLICT, f"level {level.level} is already decided")
        acting_role, on_behalf_of = self._acting_role(request, level)
        user = request.actor.username
        people = {user} | ({on_behalf_of} if on_behalf_of else set())
        if self.params.created_by in people:
            raise _refuse(REFUSED_FORBIDDEN, "the person who entered an order may not approve it")
        for other in self.levels:
            for decision in other.decisions:
                if people & {decision.by, decision.on_behalf_of}:
                    who = " for ".join(sorted(people & {decision.by, decision.on_behalf_of}))
                    raise _refuse(
                        REFUSED_FORBIDDEN,
                        f"{who} already decided level {other.level}; one person decides one level",
                    )
        return level, acting_role, on_behalf_of

    def _acting_role(self, request: DecisionRequest, level: LevelState) -> tuple[str, str | None]:
        """The role in which the caller may decide ``level`` (its own first, else one lent to
        it by a delegation, with the delegator), or a 403 refusal."""
        allowed = [level.role] + (
            [level.escalated_to] if level.escalated and level.escalated_to else []
        )
        for role in allowed:
            if role in request.actor.roles:
                return role, None
        for role in allowed:
            if role in request.delegated_roles:
                return role, request.delegated_roles[role]
        raise _refuse(
            REFUSED_FORBIDDEN,
            f"level {level.level} is decided by the {' or '.join(allowed)} role",
        )

    def _check_open(self, expected: OrderStatus) -> None:
        if self.cancel_request is not None:
            raise _refuse(REFUSED_CONFLICT, "the order is being cancelled")
        if self.status != expected:
            raise _refuse(
                REFUSED_CONFLICT, f"the order is {self.status.value}, not {expected.value}"
            )

    # ----------------------------------------------------------------- cancel, hold, resume

    @workflow.update
    async def cancel(self, request: ActionRequest) -> OrderState:
        async with self._lock:
            self._check_cancel()
            self.cancel_request = request
        await workflow.wait_condition(lambda: self.status == S.CANCELLED and self._settled())
        return self._snapshot()

    @cancel.validator
    def _validate_cancel(self, request: ActionRequest) -> None:
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self.cancel_request is not None:
            raise _refuse(REFUSED_CONFLICT, "the order is already being cancelled")
        # Goods the carrier could not deliver may be written off: ops cancels the held order.
        undeliverable = self.status == S.ON_HOLD and self.carrier_hold
        if not undeliverable and (
            self.dispatch_request is not None or not can_cancel(self.status, self.held_from)
        ):
            raise _refuse(
                REFUSED_CONFLICT, f"an order that is {self.status.value} can no longer be cancelled"
            )

    @workflow.update
    async def hold(self, request: ActionRequest) -> OrderState:
        async with self._lock:
            self._check_hold()
            self.held_from = self.status
            await self._record_transition(S.ON_HOLD, request.actor.username, request.reason)
        return self._snapshot()

    @hold.validator
    def _validate_hold(self, request: ActionRequest) -> None:
        self._check_hold()

    def _check_hold(self) -> None:
        if self.cancel_request is not None:
            raise _refuse(REFUSED_CONFLICT, "the order is being cancelled")
        if self.status == S.ON_HOLD:
            raise _refuse(REFUSED_CONFLICT, "the order is already on hold")
        if not can_hold(self.status) or self.dispatch_request is not None:
            raise _refuse(
                REFUSED_CONFLICT, f"an order that is {self.status.value} cannot be put on hold"
            )

    @workflow.update
    async def resume(self, request: ActionRequest) -> OrderState:
        async with self._lock:
            self._check_resume()
            assert self.held_from is not None
            target, self.held_from = self.held_from, None
            self.carrier_hold = False
            await self._record_transition(target, request.actor.username, request.reason)
        return self._snapshot()

    @resume.validator
    def _validate_resume(self, request: ActionRequest) -> None:
        self._check_resume()

    def _check_resume(self) -> None:
        if self.cancel_request is not None:
            raise _refuse(REFUSED_CONFLICT, "the order is being cancelled")
        if self.status != S.ON_HOLD:
            raise _refuse(REFUSED_CONFLICT, f"the order is {self.status.value}, not ON_HOLD")

    # ----------------------------------------------------------------- logistics, receipt

    @workflow.update
    async def dispatch(self, request: ActionRequest) -> OrderState:
        self._check_dispatch()
        self.dispatch_request = request
        await workflow.wait_condition(
            lambda: self.status in (S.SHIPPED, S.CANCELLED) and self._settled()
        )
        return self._snapshot()

    @dispatch.validator
    def _validate_dispatch(self, request: ActionRequest) -> None:
        self._check_dispatch()

    def _check_dispatch(self) -> None:
        self._check_open(S.AWAITING_SHIPMENT)
        if self.dispatch_request is not None:
            raise _refuse(REFUSED_CONFLICT, "the order is already being dispatched")

    @workflow.update
    async def confirm_delivery(self, request: ActionRequest) -> OrderState:
        self._check_confirm()
        self.confirm_request = request
        await workflow.wait_condition(lambda: self.status == S.COMPLETED and self._settled())
        return self._snapshot()

    @confirm_delivery.validator
    def _validate_confirm_delivery(self, request: ActionRequest) -> None:
        self._check_confirm()

    def _check_confirm(self) -> None:
        self._check_open(S.DELIVERED)
        if self.confirm_request is not None:
            raise _refuse(REFUSED_CONFLICT, "receipt is already confirmed")

    # ----------------------------------------------------------------- shop floor

    @workflow.update
    async def report_production(self, report: ProductionReport) -> OrderState:
        """A shop-floor record: a step started, or completed with its good and scrap units.

        Scrap that leaves the order short books another work order for the missing units.
        """
        async with self._lock:
            if not self.fulfilment:
                self._check_first_release_report(report)
                await self._record_first_release_report(report)
                return self._snapshot()
            work_order, index, good, scrap = self._check_report(report)
            step = work_order.steps[index]
            last = index == len(work_order.steps) - 1
            completed = report.event == "completed"
            # Nothing good left means nothing for the later steps to work on.
            finishes = completed and (last or good == 0)
            now = workflow.now()
            await self._activity(
                ProductionActivities.record_production,
                ProductionEventRecord(
                    order_no=self.params.order_no,
                    event_id=report.event_id,
                    step=step.name,
                    event=report.event,
                    good_qty=good if completed else None,
                    scrap_qty=scrap if completed else None,
                    note=report.note,
                    reported_by=report.reported_by,
                    at=now,
                    work_order_no=work_order.work_order_no,
                    finishes_work_order=finishes,
                    produced_qty=good if finishes else 0,
                    skips_remaining_steps=finishes and not last,
                ),
            )
            step.status = "completed" if completed else "started"
            if completed:
                step.good_qty, step.scrap_qty = good, scrap
            if finishes:
                for later in work_order.steps[index + 1 :]:
                    later.status = "skipped"
                work_order.status = "completed"
                work_order.produced = good
                work_order.finished_at = now
            missing = self._missing_units(work_order.sku)
            if missing > 0 and work_order.sku is not None:
                plan: WorkOrderPlan = await self._activity(
                    ProductionActivities.replan_production,
                    ReplanRequest(
                        order_no=self.params.order_no,
                        seq=len(self.work_orders) + 1,
                        sku=work_order.sku,
                        quantity=missing,
                        replan_of=work_order.work_order_no,
                    ),
                )
                self.work_orders.append(_work_order_state(plan))
            self._show_details()
        return self._snapshot()

    @report_production.validator
    def _validate_report_production(self, report: ProductionReport) -> None:
        if self.fulfilment:
            self._check_report(report)
        else:
            self._check_first_release_report(report)

    def _check_report(self, report: ProductionReport) -> tuple[WorkOrderState, int, int, int]:
        """The work order and step the report is about, with its good and scrap units.

        Steps follow the routing: a step starts or completes only after the one before it
        completed. Every unit that entered a step leaves it good or scrapped.
        """
        if report.event not in ("started", "completed"):
            raise _refuse(REFUSED_INVALID, "event must be 'started' or 'completed'")
        self._check_open(S.IN_PRODUCTION)
        work_order, index = self._find_step(report)
        step = work_order.steps[index]
        where = f"step {step.name} of {work_order.work_order_no}"
        if step.status in ("completed", "skipped"):
            raise _refuse(REFUSED_CONFLICT, f"{where} is already {step.status}")
        if report.event == "started" and step.status == "started":
            raise _refuse(REFUSED_CONFLICT, f"{where} is already started")
        if index > 0 and work_order.steps[index - 1].status != "completed":
            before = work_order.steps[index - 1].name
            raise _refuse(
                REFUSED_CONFLICT, f"{where} cannot start before step {before} is completed"
            )
        if report.event == "started":
            return work_order, index, 0, 0
        units = work_order.input_of(index)
        good, scrap = report.good_qty, report.scrap_qty
        if good is None:
            good = units - (scrap or 0)
        if scrap is None:
            scrap = units - good
        if good < 0 or scrap < 0 or good + scrap != units:
            raise _refuse(
                REFUSED_INVALID,
                f"{units} unit(s) entered {where}: good and scrap must add up to {units}",
            )
        return work_order, index, good, scrap

    def _find_step(self, report: ProductionReport) -> tuple[WorkOrderState, int]:
        """The named work order, or else the first open one that still needs the step."""
        if report.work_order_no is not None:
            named = [wo for wo in self.work_orders if wo.work_order_no == report.work_order_no]
            if not named:
                raise _refuse(
                    REFUSED_INVALID, f"{report.work_order_no} is not a work order of this order"
                )
            if named[0].status != "open":
                raise _refuse(
                    REFUSED_CONFLICT, f"{report.work_order_no} is already {named[0].status}"
                )
            candidates = named
        else:
            candidates = [wo for wo in self.work_orders if wo.status == "open"]
        if not candidates:
            raise _refuse(REFUSED_CONFLICT, "every work order of this order is finished")
        matches = [
            (wo, i)
            for wo in candidates
            for i, step in enumerate(wo.steps)
            if step.name == report.step
        ]
        for wo, i in matches:
            if wo.steps[i].status not in ("completed", "skipped"):
                return wo, i
        if matches:
            return matches[0]
        names = ", ".join(dict.fromkeys(step.name for wo in candidates for step in wo.steps))
        raise _refuse(REFUSED_INVALID, f"{report.step} is not a production step here ({names})")

    def _check_first_release_report(self, report: ProductionReport) -> None:
        self._check_open(S.IN_PRODUCTION)
        step = next((s for s in self.steps if s.name == report.step), None)
        if step is None:
            names = ", ".join(s.name for s in self.steps)
            raise _refuse(REFUSED_INVALID, f"{report.step} is not a production step ({names})")
        if step.status == "completed":
            raise _refuse(REFUSED_CONFLICT, f"step {report.step} is already completed")

    async def _record_first_release_report(self, report: ProductionReport) -> None:
        """First release: steps in any order, quantities as reported. Callers hold the lock."""
        step = next((s for s in self.steps if s.name == report.step), None)
        if step is None or step.status == "completed":
            return
        self.seen_event_ids.add(report.event_id)
        await self._activity(
            ProductionActivities.record_production_event,
            ProductionEventRecord(
                order_no=self.params.order_no,
                event_id=report.event_id,
                step=report.step,
                event=report.event,
                good_qty=report.good_qty,
                scrap_qty=report.scrap_qty,
                note=report.note,
                reported_by=report.reported_by,
                at=workflow.now(),
            ),
        )
        step.status = "completed" if report.event == "completed" else "started"
        self._show_details()

    @workflow.signal
    async def production_event(self, report: ProductionReport) -> None:
        """First release: shop-floor reports arrived as signals; duplicates are ignored."""
        async with self._lock:
            if self.fulfilment:
                return
            if self.status != S.IN_PRODUCTION or report.event_id in self.seen_event_ids:
                return
            await self._record_first_release_report(report)

    # ----------------------------------------------------------------- carrier

    @workflow.signal
    async def carrier_event(self, update: CarrierUpdate) -> None:
        """A tracking event. ``delivered`` moves a shipped order on; a fresh ``exception``
        puts it on hold with the carrier's reason until ops resumes or cancels it. Repeats
        are ignored, and an event older than one already seen changes only the timeline."""
        if self.status in TERMINAL:
            return
        record = CarrierEventRecord(
            update.tracking_no, update.status, update.location, update.occurred_at, update.detail
        )
        if not self.fulfilment:
            await self._activity(LogisticsActivities.record_carrier_event, record)
            if update.status == "delivered":
                self.delivered = True
            return
        key = f"{update.status}@{update.occurred_at.isoformat()}"
        if key in self.carrier_seen:
            return
        self.carrier_seen.add(key)
        newest = self.latest_tracking_at is None or update.occurred_at > self.latest_tracking_at
        if newest:
            self.latest_tracking_at = update.occurred_at
        async with self._lock:
            await self._activity(LogisticsActivities.record_carrier_event, record)
            if update.status == "delivered":
                self.delivered = True
            elif update.status == "exception" and newest and self.status == S.SHIPPED:
                self.held_from = self.status
                self.carrier_hold = True
                await self._record_transition(
                    S.ON_HOLD,
                    CARRIER,
                    f"carrier exception: {update.detail or 'no reason given'}",
                )
                await self._tell(
                    Event.CARRIER_EXCEPTION,
                    f"the carrier could not deliver: {update.detail or 'no reason given'}",
                    key=update.occurred_at.isoformat(),
                    roles=[Role.LOGISTICS.value, Role.OPS.value],
                )


def _minutes(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment else "—"


def _work_order_state(plan: WorkOrderPlan) -> WorkOrderState:
    return WorkOrderState(
        work_order_no=plan.work_order_no,
        sku=plan.sku,
        line=plan.line,
        quantity=plan.quantity,
        planned_start=plan.planned_start,
        planned_finish=plan.planned_finish,
        steps=[StepState(name=name) for name in plan.steps],
        replan_of=plan.replan_of,
    )
