"""Fulfilment: work orders and their progress, shop-floor reports, production lines and
their queues, stock movements, shipments and tracking, carrier events, and alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.examples import (
    ALERT_EXAMPLE,
    PRODUCTION_EXAMPLE,
    PRODUCTION_RECORD_EXAMPLE,
    PROGRESS_EXAMPLE,
    QUEUED_WORK_ORDER_EXAMPLE,
    SHIPMENT_EXAMPLE,
    STEP_EXAMPLE,
    STOCK_MOVEMENT_EXAMPLE,
    TRACKING_EVENT_EXAMPLE,
    WORK_ORDER_EXAMPLE,
)
from api.schemas.types import FreeText, OccurredAt, SingleLine, StrictCount


class AlertPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ALERT_EXAMPLE]})

    kind: str  # low_stock | production_overdue | carrier_exception | order_fault | poor_feedback
    sku: str | None
    order_no: str | None = None
    message: str
    at: datetime


class StepPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [STEP_EXAMPLE]})

    name: str
    status: str  # pending | started | completed | skipped
    good_qty: int
    scrap_qty: int
    planned_start: datetime | None
    planned_finish: datetime | None
    started_at: datetime | None
    completed_at: datetime | None


class WorkOrderPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [WORK_ORDER_EXAMPLE]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [PROGRESS_EXAMPLE]})

    steps_done: int
    steps_total: int
    percent: int
    planned_finish: datetime | None
    actual_finish: datetime | None


class ProductionPublic(BaseModel):
    """The first work order's number, line and steps, then every work order of the order."""

    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCTION_EXAMPLE]})

    work_order_no: str
    line: str
    status: str
    steps: list[StepPublic]
    progress: ProgressPublic
    work_orders: list[WorkOrderPublic]


class ProductionRecordPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PRODUCTION_RECORD_EXAMPLE]})

    work_order_no: str | None
    step: str
    event: str
    good_qty: int | None
    scrap_qty: int | None
    note: str | None
    reported_by: str
    at: datetime


class StockMovementPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [STOCK_MOVEMENT_EXAMPLE]}
    )

    sku: str
    kind: str  # reserve | release | produce | ship
    quantity: int
    at: datetime


class QueuedWorkOrderPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [QUEUED_WORK_ORDER_EXAMPLE]})

    work_order_no: str
    order_no: str
    sku: str | None
    quantity: int
    planned_start: datetime | None
    planned_finish: datetime | None
    overdue: bool


class ProductionLinePublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "LINE-2",
                    "name": "Assembly line 2",
                    "units_per_hour": "30.00",
                    "active": True,
                    "open_work_orders": 1,
                    "queued_units": 6,
                    "booked_hours": 9.0,
                    "free_from": "2026-12-01T17:00:00Z",
                    "queue": [QUEUED_WORK_ORDER_EXAMPLE],
                }
            ]
        }
    )

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
    model_config = ConfigDict(json_schema_extra={"examples": [TRACKING_EVENT_EXAMPLE]})

    status: str
    location: str | None
    detail: str | None
    occurred_at: datetime


class ShipmentPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SHIPMENT_EXAMPLE]})

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
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"step": "machine", "event": "started"},
                {
                    "step": "machine",
                    "event": "completed",
                    "good_qty": 9,
                    "scrap_qty": 1,
                    "note": "one casing cracked in the fixture",
                },
            ]
        },
    )

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
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "tracking_no": "SIM4F2A9C01DE",
                    "status": "delivered",
                    "location": "Suzhou, ACME goods-in",
                    "occurred_at": "2026-11-30T10:40:00+08:00",
                },
                {
                    "tracking_no": "SIM4F2A9C01DE",
                    "status": "exception",
                    "location": "Shanghai hub",
                    "occurred_at": "2026-11-30T20:15:00Z",
                    "detail": "address not found",
                },
            ]
        },
    )

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
