"""Receipt and tracking of a per-line order's shipments: carrier events per tracking number,
each shipment's delivery, its receipt confirmed by the customer (or sales), or automatically
once ``auto_confirm_after`` has passed since its delivery; the order completes with the last.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inputs import CarrierEventRecord, ReceiptRecord, TransitionRecord
    from activities.logistics import LogisticsActivities
    from activities.shipments import ShipmentActivities
    from domain.actors import SYSTEM
    from domain.fulfilment import DELIVERED, SHIPPED, ShipmentState, shipped_in_full
    from domain.notifications import NoticeRequest
    from domain.refusals import conflict, invalid
    from domain.statuses import TERMINAL, OrderStatus
    from workflows.messages import CarrierUpdate, ConfirmRequest, UpdateAck
    from workflows.order.context import OrderContext, StepFailed
    from workflows.order.fulfilment import line_progress
    from workflows.order.tracking import DELIVERED_REASON, CarrierTracking

S = OrderStatus


class ShipmentReceipts:
    def __init__(self, order: OrderContext, tracking: CarrierTracking) -> None:
        self.order = order
        self.tracking = tracking

    def marker(self) -> tuple[int, ...]:
        """Changes whenever a shipment is added, handed over, delivered or confirmed."""
        shipments = self.order.state.shipments
        return (
            len(shipments),
            sum(s.handed_over for s in shipments),
            sum(s.status == DELIVERED for s in shipments),
            sum(s.confirmed for s in shipments),
        )

    def _auto_confirm_after(self) -> timedelta:
        return timedelta(seconds=self.order.params.timers.auto_confirm_after)

    def next_auto_confirm(self) -> datetime | None:
        after = self._auto_confirm_after()
        return min(
            (
                s.delivered_seen_at + after
                for s in self.order.state.shipments
                if s.status == DELIVERED and not s.confirmed and s.delivered_seen_at is not None
            ),
            default=None,
        )

    async def auto_confirm_due(self) -> None:
        order = self.order
        async with order.lock:
            now = workflow.now()
            after = self._auto_confirm_after()
            due = [
                s
                for s in order.state.shipments
                if s.status == DELIVERED
                and not s.confirmed
                and s.delivered_seen_at is not None
                and s.delivered_seen_at + after <= now
            ]
            if due:
                await self._confirm(due, SYSTEM, "auto-confirmed: no confirmation in time")

    def completed_notice(self) -> NoticeRequest:
        return self.tracking.completed_notice()

    # ------------------------------------------------------------------ receipt (update)

    def check_confirm(self, request: ConfirmRequest) -> list[ShipmentState]:
        """The delivered shipments a confirmation confirms: the one named, or every one."""
        state = self.order.state
        if state.cancel_request is not None:
            raise conflict("the order is being cancelled")
        if state.status in TERMINAL:
            raise conflict(f"the order is {state.status.value}")
        if request.tracking_no is not None:
            named = next((s for s in state.shipments if s.tracking_no == request.tracking_no), None)
            if named is None:
                raise invalid(f"the order has no shipment {request.tracking_no}")
            if named.confirmed:
                raise conflict(f"receipt of shipment {request.tracking_no} is already confirmed")
            if named.status != DELIVERED:
                raise conflict(f"shipment {request.tracking_no} is not delivered yet")
            return [named]
        waiting = [s for s in state.shipments if s.status == DELIVERED and not s.confirmed]
        if not waiting:
            raise conflict(
                f"the order is {state.status.value}: no delivered shipment waits for confirmation"
            )
        return waiting

    async def confirm(self, request: ConfirmRequest) -> UpdateAck:
        order = self.order
        async with order.lock:
            with order.refusing():
                shipments = self.check_confirm(request)
            await self._confirm(shipments, request.actor.username, request.reason, for_caller=True)
        return order.ack()

    async def _confirm(
        self,
        shipments: list[ShipmentState],
        actor: str,
        reason: str | None,
        *,
        for_caller: bool = False,
    ) -> None:
        """Receipt of ``shipments`` confirmed, with the order's completion when they are the
        last delivered ones of an order delivered in full. Callers hold the lock."""
        order = self.order
        state = order.state
        confirming = {s.seq for s in shipments}
        handed = [s for s in state.shipments if s.handed_over]
        completes = state.status == S.DELIVERED and all(
            s.confirmed or s.seq in confirming for s in handed
        )
        transition: TransitionRecord | None = None
        if completes:
            transition = order.transition(
                S.COMPLETED, actor, reason, notices=[self.completed_notice()]
            )
            order.publish(transition)
        record = ReceiptRecord(
            order.order_no, sorted(confirming), actor, workflow.now(), transition
        )
        try:
            if for_caller:
                await order.project_for_caller(ShipmentActivities.confirm_receipt, record)
            else:
                await order.project(ShipmentActivities.confirm_receipt, record)
        except Exception:
            if transition is not None:
                order.unpublish(transition)
            raise
        for shipment in shipments:
            shipment.confirmed = True
        if transition is not None:
            order.apply(transition)
        else:
            order.show()

    # ------------------------------------------------------------------ carrier (signal)

    async def on_event(self, update: CarrierUpdate) -> None:
        """A tracking event of one shipment: its timeline, its delivery (which moves the
        order to DELIVERED once every line shipped and every shipment is delivered), or an
        exception, which holds the order until ops resumes or cancels it, as before."""
        order = self.order
        state = order.state
        async with order.lock:
            shipment = next(
                (s for s in state.shipments if s.tracking_no == update.tracking_no), None
            )
            if state.status in TERMINAL or shipment is None or not shipment.handed_over:
                return
            key = f"{update.tracking_no}:{update.status}@{update.occurred_at.isoformat()}"
            if key in state.carrier_seen:
                return
            latest = shipment.latest_tracking_at
            newest = latest is None or update.occurred_at > latest
            record = CarrierEventRecord(
                update.tracking_no, update.status, update.location, update.occurred_at,
                update.detail,
            )  # fmt: skip
            delivers = update.status == "delivered" and shipment.status == SHIPPED
            if delivers and state.status == S.SHIPPED and self._last_delivery(shipment):
                record.transition = order.transition(
                    S.DELIVERED,
                    SYSTEM,
                    DELIVERED_REASON,
                    notices=[self.tracking.delivered_notice()],
                )
                order.publish(record.transition)
            try:
                await order.project(LogisticsActivities.record_carrier_event, record)
            except StepFailed as failure:
                if record.transition is not None:
                    order.unpublish(record.transition)
                if not failure.data_fault:
                    state.unrecorded_events.append(update)
                await order.hold_for_fault(failure)
                return
            state.carrier_seen.append(key)
            if newest:
                shipment.latest_tracking_at = update.occurred_at
            if delivers:
                shipment.status = DELIVERED
                shipment.delivered_seen_at = workflow.now()
            if record.transition is not None:
                order.apply(record.transition)
            else:
                order.show()
            holdable = state.status in (S.IN_PRODUCTION, S.AWAITING_SHIPMENT, S.SHIPPED)
            if update.status == "exception" and newest and shipment.status == SHIPPED and holdable:
                await self.tracking.hold_for_exception(update, held_from=state.status)

    def _last_delivery(self, shipment: ShipmentState) -> bool:
        state = self.order.state
        others = [s for s in state.shipments if s.handed_over and s is not shipment]
        return shipped_in_full(line_progress(state)) and all(s.status == DELIVERED for s in others)
