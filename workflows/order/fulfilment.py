"""The fulfilment saga: reserve stock, make the shortfall, book the carrier, ship, and undo it
all step by step on cancellation.

Each step that engages something registers its compensation by name as it happens; a
cancellation runs them last first, each as its own activity, so a worker that dies half-way
leaves the finished ones in the history and the next worker does the rest, each exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inputs import (
        CancellationRecord,
        Compensation,
        DispatchRecord,
        ShipmentBooking,
        ShipmentRequest,
        StockAllocation,
        WorkOrderPlan,
    )
    from activities.logistics import LogisticsActivities
    from activities.orders import OrderActivities
    from activities.production import ProductionActivities
    from activities.review import ReviewActivities
    from activities.shipments import ShipmentActivities
    from activities.stock import StockActivities
    from domain.actors import SYSTEM
    from domain.fulfilment import BOOKED, LineFacts, LineProgress, ShipmentState, progress
    from domain.notifications import NotificationEvent, customer_notice, fault_notice
    from domain.statuses import OrderStatus
    from workflows.messages import OrderState
    from workflows.order.context import FAULT_RETRY, OrderContext, StepFailed
    from workflows.order.production import ProductionTracker, work_order_state

S = OrderStatus
# The patch that brought per-line fulfilment: partial shipments and backorders (release 1.1).
PER_LINE = "per-line-fulfilment"

# A compensation whose worker died is retried after this long; it may call the carrier, whose
# adapter gives up on a call after 10 s.
COMPENSATION_TIMEOUT = timedelta(seconds=15)

RELEASE_STOCK = "release_stock"
CANCEL_PRODUCTION = "cancel_production"
CANCEL_SHIPMENT = "cancel_shipment"
COMPENSATIONS: dict[str, Callable[..., Any]] = {
    RELEASE_STOCK: StockActivities.release_stock,
    CANCEL_PRODUCTION: ProductionActivities.cancel_production,
    CANCEL_SHIPMENT: LogisticsActivities.cancel_shipment,
}


def line_progress(state: OrderState) -> list[LineProgress]:
    """Each line's units ready, shipped and delivered, as the workflow knows them."""
    allocation = state.allocation
    facts = [
        LineFacts(line.line_no, line.sku, line.quantity, line.reserved, line.to_produce)
        for line in (allocation.lines if allocation is not None else [])
    ]
    return progress(
        facts, state.work_orders, state.shipments, backorder_cancelled=state.backorder_cancelled
    )


