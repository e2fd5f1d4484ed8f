"""Amendments: what sales asks to change on an order, and the versions an order went through."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.schemas.orders import OrderLineCreate
from api.schemas.types import (
    MAX_ORDER_LINES,
    FreeText,
    Quantity,
    SingleLine,
    UnitPrice,
    in_delivery_window,
)

LineNo = Annotated[int, Field(ge=1, le=MAX_ORDER_LINES * 10)]


class LineChangeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: LineNo
    quantity: Quantity
    unit_price: UnitPrice | None = Field(
        default=None,
        description="A new price for the line (CNY, not above the price list of the order's "
        "entry day); leave out to keep the line's price.",
    )


class AmendmentCreate(BaseModel):
    """What changes; everything left out stays as it is. At least one change is needed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "customer doubles the pumps",
                    "change_lines": [{"line_no": 1, "quantity": 100}],
                },
                {
                    "reason": "valves dropped, motor added, later delivery",
                    "remove_lines": [2],
                    "add_lines": [{"sku": "MOTOR-7K", "quantity": 1}],
                    "requested_delivery_date": "2027-02-01",
                    "notes": "Deliver to dock 4.",
                },
            ]
        },
    )

    reason: SingleLine = Field(min_length=1, max_length=500, description="Why, for the record.")
    change_lines: list[LineChangeCreate] = Field(default_factory=list, max_length=MAX_ORDER_LINES)
    remove_lines: list[LineNo] = Field(default_factory=list, max_length=MAX_ORDER_LINES)
    add_lines: list[OrderLineCreate] = Field(default_factory=list, max_length=MAX_ORDER_LINES)
    requested_delivery_date: Annotated[date, AfterValidator(in_delivery_window)] | None = Field(
        default=None, description="The new day the customer asks for; null clears it."
    )
    notes: FreeText | None = Field(default=None, max_length=2000, description="null clears them.")

    @model_validator(mode="after")
    def _changes_something_once(self) -> Self:
        named = [change.line_no for change in self.change_lines] + self.remove_lines
        if len(named) != len(set(named)):
            raise ValueError("each line is changed or removed at most once")
        if not (
            self.change_lines
            or self.remove_lines
            or self.add_lines
            or {"requested_delivery_date", "notes"} & self.model_fields_set
        ):
            raise ValueError("an amendment changes at least one thing")
        if len(self.add_lines) + len(self.change_lines) > MAX_ORDER_LINES:
            raise ValueError(f"an order has at most {MAX_ORDER_LINES} lines")
        return self


class FieldChangePublic(BaseModel):
    field: str = Field(description="e.g. `lines[2].quantity`, `lines[3]` (added or removed).")
    before: Any
    after: Any


class OrderVersionPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": 2,
                    "amended_by": "sales1",
                    "reason": "customer doubles the pumps",
                    "at": "2026-12-02T09:30:00Z",
                    "total": "185000.00",
                    "changes": [{"field": "lines[1].quantity", "before": 50, "after": 100}],
                    "review": {
                        "rule": "100,000 and more",
                        "levels": [
                            {
                                "level": 1,
                                "role": "supervisor",
                                "keeps_decisions": False,
                                "approved": False,
                                "why": "its decisions under rule '10,000 to 99,999.99' do "
                                "not cover the amended order",
                            }
                        ],
                        "dropped": [],
                    },
                }
            ]
        }
    )

    version: int
    amended_by: str | None = Field(description="Null for version 1, the order as entered.")
    reason: str | None
    at: datetime
    total: Decimal | None
    changes: list[FieldChangePublic] = Field(description="What this version changed.")
    review: dict[str, Any] | None = Field(
        description="The amended review: its rule and, per level, whether it kept its "
        "decisions or is decided again, and why."
    )
