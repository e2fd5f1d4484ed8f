"""The checks of an amendment, as validation checks an entry: the lines as amended and
priced, and whether the customer's credit allows the new total."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.amendments.inputs import AmendmentChanges
from activities.records import draws_on_credit
from db.models import Customer, Order, Product
from db.prices import entry_day, prices_on
from domain.amendments import LineVersion


async def amended_lines(
    session: AsyncSession, order: Order, changes: AmendmentChanges
) -> tuple[list[LineVersion], list[str]]:
    """The order's lines with the changes applied, priced; and every problem found."""
    problems: list[str] = []
    current = {line.line_no: line for line in order.lines}
    for line_no in [c.line_no for c in changes.change_lines] + changes.remove_lines:
        if line_no not in current:
            problems.append(f"the order has no line {line_no}")
    skus = {line.sku for line in order.lines} | {line.sku for line in changes.add_lines}
    products = {
        p.sku: p for p in await session.scalars(select(Product).where(Product.sku.in_(skus)))
    }
    list_prices = await prices_on(
        session, {sku for sku in skus if sku in products}, entry_day(order.created_at)
    )
    changed = {c.line_no: c for c in changes.change_lines}
    lines: list[LineVersion] = []
    for line in order.lines:
        if line.line_no in changes.remove_lines:
            continue
        change = changed.get(line.line_no)
        if change is None:
            lines.append(LineVersion(line.line_no, line.sku, line.quantity, line.unit_price))
            continue
        price = Decimal(change.unit_price) if change.unit_price is not None else line.unit_price
        if price is not None and change.unit_price is not None and price > list_prices[line.sku]:
            problems.append(
                f"line {line.line_no}: unit price {price} of {line.sku} is above the price "
                f"list ({list_prices[line.sku]})"
            )
        lines.append(LineVersion(line.line_no, line.sku, change.quantity, price))
    next_no = max(current, default=0) + 1
    for offset, new in enumerate(changes.add_lines):
        line_no = next_no + offset
        product = products.get(new.sku)
        if product is None or not product.active:
            problems.append(f"new line {line_no}: SKU {new.sku} is not sold")
            continue
        price = Decimal(new.unit_price) if new.unit_price is not None else list_prices[new.sku]
        if price > list_prices[new.sku]:
            problems.append(
                f"new line {line_no}: unit price {price} of {new.sku} is above the price list "
                f"({list_prices[new.sku]})"
            )
        lines.append(LineVersion(line_no, new.sku, new.quantity, price))
    if not lines and not problems:
        problems.append("an order keeps at least one line: cancel it instead")
    return lines, problems


async def credit_refusal(
    session: AsyncSession, order: Order, total: Decimal, *, lock: bool = False
) -> str | None:
    """Why the customer's credit does not allow ``total`` for this order, or None. Only a
    larger total is checked: an amendment that lowers the total never waits on credit."""
    if order.total is not None and total <= order.total:
        return None
    customer = await session.get_one(Customer, order.customer_id, with_for_update=lock)
    exposure = await session.scalar(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.customer_id == customer.id, Order.id != order.id, draws_on_credit()
        )
    )
    available = customer.credit_limit - Decimal(exposure or 0)
    if total > available:
        return (
            f"the amended total {total} exceeds the available credit {available} of customer "
            f"{customer.code} (limit {customer.credit_limit})"
        )
    return None
