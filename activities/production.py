"""Production activities: booking work orders on lines, shop-floor records, overdue alerts.

Booking locks every candidate line row first, so two work orders scheduled at the same moment
see each other's bookings and never plan the same hours of a line twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.inputs import (
    CancellationRecord,
    Compensation,
    OverdueNotice,
    ProductionEventRecord,
    ReplanRequest,
    StepPlan,
    WorkOrderPlan,
)
from activities.outbox import write_notices
from activities.promises import move_promises, promise_new_lines
from activities.records import find_order, lock_order
from activities.stock import move_stock
from db.models import (
    Alert,
    Order,
    Product,
    ProductionEvent,
    ProductionLine,
    WorkOrder,
    WorkOrderStep,
)
from domain.promises import DEFAULT_SHIPPING_LEAD_DAYS
from domain.scheduling import LineCalendar, earliest_booking

DEFAULT_ROUTING = ["prepare", "assemble", "inspect"]
DEFAULT_MINUTES_PER_UNIT = Decimal(10)


def plan_of(work_order: WorkOrder) -> WorkOrderPlan:
    return WorkOrderPlan(
        work_order_no=work_order.work_order_no,
        line=work_order.line,
        steps=[step.name for step in work_order.steps],
        seq=work_order.seq,
        sku=work_order.sku,
        quantity=work_order.quantity,
        planned_start=work_order.planned_start,
        planned_finish=work_order.planned_finish,
        step_plans=[
            StepPlan(step.name, step.planned_start, step.planned_finish)
            for step in work_order.steps
        ],
        replan_of=work_order.replan_of,
    )


async def _work_orders(session: AsyncSession, order_id: int) -> list[WorkOrder]:
    return list(
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.order_id == order_id)
            .options(selectinload(WorkOrder.steps))
            .order_by(WorkOrder.seq)
        )
    )


async def _next_work_order_no(session: AsyncSession, order: Order) -> str:
    number = await session.scalar(text("SELECT nextval('work_order_no_seq')"))
    return f"WO-{order.created_at.year}-{number:06d}"


async def book_work_order(
    session: AsyncSession,
    order: Order,
    *,
    seq: int,
    sku: str,
    quantity: int,
    replan_of: str | None = None,
) -> WorkOrder:
    """Create a work order for ``quantity`` of ``sku`` on the line that finishes it first."""
    product = (
        await session.scalars(
            select(Product).where(Product.sku == sku).options(selectinload(Product.routing))
        )
    ).one()
    query = select(ProductionLine).where(ProductionLine.active.is_(True))
    if product.line_codes:
        query = query.where(ProductionLine.code.in_(product.line_codes))
    lines = list(await session.scalars(query.order_by(ProductionLine.code).with_for_update()))
    if not lines:
        # Retried until ops activates a line that can make the product.
        raise ApplicationError(f"no active production line can make {sku}")
    booked = await session.execute(
        select(WorkOrder.line, func.max(WorkOrder.planned_finish))
        .where(WorkOrder.status == "open", WorkOrder.line.in_([li.code for li in lines]))
        .group_by(WorkOrder.line)
    )
    booked_until = {code: finish for code, finish in booked}
    routing = [(step.name, step.minutes_per_unit) for step in product.routing] or [
        (name, DEFAULT_MINUTES_PER_UNIT) for name in DEFAULT_ROUTING
    ]
    booking = earliest_booking(
        [LineCalendar(li.code, li.units_per_hour, booked_until.get(li.code)) for li in lines],
        quantity,
        routing,
        now=datetime.now(UTC),
    )
    work_order = WorkOrder(
        work_order_no=await _next_work_order_no(session, order),
        order_id=order.id,
        seq=seq,
        sku=sku,
        quantity=quantity,
        line=booking.line,
        status="open",
        planned_start=booking.start,
        planned_finish=booking.finish,
        replan_of=replan_of,
        steps=[
            WorkOrderStep(
                seq=i,
                name=window.name,
                status="pending",
                planned_start=window.start,
                planned_finish=window.finish,
            )
            for i, window in enumerate(booking.steps, start=1)
        ],
    )
    session.add(work_order)
    await session.flush()
    return work_order


class ProductionActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        shipping_lead_days: int = DEFAULT_SHIPPING_LEAD_DAYS,
    ) -> None:
        self.sessions = sessions
        self.shipping_lead_days = shipping_lead_days

    @activity.defn
    async def plan_production(self, order_no: str) -> list[WorkOrderPlan]:
        """One work order per product the order is short of, each booked on its best line.

        Each line production makes is promised at its product's planned finish plus the
        shipping lead time.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, order_no, selectinload(Order.lines))
            existing = await _work_orders(session, order.id)
            if existing:
                return [plan_of(work_order) for work_order in existing]
            short: dict[str, int] = defaultdict(int)
            for line in order.lines:
                short[line.sku] += line.produce_qty
            plans = []
            for seq, (sku, quantity) in enumerate(
                ((sku, qty) for sku, qty in short.items() if qty > 0), start=1
            ):
                work_order = await book_work_order(
                    session, order, seq=seq, sku=sku, quantity=quantity
                )
                plans.append(plan_of(work_order))
            await promise_new_lines(session, order, lead_days=self.shipping_lead_days)
            return plans

    @activity.defn
    async def replan_production(self, request: ReplanRequest) -> WorkOrderPlan:
        """Book another work order for the units scrap left missing; once per ``seq``.

        When the new plan finishes the product too late for a line's promise, the promise
        moves and the customer is told the old and the new date, in the same transaction.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, request.order_no)
            for work_order in await _work_orders(session, order.id):
                if work_order.seq == request.seq:
                    return plan_of(work_order)
            work_order = await book_work_order(
                session,
                order,
                seq=request.seq,
                sku=request.sku,
                quantity=request.quantity,
                replan_of=request.replan_of,
            )
            await move_promises(
                session,
                order,
                lead_days=self.shipping_lead_days,
                cause=f"replan-{request.seq}",
                why=(
                    f"{request.quantity} unit(s) scrapped on {request.replan_of} are made again "
                    f"by {work_order.work_order_no}"
                ),
            )
            return plan_of(work_order)

    @activity.defn
    async def record_production(self, record: ProductionEventRecord) -> None:
        """A shop-floor record: who, when, which step, good and scrap units, a note.

        When it finishes the work order, the good units go into stock, reserved for the order.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            work_order = (
                await session.scalars(
                    select(WorkOrder)
                    .where(WorkOrder.work_order_no == record.work_order_no)
                    .options(selectinload(WorkOrder.steps))
                )
            ).one()
            if not await _add_event(session, order, work_order, record):
                return
            index = next(i for i, s in enumerate(work_order.steps) if s.name == record.step)
            _apply_report(work_order.steps[index], record)
            if record.skips_remaining_steps:
                for later in work_order.steps[index + 1 :]:
                    later.status = "skipped"
            if record.finishes_work_order:
                await _finish_work_order(session, order, work_order, record)

    @activity.defn
    async def flag_overdue(self, notice: OverdueNotice) -> None:
        """A work order missed its planned finish: mark it, raise one alert, tell people."""
        async with self.sessions.begin() as session:
            order = await find_order(session, notice.order_no)
            await session.execute(
                update(WorkOrder)
                .where(
                    WorkOrder.work_order_no == notice.work_order_no,
                    WorkOrder.overdue_at.is_(None),
                )
                .values(overdue_at=notice.at)
            )
            await session.execute(
                insert(Alert)
                .values(
                    key=f"overdue:{notice.work_order_no}",
                    kind="production_overdue",
                    order_id=order.id,
                    message=(
                        f"{notice.work_order_no} of {notice.order_no} is past its planned "
                        f"finish {notice.planned_finish.isoformat(timespec='minutes')}"
                    ),
                    at=notice.at,
                )
                .on_conflict_do_nothing(index_elements=["key"])
            )
            await write_notices(session, notice.notices, order)

    @activity.defn
    async def cancel_production(self, record: CancellationRecord) -> Compensation:
        """Compensation: cancel the order's open work orders, freeing their line time.

        Units already finished went into stock when their work order finished; releasing the
        order's reservations returns them to available stock. What an open work order had done
        stays in its steps and production records.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            cancelled: list[str] = []
            for work_order in await _work_orders(session, order.id):
                if work_order.status != "open":
                    continue
                work_order.status = "cancelled"
                work_order.cancelled_at = record.at
                done = sum(step.status == "completed" for step in work_order.steps)
                cancelled.append(
                    f"{work_order.work_order_no} ({done}/{len(work_order.steps)} steps done)"
                )
            finished = await session.scalar(
                select(func.coalesce(func.sum(WorkOrder.produced_qty), 0)).where(
                    WorkOrder.order_id == order.id
                )
            )
            parts = [f"cancelled {', '.join(cancelled)}"] if cancelled else []
            if finished:
                parts.append(f"{finished} unit(s) already made stay in stock")
            return Compensation("; ".join(parts) or "no open work order to cancel")


async def _add_event(
    session: AsyncSession, order: Order, work_order: WorkOrder, record: ProductionEventRecord
) -> bool:
    """Store the report as received; False when this event id was stored before."""
    inserted = await session.scalar(
        insert(ProductionEvent)
        .values(
            event_id=record.event_id,
            order_id=order.id,
            work_order_id=work_order.id,
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
    return inserted is not None


def _apply_report(step: WorkOrderStep, record: ProductionEventRecord) -> None:
    step.started_at = step.started_at or record.at
    if record.event == "started":
        step.status = "started"
        return
    step.good_qty = record.step_good if record.step_good is not None else record.good_qty or 0
    step.scrap_qty = record.step_scrap if record.step_scrap is not None else record.scrap_qty or 0
    if record.completes_step:
        step.status = "completed"
        step.completed_at = record.at
    else:
        step.status = "started"


async def _finish_work_order(
    session: AsyncSession, order: Order, work_order: WorkOrder, record: ProductionEventRecord
) -> None:
    """Close the work order; its good units enter stock and are reserved for the order."""
    work_order.status = "completed"
    work_order.finished_at = record.at
    work_order.produced_qty = record.produced_qty
    if record.produced_qty <= 0 or work_order.sku is None:
        return
    product = (
        await session.scalars(
            select(Product).where(Product.sku == work_order.sku).with_for_update()
        )
    ).one()
    for kind in ("produce", "reserve"):
        await move_stock(
            session,
            product,
            key=f"{work_order.work_order_no}:{kind}",
            kind=kind,
            quantity=record.produced_qty,
            order_id=order.id,
            at=record.at,
            check_reorder_point=kind == "reserve",
        )
