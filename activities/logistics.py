"""Logistics activities: booking with the carrier, dispatch, tracking events, calling off.

The carrier is outside the product and every call to it may be repeated by a retry, so the
adapter's calls are idempotent at the carrier; PostgreSQL is written after the carrier
answered, in one transaction per activity.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from activities.carriers import CarrierAdapter
from activities.inputs import (
    CancellationRecord,
    CarrierEventRecord,
    Compensation,
    DispatchRecord,
    ShipmentBooking,
)
from activities.outbox import write_notices
from activities.records import lock_order, lock_order_row
from activities.stock import move_stock
from activities.transitions import audit_transition, write_transition
from db.models import Alert, Order, Product, Shipment, ShipmentEvent, ShipmentLine


async def _shipment_of(
    session: AsyncSession, order: Order, seq: int | None = None
) -> Shipment | None:
    """The order's one shipment (release 1.0), or shipment ``seq`` of a per-line order."""
    query = select(Shipment).where(Shipment.order_id == order.id)
    if seq is not None:
        query = query.where(Shipment.seq == seq).options(selectinload(Shipment.lines))
    return (await session.scalars(query)).one_or_none()


class LogisticsActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter) -> None:
        self.sessions = sessions
        self.carrier = carrier

    @activity.defn
    async def book_shipment(self, order_no: str) -> ShipmentBooking:
        """Book the shipment with the carrier once; a retry returns the booking already made."""
        async with self.sessions.begin() as session:
            order = await lock_order(session, order_no)
            existing = await _shipment_of(session, order)
            if existing is not None:
                return ShipmentBooking(existing.carrier, existing.tracking_no)
            tracking_no = await self.carrier.book(order_no)
            session.add(
                Shipment(
                    order_id=order.id,
                    carrier=self.carrier.name,
                    tracking_no=tracking_no,
                    status="booked",
                    booked_at=activity.info().current_attempt_scheduled_time,
                )
            )
            return ShipmentBooking(self.carrier.name, tracking_no)

    @activity.defn
    async def dispatch_shipment(self, record: DispatchRecord) -> None:
        """Hand the goods to the carrier and take them out of stock, each line once: the
        whole order (release 1.0), or what shipment ``seq`` carries, keyed per shipment."""
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no, selectinload(Order.lines))
            shipment = await _shipment_of(session, order, record.seq)
            assert shipment is not None, "dispatch comes after booking"
            # Handed over once: whatever the timeline says, only a hand-over sets shipped_at.
            if shipment.shipped_at is None:
                await self.carrier.hand_over(shipment.tracking_no)
                shipment.status = "shipped"
                shipment.shipped_at = record.at
                await write_notices(session, record.notices, order)
            products = {
                p.sku: p
                for p in await session.scalars(
                    select(Product)
                    .where(Product.sku.in_({line.sku for line in order.lines}))
                    .order_by(Product.sku)
                    .with_for_update()
                )
            }
            if record.seq is None:
                parts = [(line, f"ship:{line.line_no}", line.quantity) for line in order.lines]
            else:
                assert shipment is not None and record.lines is not None
                if not shipment.lines:
                    # What it carries is fixed at the hand-over, once.
                    shipment.lines = [
                        ShipmentLine(line_no=part.line_no, quantity=part.quantity)
                        for part in record.lines
                    ]
                lines = {line.line_no: line for line in order.lines}
                parts = [
                    (lines[part.line_no], f"ship:{record.seq}:{part.line_no}", part.quantity)
                    for part in shipment.lines
                ]
            for line, key, quantity in parts:
                await move_stock(
                    session,
                    products[line.sku],
                    key=f"{record.order_no}:{key}",
                    kind="ship",
                    quantity=quantity,
                    order_id=order.id,
                    at=record.at,
                )

    @activity.defn
    async def record_carrier_event(self, record: CarrierEventRecord) -> None:
        """Add a tracking event once; the shipment shows the latest by occurrence time. A
        delivery that moves the order on is written with its transition."""
        async with self.sessions.begin() as session:
            # The order's row first, as every activity of the order takes its locks.
            order = (
                await lock_order_row(session, record.transition.order_no)
                if record.transition is not None
                else None
            )
            shipment = (
                await session.scalars(
                    select(Shipment)
                    .where(Shipment.tracking_no == record.tracking_no)
                    .with_for_update()
                )
            ).one()
            inserted = await session.scalar(
                insert(ShipmentEvent)
                .values(
                    shipment_id=shipment.id,
                    status=record.status,
                    location=record.location,
                    detail=record.detail,
                    occurred_at=record.occurred_at,
                )
                .on_conflict_do_nothing(index_elements=["shipment_id", "status", "occurred_at"])
                .returning(ShipmentEvent.id)
            )
            if inserted is not None:
                await _follow_timeline(session, shipment, record, inserted)
            if (
                order is not None
                and record.transition is not None
                and await write_transition(session, order, record.transition)
            ):
                await audit_transition(session, record.transition)

    @activity.defn
    async def cancel_shipment(self, record: CancellationRecord) -> Compensation:
        """Compensation: call off each booked shipment at the carrier, once.

        A shipment the carrier already has (cancelling after a carrier exception) is closed
        here only: the carrier reported it could not deliver. When only the backorder is
        cancelled, shipments handed over stay as they are: they go on to delivery.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            shipments = await session.scalars(
                select(Shipment)
                .where(Shipment.order_id == order.id, Shipment.status != "cancelled")
                .order_by(Shipment.seq)
            )
            called_off: list[str] = []
            for shipment in shipments:
                # Delivered goods stay delivered; when only the backorder is cancelled, so
                # does every shipment handed over.
                if shipment.delivered_at is not None or (
                    record.backorder_only and shipment.shipped_at is not None
                ):
                    continue
                if shipment.status == "booked":
                    await self.carrier.cancel(shipment.tracking_no)
                shipment.status = "cancelled"
                shipment.cancelled_at = record.at
                called_off.append(shipment.tracking_no)
            if not called_off:
                return Compensation("no shipment to call off")
            return Compensation(f"called off shipment {', '.join(called_off)}")


async def _follow_timeline(
    session: AsyncSession, shipment: Shipment, record: CarrierEventRecord, event_id: int
) -> None:
    """The shipment takes the status of its latest event; an exception raises an alert."""
    latest = (
        await session.scalars(
            select(ShipmentEvent)
            .where(ShipmentEvent.shipment_id == shipment.id)
            .order_by(ShipmentEvent.occurred_at.desc())
            .limit(1)
        )
    ).one()
    if shipment.status != "cancelled":
        shipment.status = latest.status
    if record.status == "delivered":
        shipment.delivered_at = _earliest(shipment.delivered_at, record.occurred_at)
    if record.status == "exception":
        session.add(
            Alert(
                key=f"carrier-exception:{event_id}",
                kind="carrier_exception",
                order_id=shipment.order_id,
                message=(
                    f"{record.tracking_no}: {record.detail or 'carrier exception'}"
                    + (f" at {record.location}" if record.location else "")
                ),
                at=record.occurred_at,
            )
        )


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else min(current, candidate)
