"""Bounds on an order as a whole that its fields alone cannot say.

Each line fits on its own (see ``api/schemas/types.py``), but up to 200 of them may add up to
more than an order's total can hold, and a line without a price takes the list price, which
only the database knows. Refused here, before anything is written, the order never reaches
a validation that could not store its total.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from api import schemas
from api.errors import InvalidRequest
from api.schemas.types import MONEY_MAX
from db.prices import entry_day, prices_on


async def ensure_total_fits(session: AsyncSession, body: schemas.NewOrder) -> None:
    """Refuse (422) an order whose total, at the prices given or else the list prices, is
    more than the total column holds. Unknown products count as zero: validation rejects
    them with its own reason."""
    unpriced = {line.sku for line in body.lines if line.unit_price is None}
    list_prices: dict[str, Decimal] = {}
    if unpriced:
        list_prices = await prices_on(session, unpriced, entry_day(datetime.now(UTC)))
    total = sum(
        (
            line.quantity
            * (line.unit_price if line.unit_price is not None else list_prices.get(line.sku, 0))
            for line in body.lines
        ),
        Decimal(0),
    )
    if total > MONEY_MAX:
        raise InvalidRequest(
            f"the order's total would be {total:,}; an order holds at most {MONEY_MAX:,}"
        )
