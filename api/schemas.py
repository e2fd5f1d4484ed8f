"""Request and response bodies of the API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from domain.notifications import NotificationEvent
from domain.policy import Rule

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
    # The approver ``by`` stood in for through a delegation, if any.
    on_behalf_of: str | None = None
    acting_role: str
    decision: str
    comment: str | None
    at: datetime


class ReviewNoticeFiring(BaseModel):
    """One firing of a level's clock: a reminder, the escalation or the expiry."""

    kind: str  # reminder | escalation | expiry
    round: int
    role: str
    recipients: list[str]
    at: datetime


class ReviewLevelPublic(BaseModel):
    level: int
    role: str
    status: str
    escalated: bool
    escalated_to: str | None
    quorum: int = 1
    opened_at: datetime | None
    decided_at: datetime | None
    decisions: list[DecisionPublic]
    notices: list[ReviewNoticeFiring] = []


class ReviewPublic(BaseModel):
    current_level: int | None
    # The approval policy version and rule the order was reviewed under.
    policy_version: int | None = None
    policy_rule: str | None = None
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


class PolicyPublic(BaseModel):
    """A version of the approval policy; durations in seconds."""

    version: int
    rules: list[Rule]
    created_by: str
    created_at: datetime


class DelegationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delegate: str = Field(min_length=1, max_length=64, description="The colleague's username.")
    starts_at: AwareDatetime | None = Field(default=None, description="Leave out to start now.")
    ends_at: AwareDatetime
    reason: str | None = Field(default=None, max_length=2000)


class DelegationPublic(BaseModel):
    id: int
    delegator: str
    delegate: str
    roles: list[str] = Field(
        description="The delegator's approver roles the delegate may stand in for, as of now."
    )
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    revoked_at: datetime | None
    created_at: datetime


class PendingLevelPublic(BaseModel):
    level: int
    role: str
    escalated: bool
    escalated_to: str | None
    quorum: int
    opened_at: datetime | None
    approvals: int = Field(description="Approvals the level has so far, towards its quorum.")


class CustomerHistoryPublic(BaseModel):
    orders: int = Field(description="The customer's orders other than this one, in any status.")
    total_spend: Decimal = Field(description="Sum of the totals of its completed orders.")
    on_time_rate: float | None = Field(
        description="Share of its completed orders that were on time; null when none completed."
    )


class PendingApprovalPublic(BaseModel):
    order_no: str
    customer_id: int
    customer_code: str
    customer_name: str
    total: Decimal | None
    currency: str
    created_by: str
    created_at: datetime
    level: PendingLevelPublic
    acting_as: str = Field(description="The role the caller would decide the level in.")
    on_behalf_of: str | None = Field(
        description="The approver the caller stands in for; null when deciding in an own role."
    )
    customer_history: CustomerHistoryPublic


class AuditEntryPublic(BaseModel):
    """One audit row as stored, hashes included, so anyone can recompute the chain."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    kind: str
    order_no: str | None
    payload: dict[str, object]
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    rows_checked: int
    first_bad_id: int | None = Field(
        description="The first row whose link or content does not match; null when ok."
    )
    detail: str


class NotificationPublic(BaseModel):
    """One in-app notification of the caller's; ``read_at`` is null until marked read."""

    id: int
    event: str
    order_no: str | None
    subject: str
    body: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(description="Where each event is POSTed, signed with the secret.")
    events: list[NotificationEvent] = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _fits(cls, url: HttpUrl) -> HttpUrl:
        if len(str(url)) > 500:
            raise ValueError("the URL is longer than 500 characters")
        return url


class WebhookSubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookSubscriptionCreated(WebhookSubscriptionPublic):
    secret: str = Field(
        description="Signs every delivery (X-Orderflow-Signature: sha256=<HMAC-SHA256 of the "
        "body>); shown only in this answer."
    )


class WebhookDeliveryPublic(BaseModel):
    """One event sent, or being sent, to a subscription; ``key`` is its Idempotency-Key."""

    id: int
    key: str
    event: str
    order_no: str | None
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