class Fulfilment:
    def __init__(self, order: OrderContext, production: ProductionTracker) -> None:
        self.order = order
        self.production = production

    def engaged(self, compensation: str) -> None:
        """Register an undo once, however often the step that needs it runs."""
        if compensation not in self.order.state.undo:
            self.order.state.undo.append(compensation)

    async def start(self) -> None:
        """Main flow, APPROVED: reserve stock; plan the shortfall, or book the carrier when
        stock covers every unit."""
        order = self.order
        allocation: StockAllocation = await order.project(
            StockActivities.reserve_stock, order.order_no
        )
        order.state.allocation = allocation
        self.engaged(RELEASE_STOCK)
        if not allocation.to_produce():
            if self.ships_per_line():
                await self.book_line_shipment("every unit reserved from stock")
            else:
                await self.book_shipment("every unit reserved from stock")
            return
        # Approved again after an amendment re-opened the review: the work orders are booked.
        if not order.state.work_orders:
            plans: list[WorkOrderPlan] = await order.project(
                ProductionActivities.plan_production, order.order_no
            )
            self.engaged(CANCEL_PRODUCTION)
            order.state.work_orders = [work_order_state(plan) for plan in plans]
        await order.advance(S.IN_PRODUCTION, SYSTEM, self.production.plan_summary())

    async def produce(self) -> None:
        """Main flow, IN_PRODUCTION: wait for the shop floor, then book the carrier (unless
        an amendment took the order back under review meanwhile)."""
        await self.production.watch()
        if self.order.stage() == S.IN_PRODUCTION:
            if self.ships_per_line():
                await self.book_line_shipment("production done")
            else:
                await self.book_shipment()

    def ships_per_line(self) -> bool:
        """Whether the order ships line by line (release 1.1), decided once, where it first
        reaches shipping: a dispatch while it is in production, or the end of production (or
        of approval, when stock covers it all). An order a release-1.0 worker took past that
        point replays the decision without the patch's marker and ships as it began: one
        shipment booked ahead. So does one that booked that shipment before an amendment
        took it back to production."""
        state = self.order.state
        if state.per_line is None:
            state.per_line = state.tracking_no is None and workflow.patched(PER_LINE)
        return state.per_line

    async def book_shipment(self, why: str = "") -> None:
        order = self.order
        booking: ShipmentBooking = await order.call(
            LogisticsActivities.book_shipment, order.order_no
        )
        self.engaged(CANCEL_SHIPMENT)
        order.state.tracking_no = booking.tracking_no
        reason = f"{booking.carrier} {booking.tracking_no} booked"
        await order.advance(S.AWAITING_SHIPMENT, SYSTEM, f"{why}; {reason}" if why else reason)

    async def book_line_shipment(self, why: str) -> None:
        """A per-line order is ready to ship: the shipment of what is left is booked ahead
        (its lines are fixed when logistics hands it over), unless one is booked already or
        nothing is left to ship."""
        order = self.order
        state = order.state
        left = any(line.open_to_ship for line in line_progress(state))
        booked = next((s for s in state.shipments if s.status == BOOKED and not s.lines), None)
        if left and booked is None:
            seq = len(state.shipments) + 1
            booking: ShipmentBooking = await order.call(
                ShipmentActivities.book_line_shipment, ShipmentRequest(order.order_no, seq)
            )
            self.engaged(CANCEL_SHIPMENT)
            booked = ShipmentState(
                seq=seq,
                lines=[],
                status=BOOKED,
                carrier=booking.carrier,
                tracking_no=booking.tracking_no,
            )
            state.shipments.append(booked)
            state.tracking_no = booking.tracking_no
        if booked is not None:
            why = f"{why}; {booked.carrier} {booked.tracking_no} booked"
        await order.advance(S.AWAITING_SHIPMENT, SYSTEM, why)

    async def ship(self) -> None:
        """Main flow, AWAITING_SHIPMENT: hand the goods over once logistics dispatches."""
        order = self.order
        state = order.state
        # An amendment may take the order back to production or under review instead.
        await order.wait(
            lambda: state.dispatch_request is not None or order.stage() != S.AWAITING_SHIPMENT
        )
        if state.dispatch_request is None:
            return
        request = state.dispatch_request
        assert request is not None
        await order.call(
            LogisticsActivities.dispatch_shipment, DispatchRecord(order.order_no, workflow.now())
        )
        await order.advance(
            S.SHIPPED,
            request.actor.username,
            request.reason,
            notices=[
                customer_notice(
                    NotificationEvent.SHIPPED,
                    order.order_no,
                    S.SHIPPED,
                    f"shipped, tracking number {state.tracking_no}",
                    order.params.created_by,
                )
            ],
        )

    async def compensate(self) -> None:
        """Undo what the order had set in motion, last first and each once, then close it."""
        order = self.order
        state = order.state
        assert state.cancel_request is not None
        record = CancellationRecord(order.order_no, workflow.now())
        for name in reversed(state.undo):
            await self.undo(name, record)
        if any(level.status in ("waiting", "pending") for level in state.levels):
            closed: Compensation = await order.call(ReviewActivities.close_review, record)
            state.compensations.append(closed.done)
            for level in state.levels:
                if level.status in ("waiting", "pending"):
                    level.status = "cancelled"
        async with order.lock:
            await order.record_transition(
                S.CANCELLED, state.cancel_request.actor.username, state.cancel_request.reason
            )

    async def undo(self, name: str, record: CancellationRecord) -> None:
        """One compensation, as its own activity; :class:`StepFailed` when it fails for good."""
        order = self.order
        state = order.state
        result: Compensation = await order.call(COMPENSATIONS[name], record, COMPENSATION_TIMEOUT)
        state.compensations.append(result.done)
        if name == CANCEL_PRODUCTION:
            for wo in state.work_orders:
                if wo.status == "open":
                    wo.status = "cancelled"
        order.show()

    async def undo_after_rejection(self) -> None:
        """An order an amendment took back under review was rejected: what its fulfilment
        had engaged is undone, last first. A compensation that fails for good is left to ops
        (an ``order_fault`` alert and notice); the order stays REJECTED."""
        order = self.order
        state = order.state
        # Shipments already handed over go on to delivery, as after a cancelled backorder.
        shipped = any(shipment.handed_over for shipment in state.shipments)
        record = CancellationRecord(order.order_no, workflow.now(), backorder_only=shipped)
        for name in reversed(state.undo):
            try:
                await self.undo(name, record)
            except StepFailed as failure:
                reason = f"system fault: {failure}"
                told = fault_notice(order.order_no, state.status, reason, key=name)
                fault = order.transition(state.status, SYSTEM, reason, notices=[told], fault=reason)
                await order.project(OrderActivities.record_fault, fault, FAULT_RETRY)
