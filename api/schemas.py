"""Request and response bodies of the API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Every list answers in this shape; ``next_cursor`` is null on the last page."""

    data: list[T]
    next_cursor: str | None = None


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    full_name: str
    roles: list[str]
    customer_id: int | None


class StatusLabel(BaseModel):
    en: str
    zh: str


class OrderStatusPublic(BaseModel):
    status: str
    label: StatusLabel
    meaning: str
    next: list[str]
    terminal: bool


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    credit_limit: Decimal
    active: bool


class RoutingStepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    minutes_per_unit: Decimal


class AlertPublic(BaseModel):
    kind: str  # low_stock | production_overdue | carrier_exception
    sku: str | None
    order_no: str | None = None
    message: str
    at: datetime


class ProductPublic(BaseModel):
    sku: str
    name: str
    unit_price: Decimal
    active: bool
    stock_on_hand: int
    stock_reserved: int
    stock_available: int
    reorder_point: int
    low_stock: bool
    # The alert raised when available stock last fell below the reorder point, while it is.
    low_stock_alert: AlertPublic | None
    line_codes: list[str]
    routing: list[RoutingStepPublic]


class OrderLineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1_000_000)
    unit_price: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=12,
        decimal_places=2,
        description="Leave out to take the price list's price.",
    )


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    lines: list[OrderLineCreate] = Field(min_length=1, max_length=200)


class OrderLinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal | None
    amount: Decimal | None
    reserved_qty: int = Field(description="Units reserved from stock when the order was approved.")
    produce_qty: int = Field(description="Units production makes because stock was short.")


class DecisionPublic(BaseModel):
    by: str
    acting_role: str
    decision: str
    comment: str | None
    at: datetime


class ReviewLevelPublic(BaseModel):
    level: int
    role: str
    status: str
    escalated: bool
    escalated_to: str | None
    opened_at: datetime | None
    decided_at: datetime | None
    decisions: list[DecisionPublic]


class ReviewPublic(BaseModel):
    current_level: int | None
    levels: list[ReviewLevelPublic]


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


class OrderPublic(OrderSummary):
    lines: list[OrderLinePublic]
    rejection_reasons: list[str]
    review: ReviewPublic | None
    production: ProductionPublic | None
    production_records: list[ProductionRecordPublic]
    stock_movements: list[StockMovementPublic]
    shipment: ShipmentPublic | None
    history: list[HistoryPublic]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    comment: str | None = Field(default=None, max_length=2000)


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class OptionalReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class ProductionEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: str = Field(min_length=1, max_length=64)
    event: Literal["started", "completed"]
    good_qty: int | None = Field(
        default=None, ge=0, description="On completion; defaults to the units minus scrap."
    )
    scrap_qty: int | None = Field(default=None, ge=0)
    note: str | None = Field(default=None, max_length=2000)
    work_order_no: str | None = Field(
        default=None,
        max_length=32,
        description="Leave out for the first open work order that still needs the step.",
    )


class CarrierEventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_no: str = Field(min_length=1, max_length=64)
    status: Literal["in_transit", "out_for_delivery", "delivered", "exception"]
    location: str | None = Field(default=None, max_length=200)
    occurred_at: AwareDatetime
    detail: str | None = Field(
        default=None, max_length=500, description="The carrier's reason, e.g. for an exception."
    )


class Accepted(BaseModel):
    accepted: bool = True
    detail: str


class ReviewNoticePublic(BaseModel):
    order_no: str
    level: int
    kind: str
    role: str
    at: datetime
