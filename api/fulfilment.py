"""Reading stock, production and logistics from PostgreSQL for the API."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from api import schemas
from db.models import (
    Alert,
    Order,
    Product,
    ProductionEvent,
    ProductionLine,
    Shipment,
    StockMovement,
    WorkOrder,
)
from domain.progress import WorkOrderFacts, production_progress

# ---------------------------------------------------------------------------- the order


async def production_section(
    session: AsyncSession, order: Order
) -> schemas.ProductionPublic | None:
    work_orders = list(
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.order_id == order.id)
            .options(selectinload(WorkOrder.steps))
            .order_by(WorkOrder.seq)
        )
    )
    if not work_orders:
        return None
    shown = [_work_order_public(wo) for wo in work_orders]
    progress = production_progress(
        WorkOrderFacts(
            [step.status for step in wo.steps],
            wo.planned_finish,
            wo.finished_at,
            cancelled=wo.status == "cancelled",
        )
        for wo in work_orders
    )
    first = shown[0]
    return schemas.ProductionPublic(
        work_order_no=first.work_order_no,
        line=first.line,
        status=first.status,
        steps=first.steps,
        progress=schemas.ProgressPublic(**vars(progress)),
        work_orders=shown,
    )


def _work_order_public(work_order: WorkOrder) -> schemas.WorkOrderPublic:
    return schemas.WorkOrderPublic(
        work_order_no=work_order.work_order_no,
        sku=work_order.sku,
        quantity=work_order.quantity,
        line=work_order.line,
        status=work_order.status,
        planned_start=work_order.planned_start,
        planned_finish=work_order.planned_finish,
        finished_at=work_order.finished_at,
        produced_qty=work_order.produced_qty,
        replan_of=work_order.replan_of,
        overdue=work_order.overdue_at is not None,
        cancelled_at=work_order.cancelled_at,
        steps=[
            schemas.StepPublic(
                name=step.name,
                status=step.status,
                good_qty=step.good_qty,
                scrap_qty=step.scrap_qty,
                planned_start=step.planned_start,
                planned_finish=step.planned_finish,
                started_at=step.started_at,
                completed_at=step.completed_at,
            )
            for step in work_order.steps
        ],
    )


async def production_records(
    session: AsyncSession, order: Order
) -> list[schemas.ProductionRecordPublic]:
    rows = await session.execute(
        select(ProductionEvent, WorkOrder.work_order_no)
        .outerjoin(WorkOrder, WorkOrder.id == ProductionEvent.work_order_id)
        .where(ProductionEvent.order_id == order.id)
        .order_by(ProductionEvent.at, ProductionEvent.id)
    )
    return [
        schemas.ProductionRecordPublic(
            work_order_no=work_order_no,
            step=event.step,
            event=event.event,
            good_qty=event.good_qty,
            scrap_qty=event.scrap_qty,
            note=event.note,
            reported_by=event.reported_by,
            at=event.at,
        )
        for event, work_order_no in rows
    ]


async def stock_movements(session: AsyncSession, order: Order) -> list[schemas.StockMovementPublic]:
    rows = await session.scalars(
        select(StockMovement)
        .where(StockMovement.order_id == order.id)
        .order_by(StockMovement.at, StockMovement.id)
    )
    return [schemas.StockMovementPublic.model_validate(row) for row in rows]


async def shipment_section(session: AsyncSession, order: Order) -> schemas.ShipmentPublic | None:
    shipment = (
        await session.scalars(
            select(Shipment)
            .where(Shipment.order_id == order.id)
            .options(selectinload(Shipment.events))
        )
    ).one_or_none()
    if shipment is None:
        return None
    return schemas.ShipmentPublic(
        carrier=shipment.carrier,
        tracking_no=shipment.tracking_no,
        status=shipment.status,
        booked_at=shipment.booked_at,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
        cancelled_at=shipment.cancelled_at,
        events=[
            schemas.TrackingEventPublic(
                status=event.status,
                location=event.location,
                detail=event.detail,
                occurred_at=event.occurred_at,
            )
            for event in shipment.events
        ],
    )


# ---------------------------------------------------------------------------- reference data


async def products(session: AsyncSession, *, with_alerts: bool) -> list[schemas.ProductPublic]:
    """Products with their stock; ``with_alerts`` adds each one's low-stock alert, which names
    the order behind it, so customers do not get it."""
    rows = list(
        await session.scalars(
            select(Product).options(selectinload(Product.routing)).order_by(Product.sku)
        )
    )
    # The alert of each product's current dip below its reorder point.
    alerts: dict[str, schemas.AlertPublic] = {}
    dipped = [p.sku for p in rows if p.low_stock_since is not None and with_alerts]
    if dipped:
        for alert, order_no in await session.execute(
            select(Alert, Order.order_no)
            .outerjoin(Order, Order.id == Alert.order_id)
            .where(Alert.kind == "low_stock", Alert.sku.in_(dipped))
            .order_by(Alert.at, Alert.id)
        ):
            assert alert.sku is not None
            alerts[alert.sku] = _alert_public(alert, order_no)
    return [
        schemas.ProductPublic(
            sku=product.sku,
            name=product.name,
            unit_price=product.unit_price,
            active=product.active,
            stock_on_hand=product.stock_on_hand,
            stock_reserved=product.stock_reserved,
            stock_available=product.available,
            reorder_point=product.reorder_point,
            # From the numbers: also true for stock that starts out below the point.
            low_stock=product.available < product.reorder_point,
            low_stock_alert=alerts.get(product.sku),
            line_codes=list(product.line_codes),
            routing=[schemas.RoutingStepPublic.model_validate(step) for step in product.routing],
        )
        for product in rows
    ]


async def production_lines(session: AsyncSession) -> list[schemas.ProductionLinePublic]:
    """Each line's load: its open work orders in booking order and when it is free again."""
    now = datetime.now(UTC)
    lines = list(await session.scalars(select(ProductionLine).order_by(ProductionLine.code)))
    queued: dict[str, list[tuple[WorkOrder, str]]] = defaultdict(list)
    for work_order, order_no in await session.execute(
        select(WorkOrder, Order.order_no)
        .join(Order, Order.id == WorkOrder.order_id)
        .where(WorkOrder.status == "open")
        .order_by(WorkOrder.planned_start.nulls_last(), WorkOrder.id)
    ):
        queued[work_order.line].append((work_order, order_no))
    shown = []
    for line in lines:
        queue = queued.get(line.code, [])
        finishes = [wo.planned_finish for wo, _ in queue if wo.planned_finish]
        free_from = max([now, *finishes])
        shown.append(
            schemas.ProductionLinePublic(
                code=line.code,
                name=line.name,
                units_per_hour=line.units_per_hour,
                active=line.active,
                open_work_orders=len(queue),
                queued_units=sum(wo.quantity for wo, _ in queue),
                booked_hours=round((free_from - now).total_seconds() / 3600, 2),
                free_from=free_from,
                queue=[
                    schemas.QueuedWorkOrderPublic(
                        work_order_no=wo.work_order_no,
                        order_no=order_no,
                        sku=wo.sku,
                        quantity=wo.quantity,
                        planned_start=wo.planned_start,
                        planned_finish=wo.planned_finish,
                        overdue=wo.overdue_at is not None,
                    )
                    for wo, order_no in queue
                ],
            )
        )
    return shown


async def alerts(session: AsyncSession, kind: str | None, limit: int) -> list[schemas.AlertPublic]:
    query = (
        select(Alert, Order.order_no)
        .outerjoin(Order, Order.id == Alert.order_id)
        .order_by(Alert.at.desc(), Alert.id.desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(Alert.kind == kind)
    return [_alert_public(alert, order_no) for alert, order_no in await session.execute(query)]


def _alert_public(alert: Alert, order_no: str | None) -> schemas.AlertPublic:
    return schemas.AlertPublic(
        kind=alert.kind, sku=alert.sku, order_no=order_no, message=alert.message, at=alert.at
    )
