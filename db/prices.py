"""The dated price list: which price a product sells at on a given day.

An entry of ``product_prices`` holds from its ``effective_from`` day until the next entry's
day. A product with no entry in effect on the day sells at its undated ``Product.unit_price``
(products created before the price list, or added straight to the table). Days are UTC days:
an order is priced on the UTC day it was entered.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Product, ProductPrice


def entry_day(at: datetime) -> date:
    """The day whose prices an order entered at ``at`` pays."""
    return at.astimezone(UTC).date()


async def prices_on(session: AsyncSession, skus: Collection[str], day: date) -> dict[str, Decimal]:
    """The price in effect on ``day`` of each known product among ``skus``."""
    if not skus:
        return {}
    # Oldest first, so each product's latest entry on or before the day is the one kept.
    entries = await session.execute(
        select(ProductPrice.sku, ProductPrice.unit_price)
        .where(ProductPrice.sku.in_(skus), ProductPrice.effective_from <= day)
        .order_by(ProductPrice.effective_from)
    )
    dated = {sku: price for sku, price in entries}
    undated = await session.execute(
        select(Product.sku, Product.unit_price).where(Product.sku.in_(skus))
    )
    return {sku: dated.get(sku, price) for sku, price in undated}
