"""Carrier tracking: the timeline of a shipped order, its delivery, and the hold a delivery
exception puts it on until ops resumes or cancels it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inputs import CarrierEventRecord
    from activities.logistics import LogisticsActivities
    from domain.actors import CARRIER, SYSTEM
    from domain.notifications import (
        NoticeRequest,
        NotificationEvent,
        customer_notice,
        order_notice,
    )
    from domain.roles import Role
    from domain.statuses import TERMINAL, OrderStatus
    from workflows.messages import CarrierUpdate
    from workflows.order.context import OrderContext, StepFailed

S = OrderStatus
DELIVERED_REASON = "carrier reported delivery"


class CarrierTracking:
    def __init__(self, order: OrderContext) -> None:
        self.order = order

    async def await_delivery(self) -> None:
        """Main flow, SHIPPED: wait for the carrier to report the delivery. A delivery
        reported while the order is on hold moves it on once ops resumes it."""
        order = self.order
        await order.wait(lambda: order.state.delivered)
        if order.stage() == S.SHIPPED:
            await order.advance(
                S.DELIVERED, SYSTEM, DELIVERED_REASON, notices=[self.delivered_notice()]
            )

    async def await_receipt(self) -> None:
        """DELIVERED: the customer confirms receipt (the update completes the order), or it
        is confirmed automatically once ``auto_confirm_after`` has passed."""
        order = self.order
        state = order.state
        waited = workflow.now() - state.since
        left = timedelta(seconds=order.params.timers.auto_confirm_after) - waited
        confirmed = await order.wait(
            lambda: state.status != S.DELIVERED, timeout=max(left, timedelta(0))
        )
        if not confirmed:
            await order.advance(
                S.COMPLETED,
                SYSTEM,
                "auto-confirmed: no confirmation in time",
                notices=[self.completed_notice()],
                only_from=S.DELIVERED,
            )

    def completed_notice(self) -> NoticeRequest:
        return customer_notice(
            NotificationEvent.COMPLETED,
            self.order.order_no,
            S.COMPLETED,
            "completed",
            self.order.params.created_by,
        )

    def delivered_notice(self) -> NoticeRequest:
        return customer_notice(
            NotificationEvent.DELIVERED,
            self.order.order_no,
            S.DELIVERED,
            "delivered; please confirm receipt",
            self.order.params.created_by,
        )

    async def on_event(self, update: CarrierUpdate) -> None:
        """A tracking event. ``delivered`` moves a shipped order on; a fresh ``exception``
        puts it on hold with the carrier's reason until ops resumes or cancels it. Repeats
        are ignored, and an event older than one already seen changes only the timeline.
        Events before the goods were handed over are ignored (the API refuses them)."""
        order = self.order
        state = order.state
        # Checked under the lock: an event that arrives while the hand-over is being written
        # belongs to the shipped order it is about to be.
        async with order.lock:
            if state.status in TERMINAL or order.stage() not in (S.SHIPPED, S.DELIVERED):
                return
            key = f"{update.status}@{update.occurred_at.isoformat()}"
            if key in state.carrier_seen:
                return
            latest = state.latest_tracking_at
            newest = latest is None or update.occurred_at > latest
            record = CarrierEventRecord(
                update.tracking_no,
                update.status,
                update.location,
                update.occurred_at,
                update.detail,
            )
            if update.status == "delivered" and state.status == S.SHIPPED:
                # The delivery and the order's move to DELIVERED commit together.
                record.transition = order.transition(
                    S.DELIVERED, SYSTEM, DELIVERED_REASON, notices=[self.delivered_notice()]
                )
                order.publish(record.transition)
            try:
                await order.project(LogisticsActivities.record_carrier_event, record)
            except StepFailed as failure:
                if record.transition is not None:
                    order.unpublish(record.transition)
                # Kept, and recorded again when ops resumes the order; an event the database
                # refuses would only be refused again (the fault's alert names it).
                if not failure.data_fault:
                    state.unrecorded_events.append(update)
                await order.hold_for_fault(failure)
                return
            state.carrier_seen.append(key)
            if newest:
                state.latest_tracking_at = update.occurred_at
            if update.status == "delivered":
                state.delivered = True
            if record.transition is not None:
                order.apply(record.transition)
            if update.status == "exception" and newest and state.status == S.SHIPPED:
                await self.hold_for_exception(update)

    async def hold_for_exception(
        self, update: CarrierUpdate, held_from: OrderStatus = S.SHIPPED
    ) -> None:
        """The carrier could not deliver: the order waits on hold for ops. Callers hold the
        lock."""
        order = self.order
        reason = update.detail or "no reason given"
        await order.record_transition(
            S.ON_HOLD,
            CARRIER,
            f"carrier exception: {reason}",
            held_from=held_from,
            notices=[
                order_notice(
                    NotificationEvent.CARRIER_EXCEPTION,
                    order.order_no,
                    S.ON_HOLD,
                    f"the carrier could not deliver: {reason}",
                    key=update.occurred_at.isoformat(),
                    roles=[Role.LOGISTICS.value, Role.OPS.value],
                )
            ],
        )
        order.state.carrier_hold = True
        order.show()

    async def record_unrecorded(
        self, handle: Callable[[CarrierUpdate], Awaitable[None]] | None = None
    ) -> None:
        """On a resume: the events a fault kept from the record, recorded now (by ``handle``,
        the per-line tracking's, for an order that ships per line)."""
        events, self.order.state.unrecorded_events = self.order.state.unrecorded_events, []
        for update in events:
            await (handle or self.on_event)(update)
