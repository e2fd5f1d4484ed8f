"""Reading products, production lines and alerts from PostgreSQL for the API."""

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
    ProductionLine,
    WorkOrder,
)
from db.prices import entry_day, prices_on

# ---------------------------------------------------------------------------- reference data


async def products(
    session: AsyncSession, *, with_alerts: bool, sku: str | None = None
) -> list[schemas.ProductPublic]:
    """Products (or the one ``sku``) with their stock; ``with_alerts`` adds each one's
    low-stock alert, which names the order behind it, so customers do not get it."""
    query = select(Product).options(selectinload(Product.routing)).order_by(Product.sku)
    if sku is not None:
        query = query.where(Product.sku == sku)
    rows = list(await session.scalars(query))
    today_prices = await prices_on(session, [p.sku for p in rows], entry_day(datetime.now(UTC)))
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
            unit_price=today_prices[product.sku],
            active=product.active,
            category=product.category,
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


async def production_lines(
    session: AsyncSession, code: str | None = None
) -> list[schemas.ProductionLinePublic]:
    """Each line's (or the one ``code``'s) load: its open work orders in booking order and
    when it is free again."""
    now = datetime.now(UTC)
    query = select(ProductionLine).order_by(ProductionLine.code)
    if code is not None:
        query = query.where(ProductionLine.code == code)
    lines = list(await session.scalars(query))
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
