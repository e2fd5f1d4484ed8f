"""Shipments of a per-line order: booking one with the carrier for the lines it carries,
confirming receipt of shipments, and closing the backorder after a partial shipment.

The hand-over and tracking events of every shipment are ``activities/logistics.py``'s, which
find a per-line shipment by its number in the order (``DispatchRecord.seq``) or its tracking
number.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.carriers import CarrierAdapter
from activities.inputs import BackorderRecord, ReceiptRecord, ShipmentBooking, ShipmentRequest
from activities.records import lock_order, lock_order_row
from activities.transitions import audit_transition, write_transition
from db.models import Order, Shipment


def booking_reference(order_no: str, seq: int) -> str:
    """What the carrier books a shipment under: repeated, it gives the same booking. The
    first shipment is booked under the order number, as an order's one shipment always was."""
    return order_no if seq == 1 else f"{order_no}-S{seq}"


class ShipmentActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter) -> None:
        self.sessions = sessions
        self.carrier = carrier

    @activity.defn
    async def book_line_shipment(self, request: ShipmentRequest) -> ShipmentBooking:
        """Book shipment ``seq`` of the order with the carrier once; a retry returns the
        booking already made."""
        async with self.sessions.begin() as session:
            order = await lock_order(session, request.order_no)
            existing = (
                await session.scalars(
                    select(Shipment).where(
                        Shipment.order_id == order.id, Shipment.seq == request.seq
                    )
                )
            ).one_or_none()
            if existing is not None:
                return ShipmentBooking(existing.carrier, existing.tracking_no)
            tracking_no = await self.carrier.book(booking_reference(order.order_no, request.seq))
            session.add(
                Shipment(
                    order_id=order.id,
                    seq=request.seq,
                    carrier=self.carrier.name,
                    tracking_no=tracking_no,
                    status="booked",
                    booked_at=activity.info().current_attempt_scheduled_time,
                )
            )
            return ShipmentBooking(self.carrier.name, tracking_no)

    @activity.defn
    async def confirm_receipt(self, record: ReceiptRecord) -> None:
        """Receipt of the shipments confirmed, each once (the first confirmation stays), with
        the transition that completes the order when it is the last."""
        async with self.sessions.begin() as session:
            order = await lock_order_row(session, record.order_no)
            await session.execute(
                update(Shipment)
                .where(
                    Shipment.order_id == order.id,
                    Shipment.seq.in_(record.seqs),
                    Shipment.confirmed_at.is_(None),
                )
                .values(confirmed_at=record.at, confirmed_by=record.confirmed_by)
            )
            if record.transition is not None and await write_transition(
                session, order, record.transition
            ):
                await audit_transition(session, record.transition)

    @activity.defn
    async def close_backorder(self, record: BackorderRecord) -> None:
        """The backorder was cancelled: the order says since when, and moves on with what
        shipped."""
        async with self.sessions.begin() as session:
            order = await lock_order_row(session, record.order_no)
            await session.execute(
                update(Order)
                .where(Order.id == order.id, Order.backorder_cancelled_at.is_(None))
                .values(backorder_cancelled_at=record.at)
            )
            written = [
                transition
                for transition in record.transitions
                if await write_transition(session, order, transition)
            ]
            for transition in written:
                await audit_transition(session, transition)
