"""Orders: what sales enters, and the order as everyone reads it, with its review,
production, stock, shipment and history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.approvals import ReviewPublic
from api.schemas.examples import (
    HISTORY_EXAMPLE,
    ORDER_EXAMPLE,
    ORDER_LINES_EXAMPLE,
    ORDER_SUMMARY_EXAMPLE,
)
from api.schemas.fulfilment import (
    ProductionPublic,
    ProductionRecordPublic,
    ShipmentPublic,
    StockMovementPublic,
)
from api.schemas.reference import StatusLabel
from api.schemas.shipping import OrderShipmentPublic
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
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sku": "PUMP-100", "quantity": 50},
                {"sku": "VALVE-25", "quantity": 20, "unit_price": "115.00"},
            ]
        },
    )

    sku: SingleLine = Field(min_length=1, max_length=64)
    quantity: Quantity
    unit_price: UnitPrice | None = Field(
        default=None,
        description=f"CNY per unit with two decimals, at most {MAX_UNIT_PRICE:,}, so that "
        "quantity × price always fits an amount; leave out to take the price list's price.",
    )


class NewOrder(BaseModel):
    """What an order is entered with once a template is resolved: the service's input."""

    customer_id: int
    lines: list[OrderLineCreate]
    requested_delivery_date: date | None = None


class OrderCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": 1,
                    "lines": [
                        {"sku": "PUMP-100", "quantity": 50},
                        {"sku": "VALVE-25", "quantity": 20},
                    ],
                },
                {
                    "customer_id": 2,
                    "lines": [{"sku": "MOTOR-7K", "quantity": 2, "unit_price": "6200.00"}],
                },
                {"template_id": 7, "requested_delivery_date": "2027-01-15"},
            ]
        },
    )

    customer_id: StrictId | None = Field(
        default=None,
        description="Whose order it is: required, unless `template_id` is given (then left out).",
    )
    lines: list[OrderLineCreate] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ORDER_LINES,
        description="The order's total, at the prices given or else the list prices, must fit "
        "999,999,999,999.99. Required, unless `template_id` is given: then leave out to take "
        "the template's lines, or give them to order these instead.",
    )
    requested_delivery_date: Annotated[date, AfterValidator(in_delivery_window)] | None = Field(
        default=None,
        description="The day the customer wants the goods (YYYY-MM-DD): from today (UTC) up to "
        f"{MAX_DELIVERY_LEAD_DAYS} days ahead; on-time delivery is measured against it.",
    )
    template_id: StrictId | None = Field(
        default=None,
        description="Enter the order from this order template: its customer and lines, "
        "`lines` and `requested_delivery_date` given here taking their place.",
    )


class OrderLinePublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [ORDER_LINES_EXAMPLE[0]]}
    )

    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal | None
    reserved_qty: int = Field(description="Units reserved from stock when the order was approved.")
    produce_qty: int = Field(description="Units production makes because stock was short.")
    promised_date: date | None = Field(
        default=None,
        description="The day the line is promised to reach the customer (UTC): on approval, "
        "today or the planned finish of its work orders, plus the shipping lead time; moved "
        "when a re-plan can no longer keep it. Null before approval.",
    )
    ready_qty: int = Field(
        default=0, description="Units ready to ship: reserved from stock, or made for the line."
    )
    shipped_qty: int = Field(default=0, description="Units handed to the carrier.")
    delivered_qty: int = Field(default=0, description="Units the carrier reported delivered.")
    state: str | None = Field(
        default=None,
        description="pending (before approval), reserved, in_production, ready, "
        "partially_shipped, shipped, delivered; backorder_cancelled when what had not shipped "
        "was cancelled.",
    )


class HistoryPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [HISTORY_EXAMPLE[5]]})

    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    at: datetime


class OrderSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_SUMMARY_EXAMPLE]})

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
    archived_at: datetime | None = Field(
        default=None,
        description="When the order was archived (closed longer than ARCHIVE_AFTER): it is "
        "read-only and listed only with `archived=true`; null while it is not.",
    )


class OrderPublic(OrderSummary):
    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE]})

    lines: list[OrderLinePublic]
    rejection_reasons: list[str]
    version: int = Field(
        default=1, description="1 as entered; each amendment makes the next (`.../versions`)."
    )
    notes: str | None = Field(default=None, description="Notes for everyone handling the order.")
    review: ReviewPublic | None
    production: ProductionPublic | None
    production_records: list[ProductionRecordPublic]
    stock_movements: list[StockMovementPublic]
    shipment: ShipmentPublic | None = Field(
        description="The latest shipment (kept for clients that know one shipment per "
        "order); every one is in `shipments`."
    )
    shipments: list[OrderShipmentPublic] = Field(default_factory=list)
    partially_shipped: bool = Field(
        default=False,
        description="Some units shipped, others are still to ship (a backorder).",
    )
    backorder_cancelled_at: datetime | None = Field(
        default=None,
        description="When a cancellation after a partial shipment cancelled what had not "
        "shipped; what shipped goes on to delivery.",
    )
    history: list[HistoryPublic]
