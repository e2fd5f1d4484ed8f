"""Fulfilment follows an amendment: an order amended after approval has its stock and work
orders brought in line with its amended lines, in the amendment's own transaction.

Per product, what the order needs is covered in this order, each source used before the next:
units it already shipped (a per-line order may have shipped part of it), units it holds
reserved (made by its finished work orders, or from stock), units still available in stock,
its open work orders (in the order they were booked), and a new work order for the rest. What
is no longer needed goes back: made or reserved units surplus to the amended order are
released to stock, and open work orders not needed are cancelled (what they did stays in their
steps). Each movement's key names the version, so a retried amendment moves stock once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from activities.inputs import StockAllocation, WorkOrderPlan
from activities.production import book_work_order, plan_of
from activities.stock import allocation_of, lock_products, move_stock, reserved_for_order
from db.models import Order, StockMovement, WorkOrder


@dataclass
class Realignment:
    """What the amendment did to fulfilment: the lines' allocation as it stands now, the work
    orders it booked, and those it cancelled."""

    allocation: StockAllocation
    new_work_orders: list[WorkOrderPlan] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    released: dict[str, int] = field(default_factory=dict)
    reserved: dict[str, int] = field(default_factory=dict)


async def shipped_for_order(session: AsyncSession, order_id: int) -> dict[str, int]:
    """Units of each product the order shipped, from its stock movements."""
    rows = await session.execute(
        select(StockMovement.sku, func.sum(StockMovement.quantity))
        .where(StockMovement.order_id == order_id, StockMovement.kind == "ship")
        .group_by(StockMovement.sku)
    )
    return {sku: int(total) for sku, total in rows}


async def realign_fulfilment(
    session: AsyncSession, order: Order, version: int, at: datetime
) -> Realignment:
    """Bring the (locked) order's stock and work orders in line with its lines, which the
    amendment has just written."""
    order_no = order.order_no
    shipped = await shipped_for_order(session, order.id)
    need: dict[str, int] = defaultdict(int)
    for line in order.lines:
        need[line.sku] += line.quantity
    for sku, units in shipped.items():
        need[sku] = max(need[sku] - units, 0)
    work_orders = list(
        await session.scalars(
            select(WorkOrder)
            .where(WorkOrder.order_id == order.id)
            .options(selectinload(WorkOrder.steps))
            .order_by(WorkOrder.seq)
        )
    )
    held = await reserved_for_order(session, order.id)
    products = await lock_products(session, set(need) | set(held))
    result = Realignment(allocation=StockAllocation(lines=[]))
    from_stock_units: dict[str, int] = {}
    next_seq = max((wo.seq for wo in work_orders), default=0) + 1
    for sku in sorted(set(need) | set(held)):
        product = products[sku]
        made = sum(
            wo.produced_qty for wo in work_orders if wo.sku == sku and wo.status == "completed"
        )
        # Held units are made or from stock alike: the order keeps what it still needs.
        remaining = need.get(sku, 0)
        keep = min(held.get(sku, 0), remaining)
        remaining -= keep
        surplus = held.get(sku, 0) - keep
        if await move_stock(
            session,
            product,
            key=f"{order_no}:v{version}:release:{sku}",
            kind="release",
            quantity=surplus,
            order_id=order.id,
            at=at,
        ):
            result.released[sku] = surplus
        take = min(max(product.available, 0), remaining)
        if await move_stock(
            session,
            product,
            key=f"{order_no}:v{version}:reserve:{sku}",
            kind="reserve",
            quantity=take,
            order_id=order.id,
            at=at,
        ):
            result.reserved[sku] = take
        remaining -= take
        for work_order in (wo for wo in work_orders if wo.sku == sku and wo.status == "open"):
            if work_order.quantity <= remaining:
                remaining -= work_order.quantity
                continue
            work_order.status = "cancelled"
            work_order.cancelled_at = at
            result.cancelled.append(work_order.work_order_no)
        if remaining > 0:
            booked = await book_work_order(
                session, order, seq=next_seq, sku=sku, quantity=remaining
            )
            next_seq += 1
            result.new_work_orders.append(plan_of(booked))
        # Units covered now (shipped, kept, reserved) that its finished work orders did not
        # make came from stock.
        covered = shipped.get(sku, 0) + keep + take
        from_stock_units[sku] = covered - min(made, covered)
    # Stock covers the lines in line order; the rest of each line is made.
    for line in order.lines:
        pool = from_stock_units.get(line.sku, 0)
        line.reserved_qty = min(line.quantity, pool)
        line.produce_qty = line.quantity - line.reserved_qty
        from_stock_units[line.sku] = pool - line.reserved_qty
        result.allocation.lines.append(allocation_of(line))
    await session.flush()
    return result
