"""Stock booked by hand: goods receipts, stock counts, the movement ledger and its check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from api.schemas.types import INT32_MAX, FreeText, Quantity, SingleLine, StrictCount

Sku = Annotated[SingleLine, Field(min_length=1, max_length=64, examples=["PUMP-100"])]
MovementKindName = Literal[
    "opening", "receipt", "count_gain", "count_loss", "reserve", "release", "produce", "ship"
]

RECEIPT_MOVEMENT_EXAMPLE: JsonDict = {
    "id": 812,
    "at": "2026-12-01T08:14:03Z",
    "sku": "PUMP-100",
    "kind": "receipt",
    "quantity": 40,
    "on_hand_change": 40,
    "reserved_change": 0,
    "order_no": None,
    "actor": "log1",
    "note": "DN-4471 from Shenzhen Pumps",
}
COUNT_MOVEMENT_EXAMPLE: JsonDict = {
    "id": 815,
    "at": "2026-12-01T17:40:12Z",
    "sku": "VALVE-25",
    "kind": "count_loss",
    "quantity": 2,
    "on_hand_change": -2,
    "reserved_change": 0,
    "order_no": None,
    "actor": "ops1",
    "note": "year-end count: two valves damaged",
}
ORDER_MOVEMENT_EXAMPLE: JsonDict = {
    "id": 790,
    "at": "2026-11-30T09:02:10Z",
    "sku": "PUMP-100",
    "kind": "reserve",
    "quantity": 40,
    "on_hand_change": 0,
    "reserved_change": 40,
    "order_no": "SO-2026-000123",
    "actor": None,
    "note": None,
}


class StockReceiptCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"sku": "PUMP-100", "quantity": 40, "reference": "DN-4471"}]
        },
    )

    sku: Sku
    quantity: Quantity
    reference: SingleLine = Field(
        min_length=1,
        max_length=200,
        description="What the goods came with: a delivery note, a purchase order number.",
    )


class StockAdjustmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sku": "VALVE-25",
                    "counted_quantity": 118,
                    "reason": "year-end count: two valves damaged",
                }
            ]
        },
    )

    sku: Sku
    counted_quantity: StrictCount = Field(
        description="Units counted on the shelf: the books are set to this, never below what "
        "orders hold reserved."
    )
    reason: FreeText = Field(min_length=1, max_length=500, description="Why the count differs.")


class StockMovementEntry(BaseModel):
    """One row of the ledger, with what it did to on hand and reserved."""

    model_config = ConfigDict(json_schema_extra={"examples": [RECEIPT_MOVEMENT_EXAMPLE]})

    id: int
    at: datetime
    sku: str
    kind: MovementKindName
    quantity: int
    on_hand_change: int
    reserved_change: int
    order_no: str | None = Field(
        description="The order that moved it; null for stock booked by hand."
    )
    actor: str | None = Field(description="Who booked a receipt or a count.")
    note: str | None = Field(description="A receipt's reference or a count's reason.")


class WaitingWorkOrder(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"order_no": "SO-2026-000131", "work_order_no": "WO-2026-000052", "quantity": 12}
            ]
        }
    )

    order_no: str
    work_order_no: str
    quantity: int


class StockLevel(BaseModel):
    """A product's stock right after the booking."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "PUMP-100",
                    "stock_on_hand": 52,
                    "stock_reserved": 10,
                    "stock_available": 42,
                    "reorder_point": 10,
                    "low_stock": False,
                }
            ]
        }
    )

    sku: str
    stock_on_hand: int
    stock_reserved: int
    stock_available: int
    reorder_point: int
    low_stock: bool


class StockReceiptPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "movement": RECEIPT_MOVEMENT_EXAMPLE,
                    "stock": {
                        "sku": "PUMP-100",
                        "stock_on_hand": 52,
                        "stock_reserved": 10,
                        "stock_available": 42,
                        "reorder_point": 10,
                        "low_stock": False,
                    },
                    "waiting_work_orders": [
                        {
                            "order_no": "SO-2026-000131",
                            "work_order_no": "WO-2026-000052",
                            "quantity": 12,
                        }
                    ],
                }
            ]
        }
    )

    movement: StockMovementEntry
    stock: StockLevel
    waiting_work_orders: list[WaitingWorkOrder] = Field(
        description="Open work orders making this product for orders in production. The units "
        "received stay available and are not given to them: their production goes on."
    )


class StockAdjustmentPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "VALVE-25",
                    "counted_quantity": 118,
                    "on_hand_before": 120,
                    "difference": -2,
                    "movement": COUNT_MOVEMENT_EXAMPLE,
                    "stock": {
                        "sku": "VALVE-25",
                        "stock_on_hand": 118,
                        "stock_reserved": 20,
                        "stock_available": 98,
                        "reorder_point": 30,
                        "low_stock": False,
                    },
                }
            ]
        }
    )

    sku: str
    counted_quantity: int
    on_hand_before: int
    difference: int = Field(description="Counted less the books: negative for a loss.")
    movement: StockMovementEntry | None = Field(
        description="The gain or loss booked; null when the count agreed with the books."
    )
    stock: StockLevel


class LedgerDifference(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "MOTOR-7K",
                    "on_hand": 25,
                    "on_hand_from_movements": 20,
                    "reserved": 4,
                    "reserved_from_movements": 4,
                }
            ]
        }
    )

    sku: str
    on_hand: int = Field(description="What the product row says.")
    on_hand_from_movements: int = Field(description="What its movements add up to.")
    reserved: int
    reserved_from_movements: int


class LedgerCheck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "balanced": False,
                    "products_checked": 5,
                    "differences": [
                        {
                            "sku": "MOTOR-7K",
                            "on_hand": 25,
                            "on_hand_from_movements": 20,
                            "reserved": 4,
                            "reserved_from_movements": 4,
                        }
                    ],
                }
            ]
        }
    )

    balanced: bool = Field(description="Every product checked agrees with its movements.")
    products_checked: int = Field(ge=0, le=INT32_MAX)
    differences: list[LedgerDifference]
