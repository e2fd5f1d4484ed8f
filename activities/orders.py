"""Order activities: the order's record and its status history in PostgreSQL.

Each method owns one transaction and is idempotent, because Temporal runs an activity again
when its worker died after the commit but before reporting back: a retry must find its work
done and write nothing twice (unique keys plus ``ON CONFLICT DO NOTHING``, or conditional
updates).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from activities.inputs import TransitionRecord, ValidationOutcome
from activities.records import draws_on_credit, lock_order, lock_order_row
from activities.review import plan_review
from activities.transitions import audit_transition, write_fault, write_transition
from db.models import Customer, Order, Product
from db.prices import entry_day, prices_on


class OrderActivities:
    """The order and its status history; built once by the worker."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn
    async def record_transition(self, record: TransitionRecord) -> None:
        """One status change, with the review level it opens and the notices it sends."""
        async with self.sessions.begin() as session:
            order = await lock_order_row(session, record.order_no)
            if await write_transition(session, order, record):
                await audit_transition(session, record)

    @activity.defn
    async def record_fault(self, record: TransitionRecord) -> None:
        """A fault on an order already on hold: ops is told and alerted, the status stays."""
        async with self.sessions.begin() as session:
            order = await lock_order_row(session, record.order_no)
            await write_fault(session, order, record)

    @activity.defn
    async def validate_order(self, order_no: str) -> ValidationOutcome:
        """Check the order against customers, products, prices and credit; fill missing
        prices; and for a valid order, choose its review by the approval policy.

        Prices come from the dated price list as it stood on the order's entry day, so an
        order entered before a price change pays the old price even if validated after it.

        Every problem is listed, not just the first, so sales can fix the order in one go.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, order_no, selectinload(Order.lines))
            # Validations of one customer's orders take turns, so two orders cannot both pass
            # on the same credit.
            customer = await session.get_one(Customer, order.customer_id, with_for_update=True)
            reasons: list[str] = []
            if not customer.active:
                reasons.append(f"customer {customer.code} is inactive")
            skus = {line.sku for line in order.lines}
            products = {
                p.sku: p
                for p in await session.scalars(select(Product).where(Product.sku.in_(skus)))
            }
            list_prices = await prices_on(session, skus, entry_day(order.created_at))
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
                list_price = list_prices[line.sku]
                if line.unit_price is None:
                    line.unit_price = list_price
                elif line.unit_price > list_price:
                    # Below the list price is a discount, which the approval policy weighs.
                    reasons.append(
                        f"{where}: unit price {line.unit_price} of {line.sku} is above the "
                        f"price list ({list_price})"
                    )
                line.amount = line.unit_price * line.quantity
                total += line.amount
            exposure = await session.scalar(
                select(func.coalesce(func.sum(Order.total), 0)).where(
                    Order.customer_id == customer.id,
                    Order.id != order.id,
                    draws_on_credit(),
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
            review = None
            if not reasons:
                await session.flush()
                review = await plan_review(session, order)
            return ValidationOutcome(
                ok=not reasons,
                reasons=reasons,
                total=str(total),
                customer_id=str(customer.id),
                review=review,
            )
