"""Orders: what sales enters, and the order as everyone reads it, with its review,
production, stock, shipment and history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.approvals import ReviewPublic
from api.schemas.fulfilment import (
    ProductionPublic,
    ProductionRecordPublic,
    ShipmentPublic,
    StockMovementPublic,
)
from api.schemas.reference import StatusLabel
from api.schemas.types import (
    MAX_DELIVERY_LEAD_DAYS,
    MAX_ORDER_LINES,
    MAX_UNIT_PRICE,
    Quantity,
    SingleLine,
    StrictId,
    UnitPrice,
    in_delivery_window,
)


class OrderLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: SingleLine = Field(min_length=1, max_length=64)
    quantity: Quantity
    unit_price: UnitPrice | None = Field(
        default=None,
        description=f"CNY per unit with two decimals, at most {MAX_UNIT_PRICE:,}, so that "
        "quantity × price always fits an amount; leave out to take the price list's price.",
    )


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: StrictId
    lines: list[OrderLineCreate] = Field(
        min_length=1,
        max_length=MAX_ORDER_LINES,
        description="The order's total, at the prices given or else the list prices, must fit "
        "999,999,999,999.99.",
    )
    requested_delivery_date: Annotated[date, AfterValidator(in_delivery_window)] | None = Field(
        default=None,
        description="The day the customer wants the goods (YYYY-MM-DD): from today (UTC) up to "
        f"{MAX_DELIVERY_LEAD_DAYS} days ahead; on-time delivery is measured against it.",
    )


class OrderLinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal | None
    reserved_qty: int = Field(description="Units reserved from stock when the order was approved.")
    produce_qty: int = Field(description="Units production makes because stock was short.")


class HistoryPublic(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    at: datetime


class OrderSummary(BaseModel):
    order_no: str
    status: str
    status_label: StatusLabel
    held_from: str | None
    customer_id: int
    total: Decimal | None
    currency: str
    created_by: str
    created_at: datetime
    requested_delivery_date: date | None = Field(
        description="The day the customer asked to receive the goods; null when none."
    )


class OrderPublic(OrderSummary):
    lines: list[OrderLinePublic]
    rejection_reasons: list[str]
    review: ReviewPublic | None
    production: ProductionPublic | None
    production_records: list[ProductionRecordPublic]
    stock_movements: list[StockMovementPublic]
    shipment: ShipmentPublic | None
    history: list[HistoryPublic]
