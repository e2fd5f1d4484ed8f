"""Stock activities: reserving on approval, shipping on dispatch, releasing on cancellation.

Each product row is locked (``SELECT ... FOR UPDATE``) while its quantities change, in SKU order
so that two orders never wait on each other in a cycle; the table's checks refuse anything
that would reserve more than is on hand. Every change is a ``stock_movements`` row whose key
names its cause, which makes each movement happen exactly once however often it is retried.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from activities.inputs import CancellationRecord, Compensation, LineAllocation, StockAllocation
from activities.outbox import write_notices
from activities.promises import promise_new_lines
from activities.records import lock_order
from db.models import Alert, Order, OrderLine, Product, StockMovement
from domain.notifications import low_stock_notice
from domain.promises import DEFAULT_SHIPPING_LEAD_DAYS
from domain.statuses import OrderStatus
from domain.stock import EFFECTS, MovementKind


async def lock_products(session: AsyncSession, skus: set[str]) -> dict[str, Product]:
    rows = await session.scalars(
        select(Product).where(Product.sku.in_(skus)).order_by(Product.sku).with_for_update()
    )
    return {product.sku: product for product in rows}


async def move_stock(
    session: AsyncSession,
    product: Product,
    *,
    key: str,
    kind: str,
    quantity: int,
    order_id: int | None,
    at: datetime | None = None,
    check_reorder_point: bool = True,
    actor: str | None = None,
    note: str | None = None,
) -> bool:
    """Record a movement and apply it to the (locked) product; False if it happened before.

    A caller that moves the same product twice in one go (made, then reserved at once) checks
    the reorder point after the second movement only: between the two, available stock is
    briefly higher than anyone could ever see. ``actor`` and ``note`` are for movements people
    book by hand (receipts, counts): who, and the delivery note or the reason.
    """
    if quantity <= 0:
        return False
    try:
        on_hand_sign, reserved_sign = EFFECTS[MovementKind(kind)]
    except ValueError:
        raise ValueError(f"unknown stock movement {kind}") from None
    inserted = await session.scalar(
        insert(StockMovement)
        .values(
            key=key,
            sku=product.sku,
            order_id=order_id,
            kind=kind,
            quantity=quantity,
            actor=actor,
            note=note,
            **({"at": at} if at else {}),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(StockMovement.id)
    )
    if inserted is None:
        return False
    product.stock_on_hand += on_hand_sign * quantity
    product.stock_reserved += reserved_sign * quantity
    await session.flush()  # the table's checks speak now, inside this movement's transaction
    if check_reorder_point:
        await _check_reorder_point(session, product, key, order_id)
    return True


async def _check_reorder_point(
    session: AsyncSession, product: Product, cause: str, order_id: int | None
) -> None:
    """Raise a low-stock alert when available stock drops below the reorder point; once per
    dip: the alert re-arms when available stock is back at or above the point."""
    if product.available < product.reorder_point:
        if product.low_stock_since is None:
            # One moment for both: the order book counts a dip's alert as open from the moment
            # the dip began (api/overview.py), and PostgreSQL's now() is the transaction's start.
            dipped_at = datetime.now(UTC)
            product.low_stock_since = dipped_at
            session.add(
                Alert(
                    at=dipped_at,
                    key=f"low-stock:{cause}",
                    kind="low_stock",
                    sku=product.sku,
                    order_id=order_id,
                    message=(
                        f"{product.sku}: {product.available} available, below the reorder "
                        f"point of {product.reorder_point}"
                    ),
                )
            )
    elif product.low_stock_since is not None:
        product.low_stock_since = None


async def reserved_for_order(session: AsyncSession, order_id: int) -> dict[str, int]:
    """Units each product holds reserved for the order, rebuilt from its movements."""
    signed = case(
        (StockMovement.kind == "reserve", StockMovement.quantity),
        (StockMovement.kind.in_(["release", "ship"]), -StockMovement.quantity),
        else_=0,
    )
    rows = await session.execute(
        select(StockMovement.sku, func.sum(signed))
        .where(StockMovement.order_id == order_id)
        .group_by(StockMovement.sku)
    )
    return {sku: int(total) for sku, total in rows if total}


class StockActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        shipping_lead_days: int = DEFAULT_SHIPPING_LEAD_DAYS,
    ) -> None:
        self.sessions = sessions
        self.shipping_lead_days = shipping_lead_days

    @activity.defn
    async def reserve_stock(self, order_no: str) -> StockAllocation:
        """Reserve what is available for each line, in line order; the rest is to be made.

        A product this leaves below its reorder point raises an alert, and ops and production
        are told. A line served wholly from stock is promised now plus the shipping lead time
        (the others once their work orders are booked). Run again for the same order it
        changes nothing and answers the same allocation.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, order_no, selectinload(Order.lines))
            products = await lock_products(session, {line.sku for line in order.lines})
            allocations: list[LineAllocation] = []
            for line in order.lines:
                # A line is allocated once: its quantities are set in the same transaction.
                if line.reserved_qty + line.produce_qty == 0:
                    product = products[line.sku]
                    take = min(line.quantity, max(product.available, 0))
                    await move_stock(
                        session,
                        product,
                        key=f"{order_no}:reserve:{line.line_no}",
                        kind="reserve",
                        quantity=take,
                        order_id=order.id,
                    )
                    line.reserved_qty = take
                    line.produce_qty = line.quantity - take
                allocations.append(allocation_of(line))
            await promise_new_lines(session, order, lead_days=self.shipping_lead_days)
            raised = await session.scalars(
                select(Alert.sku)
                .where(Alert.key.startswith(f"low-stock:{order_no}:reserve:"))
                .distinct()
            )
            low_stock = sorted(sku for sku in raised if sku)
            # Reservation happens on approval, which is the status the notice reports.
            notices = [low_stock_notice(order_no, OrderStatus.APPROVED, sku) for sku in low_stock]
            await write_notices(session, notices, order)
            return StockAllocation(allocations, low_stock=low_stock)

    @activity.defn
    async def release_stock(self, record: CancellationRecord) -> Compensation:
        """Compensation: give back every unit still reserved for the order, once."""
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            held = await reserved_for_order(session, order.id)
            products = await lock_products(session, set(held))
            released: dict[str, int] = defaultdict(int)
            for sku, quantity in sorted(held.items()):
                moved = await move_stock(
                    session,
                    products[sku],
                    key=f"{record.order_no}:release:{sku}",
                    kind="release",
                    quantity=quantity,
                    order_id=order.id,
                )
                if moved:
                    released[sku] += quantity
            if not released:
                return Compensation("no reserved stock to release")
            listed = ", ".join(f"{qty} × {sku}" for sku, qty in released.items())
            return Compensation(f"released {listed} back to stock")


def allocation_of(line: OrderLine) -> LineAllocation:
    return LineAllocation(
        line_no=line.line_no,
        sku=line.sku,
        quantity=line.quantity,
        reserved=line.reserved_qty,
        to_produce=line.produce_qty,
    )
