"""Order activities: the only code that writes an order's record in PostgreSQL.

Each method owns one transaction and is idempotent, because Temporal retries an activity whose
worker died after the commit but before reporting back: a retry must find its work done and
write nothing twice (unique keys plus ``ON CONFLICT DO NOTHING``, or conditional updates).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.carriers import CarrierAdapter
from activities.inputs import (
    CancellationRecord,
    CarrierEventRecord,
    DecisionRecord,
    DispatchRecord,
    LevelOpening,
    ProductionEventRecord,
    ReviewNoticeRecord,
    ReviewOpening,
    ShipmentBooking,
    TransitionRecord,
    ValidationOutcome,
    WorkOrderPlan,
)
from db.models import (
    Customer,
    Decision,
    Order,
    Product,
    ProductionEvent,
    ReviewLevel,
    ReviewNotice,
    Shipment,
    ShipmentEvent,
    StatusHistory,
    User,
    WorkOrder,
    WorkOrderStep,
)
from domain.statuses import OrderStatus

DEFAULT_ROUTING = ["prepare", "assemble", "inspect"]
DEFAULT_PRODUCTION_LINE = "LINE-1"

# Orders whose amount still draws on the customer's credit.
OPEN_STATUSES = [
    OrderStatus.UNDER_REVIEW,
    OrderStatus.APPROVED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.ON_HOLD,
]


async def _order(session: AsyncSession, order_no: str, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.order_no == order_no)
    if lock:
        query = query.with_for_update()
    order = (await session.scalars(query)).one_or_none()
    if order is None:
        raise ApplicationError(f"order {order_no} does not exist", non_retryable=True)
    return order


class OrderActivities:
    """Built once by the worker with the session factory and the carrier it talks to."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter) -> None:
        self.sessions = sessions
        self.carrier = carrier

    @activity.defn
    async def record_transition(self, record: TransitionRecord) -> None:
        async with self.sessions.begin() as session:
            order = await _order(session, record.order_no, lock=True)
            inserted = await session.scalar(
                insert(StatusHistory)
                .values(
                    order_id=order.id,
                    seq=record.seq,
                    from_status=record.from_status,
                    to_status=record.to_status,
                    actor=record.actor,
                    reason=record.reason,
                    at=record.at,
                )
                .on_conflict_do_nothing(index_elements=["order_id", "seq"])
                .returning(StatusHistory.id)
            )
            if inserted is not None:
                order.status = record.to_status
                order.held_from = record.held_from

    @activity.defn
    async def validate_order(self, order_no: str) -> ValidationOutcome:
        """Check the order against customers, products and prices; fill missing prices.

        Every problem is listed, not just the first, so sales can fix the order in one go.
        """
        async with self.sessions.begin() as session:
            order = (
                await session.scalars(
                    select(Order)
                    .where(Order.order_no == order_no)
                    .options(selectinload(Order.lines))
                    .with_for_update()
                )
            ).one()
            customer = await session.get_one(Customer, order.customer_id)
            reasons: list[str] = []
            if not customer.active:
                reasons.append(f"customer {customer.code} is inactive")
            skus = {line.sku for line in order.lines}
            products = {
                p.sku: p
                for p in await session.scalars(select(Product).where(Product.sku.in_(skus)))
            }
            total = Decimal("0")
            for line in order.lines:
                product = products.get(line.sku)
                where = f"line {line.line_no}"
                if product is None:
                    reasons.append(f"{where}: unknown SKU {line.sku}")
                    continue
                if not product.active:
                    reasons.append(f"{where}: SKU {line.sku} is no longer sold")
                if line.quantity <= 0:
                    reasons.append(f"{where}: quantity must be positive, got {line.quantity}")
                if line.unit_price is None:
                    line.unit_price = product.unit_price
                elif line.unit_price != product.unit_price:
                    reasons.append(
                        f"{where}: unit price {line.unit_price} of {line.sku} does not match "
                        f"the price list ({product.unit_price})"
                    )
                line.amount = line.unit_price * line.quantity
                total += line.amount
            exposure = await session.scalar(
                select(func.coalesce(func.sum(Order.total), 0)).where(
                    Order.customer_id == customer.id,
                    Order.id != order.id,
                    Order.status.in_(OPEN_STATUSES),
                )
            )
            available = customer.credit_limit - Decimal(exposure or 0)
            if total > available:
                reasons.append(
                    f"total {total} exceeds the available credit {available} of customer "
                    f"{customer.code} (limit {customer.credit_limit})"
                )
            order.total = total
            order.rejection_reasons = reasons
            return ValidationOutcome(
                ok=not reasons, reasons=reasons, total=str(total), customer_id=str(customer.id)
            )

    @activity.defn
    async def open_review(self, opening: ReviewOpening) -> None:
        async with self.sessions.begin() as session:
            order = await _order(session, opening.order_no)
            for number, role in enumerate(opening.roles, start=1):
                await session.execute(
                    insert(ReviewLevel)
                    .values(order_id=order.id, level=number, role=role, status="waiting")
                    .on_conflict_do_nothing(index_elements=["order_id", "level"])
                )

    @activity.defn
    async def open_level(self, opening: LevelOpening) -> None:
        async with self.sessions.begin() as session:
            order = await _order(session, opening.order_no)
            # Conditional: a decision may already have been recorded for this level.
            await session.execute(
                update(ReviewLevel)
                .where(
                    ReviewLevel.order_id == order.id,
                    ReviewLevel.level == opening.level,
                    ReviewLevel.status == "waiting",
                )
                .values(status="pending", opened_at=opening.at)
            )

    @activity.defn
    async def record_decision(self, record: DecisionRecord) -> None:
        async with self.sessions.begin() as session:
            order = await _order(session, record.order_no)
            await session.execute(
                insert(Decision)
                .values(
                    order_id=order.id,
                    level=record.level,
                    decided_by=record.decided_by,
                    acting_role=record.acting_role,
                    decision=record.decision,
                    comment=record.comment,
                    at=record.at,
                )
                .on_conflict_do_nothing(index_elements=["order_id", "level", "decided_by"])
            )
            await session.execute(
                update(ReviewLevel)
                .where(ReviewLevel.order_id == order.id, ReviewLevel.level == record.level)
                .values(
                    status="approved" if record.decision == "approve" else "rejected",
                    decided_at=record.at,
                )
            )

    @activity.defn
    async def record_review_notice(self, notice: ReviewNoticeRecord) -> list[str]:
        """Address a reminder or an escalation to every active user of the role; who got it."""
        async with self.sessions.begin() as session:
            order = await _order(session, notice.order_no)
            recipients = list(
                await session.scalars(
                    select(User.username)
                    .where(
                        User.roles.contains([notice.role]),
                        User.active.is_(True),
                        User.username != notice.created_by,
                    )
                    .order_by(User.username)
                )
            )
            for recipient in recipients:
                await session.execute(
                    insert(ReviewNotice)
                    .values(
                        order_id=order.id,
                        level=notice.level,
                        kind=notice.kind,
                        role=notice.role,
                        recipient=recipient,
                        at=notice.at,
                    )
                    .on_conflict_do_nothing(
                        index_elements=["order_id", "level", "kind", "recipient"]
                    )
                )
            if notice.kind == "escalation":
                await session.execute(
                    update(ReviewLevel)
                    .where(ReviewLevel.order_id == order.id, ReviewLevel.level == notice.level)
                    .values(escalated=True, escalated_to=notice.escalated_to)
                )
            return recipients

    @activity.defn
    async def create_work_order(self, order_no: str) -> WorkOrderPlan:
        """Open the order's work order, with the routing of its products, once."""
        async with self.sessions.begin() as session:
            order = (
                await session.scalars(
                    select(Order)
                    .where(Order.order_no == order_no)
                    .options(selectinload(Order.lines))
                )
            ).one()
            existing = (
                await session.scalars(
                    select(WorkOrder)
                    .where(WorkOrder.order_id == order.id)
                    .options(selectinload(WorkOrder.steps))
                )
            ).one_or_none()
            if existing is not None:
                return WorkOrderPlan(
                    existing.work_order_no, existing.line, [step.name for step in existing.steps]
                )
            routings = await session.scalars(
                select(Product.routing).where(Product.sku.in_([line.sku for line in order.lines]))
            )
            steps: list[str] = []
            for routing in routings:
                steps.extend(step for step in routing if step not in steps)
            steps = steps or list(DEFAULT_ROUTING)
            number = await session.scalar(text("SELECT nextval('work_order_no_seq')"))
            work_order = WorkOrder(
                work_order_no=f"WO-{order.created_at.year}-{number:06d}",
                order_id=order.id,
                line=DEFAULT_PRODUCTION_LINE,
                status="open",
                steps=[
                    WorkOrderStep(seq=i, name=name, status="pending")
                    for i, name in enumerate(steps, start=1)
                ],
            )
            session.add(work_order)
            return WorkOrderPlan(work_order.work_order_no, work_order.line, steps)

    @activity.defn
    async def record_production_event(self, record: ProductionEventRecord) -> None:
        async with self.sessions.begin() as session:
            order = await _order(session, record.order_no)
            inserted = await session.scalar(
                insert(ProductionEvent)
                .values(
                    event_id=record.event_id,
                    order_id=order.id,
                    step=record.step,
                    event=record.event,
                    good_qty=record.good_qty,
                    scrap_qty=record.scrap_qty,
                    note=record.note,
                    reported_by=record.reported_by,
                    at=record.at,
                )
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(ProductionEvent.id)
            )
            if inserted is None:
                return
            work_order = (
                await session.scalars(
                    select(WorkOrder)
                    .where(WorkOrder.order_id == order.id)
                    .options(selectinload(WorkOrder.steps))
                )
            ).one()
            step = next(s for s in work_order.steps if s.name == record.step)
            if record.event == "started":
                step.status = "started"
                step.started_at = step.started_at or record.at
            else:
                step.status = "completed"
                step.started_at = step.started_at or record.at
                step.completed_at = record.at
                step.good_qty = record.good_qty or 0
                step.scrap_qty = record.scrap_qty or 0
            if all(s.status == "completed" for s in work_order.steps):
                work_order.status = "completed"

    @activity.defn
    async def book_shipment(self, order_no: str) -> ShipmentBooking:
        """Book the shipment with the carrier once; a retry returns the booking already made."""
        async with self.sessions.begin() as session:
            order = await _order(session, order_no, lock=True)
            existing = (
                await session.scalars(select(Shipment).where(Shipment.order_id == order.id))
            ).one_or_none()
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
    async def mark_dispatched(self, record: DispatchRecord) -> None:
        async with self.sessions.begin() as session:
            order = await _order(session, record.order_no)
            await session.execute(
                update(Shipment)
                .where(Shipment.order_id == order.id, Shipment.status == "booked")
                .values(status="shipped", shipped_at=record.at)
            )

    @activity.defn
    async def record_carrier_event(self, record: CarrierEventRecord) -> None:
        """Add a tracking event; the shipment shows the latest event by occurrence time."""
        async with self.sessions.begin() as session:
            shipment = (
                await session.scalars(
                    select(Shipment)
                    .where(Shipment.tracking_no == record.tracking_no)
                    .with_for_update()
                )
            ).one()
            await session.execute(
                insert(ShipmentEvent)
                .values(
                    shipment_id=shipment.id,
                    status=record.status,
                    location=record.location,
                    occurred_at=record.occurred_at,
                )
                .on_conflict_do_nothing(index_elements=["shipment_id", "status", "occurred_at"])
            )
            latest = (
                await session.scalars(
                    select(ShipmentEvent)
                    .where(ShipmentEvent.shipment_id == shipment.id)
                    .order_by(ShipmentEvent.occurred_at.desc())
                    .limit(1)
                )
            ).one()
            shipment.status = latest.status
            if record.status == "delivered":
                shipment.delivered_at = _earliest(shipment.delivered_at, record.occurred_at)

    @activity.defn
    async def cancel_fulfilment(self, record: CancellationRecord) -> None:
        """Compensation: close the open review, the work order and the booked shipment."""
        async with self.sessions.begin() as session:
            order = await _order(session, record.order_no, lock=True)
            await session.execute(
                update(ReviewLevel)
                .where(
                    ReviewLevel.order_id == order.id, ReviewLevel.status.in_(["waiting", "pending"])
                )
                .values(status="cancelled")
            )
            await session.execute(
                update(WorkOrder)
                .where(WorkOrder.order_id == order.id, WorkOrder.status == "open")
                .values(status="cancelled")
            )
            shipment = (
                await session.scalars(
                    select(Shipment).where(
                        Shipment.order_id == order.id, Shipment.status == "booked"
                    )
                )
            ).one_or_none()
            if shipment is not None:
                await self.carrier.cancel(shipment.tracking_no)
                shipment.status = "cancelled"


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else min(current, candidate)
