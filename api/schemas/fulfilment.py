"""Fulfilment: work orders and their progress, shop-floor reports, production lines and
their queues, stock movements, shipments and tracking, carrier events, and alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.types import FreeText, OccurredAt, SingleLine, StrictCount


class AlertPublic(BaseModel):
    kind: str  # low_stock | production_overdue | carrier_exception | order_fault
    sku: str | None
    order_no: str | None = None
    message: str
    at: datetime


class StepPublic(BaseModel):
    name: str
    status: str  # pending | started | completed | skipped
    good_qty: int
    scrap_qty: int
    planned_start: datetime | None
    planned_finish: datetime | None
    started_at: datetime | None
    completed_at: datetime | None


class WorkOrderPublic(BaseModel):
    work_order_no: str
    sku: str | None
    quantity: int
    line: str
    status: str  # open | completed | cancelled
    planned_start: datetime | None
    planned_finish: datetime | None
    finished_at: datetime | None
    produced_qty: int
    replan_of: str | None
    overdue: bool
    cancelled_at: datetime | None
    steps: list[StepPublic]


class ProgressPublic(BaseModel):
    steps_done: int
    steps_total: int
    percent: int
    planned_finish: datetime | None
    actual_finish: datetime | None


class ProductionPublic(BaseModel):
    """The first work order's number, line and steps, then every work order of the order."""

    work_order_no: str
    line: str
    status: str
    steps: list[StepPublic]
    progress: ProgressPublic
    work_orders: list[WorkOrderPublic]


class ProductionRecordPublic(BaseModel):
    work_order_no: str | None
    step: str
    event: str
    good_qty: int | None
    scrap_qty: int | None
    note: str | None
    reported_by: str
    at: datetime


class StockMovementPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    kind: str  # reserve | release | produce | ship
    quantity: int
    at: datetime


class QueuedWorkOrderPublic(BaseModel):
    work_order_no: str
    order_no: str
    sku: str | None
    quantity: int
    planned_start: datetime | None
    planned_finish: datetime | None
    overdue: bool


class ProductionLinePublic(BaseModel):
    code: str
    name: str
    units_per_hour: Decimal
    active: bool
    open_work_orders: int
    queued_units: int
    # Hours of booked work from now until the line is free.
    booked_hours: float
    free_from: datetime
    queue: list[QueuedWorkOrderPublic]


class TrackingEventPublic(BaseModel):
    status: str
    location: str | None
    detail: str | None
    occurred_at: datetime


class ShipmentPublic(BaseModel):
    carrier: str
    tracking_no: str
    status: str
    booked_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    # The tracking timeline, oldest first by when each event happened.
    events: list[TrackingEventPublic]


class ProductionEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: SingleLine = Field(min_length=1, max_length=64)
    event: Literal["started", "progress", "completed"] = Field(
        description=(
            "`progress`: some of the step's units came out good or scrapped; `completed`: "
            "the rest did, and the step's reports must then add up to the units that "
            "entered it. With neither number, `completed` means every unit not yet "
            "reported came out good."
        )
    )
    good_qty: StrictCount | None = Field(
        default=None, description="Units of this report that came out good; left out: 0."
    )
    scrap_qty: StrictCount | None = Field(
        default=None, description="Units of this report that were scrapped; left out: 0."
    )
    note: FreeText | None = Field(default=None, max_length=2000)
    work_order_no: SingleLine | None = Field(
        default=None,
        max_length=32,
        description="Leave out for the first open work order that still needs the step.",
    )


class CarrierEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_no: SingleLine = Field(min_length=1, max_length=64)
    status: Literal["in_transit", "out_for_delivery", "delivered", "exception"]
    location: SingleLine | None = Field(default=None, max_length=200)
    occurred_at: OccurredAt = Field(
        description="When it happened: not before the order was entered, and not more than a "
        "day ahead of this server's clock."
    )
    detail: FreeText | None = Field(
        default=None, max_length=500, description="The carrier's reason, e.g. for an exception."
    )
