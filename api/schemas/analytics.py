"""Analytics: how long orders stay in each status and where they wait longest, how many
orders come in and go out, how fast approvers decide, how often deliveries are on time, and
what the order book looks like now.

Durations are in seconds (floats); amounts are CNY decimals, written as strings in JSON.
A figure over no data is null (a mean of nothing), a count over no data is 0.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.reference import StatusLabel


class Window(BaseModel):
    """The period a report covers: from (inclusive) up to (exclusive), in UTC."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: datetime = Field(alias="from", description="Start of the period, inclusive.")
    to: datetime = Field(description="End of the period, exclusive.")


class DurationStats(BaseModel):
    count: int = Field(description="Finished stays (or decisions, or work orders) measured.")
    mean_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None
    max_seconds: float | None


class StageDuration(DurationStats):
    status: str
    label: StatusLabel
    open: int = Field(
        description="Stays in this status that began in the period and have not ended yet; "
        "not part of the figures above."
    )
    total_seconds: float = Field(description="Sum of the finished stays, the bottleneck's base.")


class Bottleneck(BaseModel):
    status: str
    mean_seconds: float | None
    share: float = Field(description="This stage's total finished time over all stages' total.")


class ReviewLevelDuration(DurationStats):
    level: int
    role: str


class ProductionLineDuration(DurationStats):
    line: str


class StageDurationsPublic(Window):
    customer_id: int | None
    stages: list[StageDuration] = Field(description="Every status in lifecycle order.")
    bottleneck: Bottleneck | None
    review_levels: list[ReviewLevelDuration]
    production_lines: list[ProductionLineDuration]


class ThroughputBucket(BaseModel):
    start: date
    created: int
    completed: int
    rejected: int
    cancelled: int
    created_value: Decimal
    completed_value: Decimal


class ThroughputPublic(Window):
    bucket: Literal["day", "week"]
    data: list[ThroughputBucket] = Field(description="Every bucket of the period, empty ones too.")


class LevelTurnaround(BaseModel):
    level: int
    role: str
    decided: int
    mean_seconds: float | None
    p50_seconds: float | None
    p90_seconds: float | None
    escalated: int
    expired: int
    reminders: int


class ApproverTurnaround(BaseModel):
    username: str
    decisions: int
    mean_seconds: float | None
    p50_seconds: float | None


class ApprovalsPublic(Window):
    levels: list[LevelTurnaround]
    approvers: list[ApproverTurnaround]
    escalations: int
    expiries: int
    reminders: int
    delegated_share: float | None = Field(
        description="Share of the period's decisions taken by a delegate; null when none."
    )


class LateDelivery(BaseModel):
    order_no: str
    customer_code: str
    requested_delivery_date: date
    delivered_at: datetime
    days_late: int


class DeliveryPublic(Window):
    delivered: int = Field(description="Orders delivered in the period with a requested date.")
    on_time: int
    on_time_rate: float | None
    without_requested_date: int = Field(
        description="Orders delivered in the period that asked for no date; not in the rate."
    )
    late: list[LateDelivery] = Field(description="The most days late first, up to 100.")


class StatusCount(BaseModel):
    status: str
    label: StatusLabel
    count: int
    value: Decimal


class WaitingOrder(BaseModel):
    order_no: str
    status: str
    customer_code: str
    waiting_on: str
    since: datetime


class OrderRef(BaseModel):
    order_no: str
    status: str
    customer_code: str
    since: datetime
    reason: str | None = None


class OverviewPublic(BaseModel):
    statuses: list[StatusCount]
    oldest_waiting: list[WaitingOrder]
    escalated: list[OrderRef]
    expired: list[OrderRef]
    on_hold: list[OrderRef]
    system_faults: list[OrderRef]
    open_alerts: int
