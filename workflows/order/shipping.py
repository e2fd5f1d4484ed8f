"""Per-line fulfilment (release 1.1): an order ships what is ready, in as many shipments as
logistics dispatches, each with its own booking, tracking, delivery and receipt; the rest is a
backorder that ships when ready, or is cancelled.

Introduced under the :data:`~workflows.order.fulfilment.PER_LINE` patch, decided once per
order where it first reaches shipping (``Fulfilment.ships_per_line``). The order's status
follows its lines (``domain/fulfilment.py``): the update or event that makes the last move
writes the transition with it, so the caller sees it at once, and the main flow (``follow``)
moves on whatever is left, and auto-confirms each delivered shipment once
``auto_confirm_after`` has passed since its delivery.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inputs import (
        BackorderRecord,
        CancellationRecord,
        DispatchRecord,
        ShipmentBooking,
        ShipmentRequest,
        TransitionRecord,
    )
    from activities.logistics import LogisticsActivities
    from activities.shipments import ShipmentActivities
    from domain.actors import SYSTEM
    from domain.fulfilment import (
        BOOKED,
        SHIPPED,
        LineProgress,
        ShipmentLine,
        ShipmentState,
        derived_status,
        plan_shipment,
        shipped_in_full,
    )
    from domain.notifications import (
        NoticeRequest,
        NotificationEvent,
        customer_notice,
        order_notice,
    )
    from domain.refusals import conflict
    from domain.statuses import OrderStatus
    from workflows.messages import DispatchRequest, UpdateAck
    from workflows.order.context import OrderContext, StepFailed
    from workflows.order.fulfilment import CANCEL_SHIPMENT, Fulfilment, line_progress
    from workflows.order.receipts import ShipmentReceipts
    from workflows.order.tracking import DELIVERED_REASON, CarrierTracking

S = OrderStatus
# Where a per-line order goes next as its lines ship, deliver and are confirmed.
NEXT = {S.AWAITING_SHIPMENT: S.SHIPPED, S.SHIPPED: S.DELIVERED, S.DELIVERED: S.COMPLETED}
RANK = {S.AWAITING_SHIPMENT: 0, S.SHIPPED: 1, S.DELIVERED: 2, S.COMPLETED: 3}
# Where logistics dispatches what is ready.
DISPATCHABLE = (S.IN_PRODUCTION, S.AWAITING_SHIPMENT)


class Shipping:
    def __init__(
        self,
        order: OrderContext,
        fulfilment: Fulfilment,
        tracking: CarrierTracking,
        receipts: ShipmentReceipts,
    ) -> None:
        self.order = order
        self.fulfilment = fulfilment
        self.tracking = tracking
        self.receipts = receipts

    # ------------------------------------------------------------------ what the lines say

    def lines(self) -> list[LineProgress]:
        return line_progress(self.order.state)

    def shipped_any(self) -> bool:
        return any(shipment.handed_over for shipment in self.order.state.shipments)

    def cancels_backorder(self) -> bool:
        """A cancellation after a partial shipment cancels what has not shipped; the goods
        a carrier could not deliver are written off with the whole order, as before."""
        state = self.order.state
        return bool(state.per_line) and self.shipped_any() and not state.carrier_hold

    def _status_after(self) -> S:
        return derived_status(self.lines(), self.order.state.shipments)

    # ------------------------------------------------------------------ dispatch (update)

    def takes_dispatch(self) -> bool:
        """Whether a dispatch ships per line: the order does, or it is in production and has
        not decided yet (an order started on release 1.0 takes it up there)."""
        state = self.order.state
        if state.per_line is not None:
            return state.per_line
        return state.status == S.IN_PRODUCTION and state.tracking_no is None

    def check_dispatch(self, request: DispatchRequest) -> list[ShipmentLine]:
        state = self.order.state
        if state.cancel_request is not None:
            raise conflict("the order is being cancelled")
        if state.fault is not None:
            raise conflict("the order waits for ops after a system fault")
        if state.status not in DISPATCHABLE:
            raise conflict(
                f"the order is {state.status.value}: what is ready ships while the order is "
                f"{' or '.join(status.value for status in DISPATCHABLE)}"
            )
        return plan_shipment(self.lines(), request.lines)

    async def dispatch(self, request: DispatchRequest) -> UpdateAck:
        order = self.order
        state = order.state
        async with order.lock:
            with order.refusing():
                planned = self.check_dispatch(request)
            self.fulfilment.ships_per_line()
            # The shipment booked ahead when the order was ready takes these lines; else the
            # shipment is booked now.
            shipment = next(
                (s for s in state.shipments if s.status == BOOKED and not s.lines), None
            )
            if shipment is None:
                shipment = ShipmentState(seq=len(state.shipments) + 1, lines=[])
                state.shipments.append(shipment)
            shipment.lines = planned
            await self._hand_over(shipment, request.actor.username, request.reason)
        return order.ack()

    async def _hand_over(self, shipment: ShipmentState, actor: str, reason: str | None) -> None:
        """Book the shipment, hand it to the carrier and take its units out of stock. A step
        that fails for good holds the order for ops; their resume hands it over then."""
        order = self.order
        state = order.state
        try:
            if shipment.tracking_no is None:
                booking: ShipmentBooking = await order.call(
                    ShipmentActivities.book_line_shipment,
                    ShipmentRequest(order.order_no, shipment.seq),
                )
                shipment.carrier, shipment.tracking_no = booking.carrier, booking.tracking_no
                state.tracking_no = booking.tracking_no
                shipment.status = BOOKED
                # A booking not handed over is called off if the order is cancelled.
                self.fulfilment.engaged(CANCEL_SHIPMENT)
            await order.call(
                LogisticsActivities.dispatch_shipment,
                DispatchRecord(
                    order.order_no,
                    workflow.now(),
                    shipment.seq,
                    shipment.lines,
                    notices=self._part_shipped_notices(shipment),
                ),
            )
        except StepFailed as failure:
            await order.hold_for_fault(failure)
            return
        shipment.status = SHIPPED
        if state.status == S.AWAITING_SHIPMENT and shipped_in_full(self.lines()):
            why = f"shipped in full, last shipment {shipment.tracking_no}"
            await self._move(S.SHIPPED, actor, reason or why, self._shipped_notice(shipment))
        else:
            order.show()

    async def resume_pending(self) -> None:
        """On a resume: shipments a fault stopped before the hand-over are handed over."""
        order = self.order
        pending = [
            s for s in order.state.shipments if s.status in ("requested", BOOKED) and s.lines
        ]
        if not pending:
            return
        async with order.lock:
            for shipment in pending:
                if order.state.fault is None and order.state.cancel_request is None:
                    await self._hand_over(shipment, SYSTEM, "handed to the carrier on resume")

    async def _move(self, target: S, actor: str, reason: str, notice: NoticeRequest) -> None:
        """A transition an update or event makes; when its write fails the main flow makes it
        later (``follow``), so the caller is not failed for it. Callers hold the lock."""
        try:
            await self.order.record_transition(target, actor, reason, notices=[notice])
        except StepFailed:
            self.order.show()

    # ------------------------------------------------------------------ main flow

    async def follow(self) -> None:
        """Main flow, AWAITING_SHIPMENT, SHIPPED or DELIVERED for a per-line order: move on as
        the lines say, and auto-confirm each delivered shipment in time."""
        order = self.order
        stage = order.stage()
        while order.stage() == stage:
            if RANK[self._status_after()] > RANK[stage]:
                target = NEXT[stage]
                await order.advance(
                    target, SYSTEM, self._reason(target), notices=[self._notice(target)],
                    only_from=stage,
                )  # fmt: skip
                return
            seen = self.receipts.marker()
            due = self.receipts.next_auto_confirm()
            timeout = None if due is None else max(due - workflow.now(), timedelta(0))
            moved = await order.wait(functools.partial(self._moved, stage, seen), timeout)
            if not moved:
                await self.receipts.auto_confirm_due()

    def _moved(self, stage: S, seen: tuple[int, ...]) -> bool:
        return self.order.stage() != stage or self.receipts.marker() != seen

    def _reason(self, target: S) -> str:
        return {
            S.SHIPPED: "every line shipped",
            S.DELIVERED: DELIVERED_REASON,
            S.COMPLETED: "receipt of every shipment confirmed",
        }[target]

    def _notice(self, target: S) -> NoticeRequest:
        if target == S.SHIPPED:
            return self._shipped_notice(self._last_handed_over())
        if target == S.DELIVERED:
            return self.tracking.delivered_notice()
        return self.receipts.completed_notice()

    def _part_shipped_notices(self, shipment: ShipmentState) -> list[NoticeRequest]:
        """The customer hears of each shipment that leaves part of the order to ship; the
        one that ships the rest is told by the order's move to SHIPPED."""
        adding = {part.line_no: part.quantity for part in shipment.lines}
        lines = self.lines()
        if all(line.shipped + adding.get(line.line_no, 0) >= line.due for line in lines):
            return []
        units = sum(adding.values())
        told = order_notice(
            NotificationEvent.SHIPPED,
            self.order.order_no,
            self.order.state.status,
            f"shipment {shipment.seq} ({units} unit(s)) handed to the carrier, tracking number "
            f"{shipment.tracking_no}; the rest follows when ready",
            key=f"shipment-{shipment.seq}",
            recipients=[self.order.params.created_by],
            order_customer=True,
        )
        return [told]

    def _last_handed_over(self) -> ShipmentState:
        return [s for s in self.order.state.shipments if s.handed_over][-1]

    def _shipped_notice(self, shipment: ShipmentState) -> NoticeRequest:
        return customer_notice(
            NotificationEvent.SHIPPED,
            self.order.order_no,
            S.SHIPPED,
            f"shipped in full, last tracking number {shipment.tracking_no}",
            self.order.params.created_by,
        )

    # ------------------------------------------------------------------ cancellation

    async def cancel_backorder(self) -> None:
        """Main flow, on a cancellation after a partial shipment: what has not shipped is
        undone (reservations released, open work orders and bookings not handed over
        cancelled), each once; then the order moves to SHIPPED with what shipped, which goes
        on to delivery and completion. A compensation that fails for good holds the order for
        ops, whose resume tries again."""
        order = self.order
        state = order.state
        request = state.cancel_request
        assert request is not None
        record = CancellationRecord(order.order_no, workflow.now(), backorder_only=True)
        while True:
            try:
                for name in list(reversed(state.undo)):
                    await self.fulfilment.undo(name, record)
                    state.undo.remove(name)
                await self._close_backorder()
                return
            except StepFailed as failure:
                async with order.lock:
                    await order.hold_for_fault(failure)
                await workflow.wait_condition(lambda: state.fault is None)

    async def _close_backorder(self) -> None:
        order = self.order
        state = order.state
        request = state.cancel_request
        assert request is not None
        async with order.lock:
            transitions = self._backorder_transitions(request.actor.username, request.reason)
            order.publish(transitions[-1])
            try:
                await order.project(
                    ShipmentActivities.close_backorder,
                    BackorderRecord(order.order_no, workflow.now(), transitions),
                )
            except StepFailed:
                order.unpublish(transitions[0])
                raise
            state.backorder_cancelled = True
            state.cancel_request = None
            for transition in transitions:
                order.apply(transition)

    def _backorder_transitions(self, actor: str, reason: str | None) -> list[TransitionRecord]:
        """The order's way to SHIPPED by the design's transitions, written together: back
        from a hold to where it was, out of production (nothing is left to make), shipped."""
        order = self.order
        state = order.state
        why = f"backorder cancelled: {reason}" if reason else "backorder cancelled"
        path: list[tuple[S, str]] = []
        status = state.status
        if status == S.ON_HOLD and state.held_from is not None:
            status = state.held_from
            path.append((status, why))
        if status == S.IN_PRODUCTION:
            status = S.AWAITING_SHIPMENT
            path.append((status, why))
        path.append((S.SHIPPED, "every line shipped" if path else why))
        transitions: list[TransitionRecord] = []
        seq, source = state.transition_seq, state.status
        for target, because in path:
            record = order.transition(target, actor, because)
            record.seq, record.from_status = seq + 1, source.value
            if target == S.SHIPPED:
                record.notices = [self._shipped_notice(self._last_handed_over())]
            transitions.append(record)
            seq, source = record.seq, target
        return transitions
