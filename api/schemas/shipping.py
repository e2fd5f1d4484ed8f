"""Per-line fulfilment: what a dispatch ships and a confirmation confirms, and an order's
shipments as the order detail shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

from api.schemas.examples import SHIPMENT_EXAMPLE
from api.schemas.fulfilment import ShipmentPublic
from api.schemas.types import MAX_ORDER_LINES, FreeText, Quantity, SingleLine
from domain.fulfilment import ShipmentLine


class DispatchLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: Annotated[int, Strict(), Field(ge=1, le=MAX_ORDER_LINES * 10)]
    quantity: Quantity


class DispatchCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {},
                {"lines": [{"line_no": 1, "quantity": 30}], "reason": "first truck"},
            ]
        },
    )

    lines: list[DispatchLineCreate] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ORDER_LINES,
        description="The lines and units this shipment carries, each at most what the line "
        "has ready and not yet shipped; left out, everything ready ships.",
    )
    reason: FreeText | None = Field(default=None, max_length=2000)

    def shipment_lines(self) -> list[ShipmentLine] | None:
        if self.lines is None:
            return None
        return [ShipmentLine(line.line_no, line.quantity) for line in self.lines]


class ConfirmDeliveryCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{}, {"shipment": "BC3F9A0C12D4E5"}]}
    )

    shipment: SingleLine | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The tracking number of the one shipment to confirm; left out, every "
        "delivered shipment not yet confirmed.",
    )


class ShipmentLinePublic(BaseModel):
    line_no: int
    quantity: int


class CustomerShipmentPublic(ShipmentPublic):
    """One shipment of the order with the lines it carries and when its receipt was
    confirmed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **SHIPMENT_EXAMPLE,
                    "seq": 1,
                    "lines": [{"line_no": 1, "quantity": 50}],
                    "confirmed_at": None,
                }
            ]
        }
    )

    seq: int = Field(description="1, 2, ... in the order they were booked.")
    lines: list[ShipmentLinePublic] = Field(
        description="What it carries, fixed when it is handed over (a shipment booked before "
        "per-line fulfilment carries the whole order and lists every line)."
    )
    confirmed_at: datetime | None = Field(
        description="When its receipt was confirmed (or auto-confirmed); null until then."
    )


class OrderShipmentPublic(CustomerShipmentPublic):
    """One shipment of the order with the lines it carries and its receipt, and who
    confirmed it (staff only: the customer's view names nobody inside)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **SHIPMENT_EXAMPLE,
                    "seq": 1,
                    "lines": [{"line_no": 1, "quantity": 50}],
                    "confirmed_at": None,
                    "confirmed_by": None,
                }
            ]
        }
    )

    confirmed_by: str | None
