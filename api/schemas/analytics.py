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
from pydantic.config import JsonDict

from api.schemas.reference import StatusLabel

# The examples below are one month of a small plant's order book, in the story of
# api/schemas/examples.py (customer ACME, order SO-2026-000123).
_PERIOD: JsonDict = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
_UNDER_REVIEW: JsonDict = {"en": "Under review", "zh": "审核中"}
_IN_PRODUCTION: JsonDict = {"en": "In production", "zh": "生产中"}
_ON_HOLD: JsonDict = {"en": "On hold", "zh": "已挂起"}


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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PERIOD,
                    "customer_id": None,
                    "stages": [
                        {
                            "status": "UNDER_REVIEW",
                            "label": _UNDER_REVIEW,
                            "count": 118,
                            "mean_seconds": 15840.0,
                            "p50_seconds": 9000.0,
                            "p90_seconds": 41400.0,
                            "max_seconds": 172800.0,
                            "open": 9,
                            "total_seconds": 1869120.0,
                        },
                        {
                            "status": "IN_PRODUCTION",
                            "label": _IN_PRODUCTION,
                            "count": 64,
                            "mean_seconds": 97200.0,
                            "p50_seconds": 86400.0,
                            "p90_seconds": 172800.0,
                            "max_seconds": 345600.0,
                            "open": 12,
                            "total_seconds": 6220800.0,
                        },
                    ],
                    "bottleneck": {
                        "status": "IN_PRODUCTION",
                        "mean_seconds": 97200.0,
                        "share": 0.77,
                    },
                    "review_levels": [
                        {
                            "level": 1,
                            "role": "supervisor",
                            "count": 118,
                            "mean_seconds": 7200.0,
                            "p50_seconds": 5400.0,
                            "p90_seconds": 16200.0,
                            "max_seconds": 86400.0,
                        }
                    ],
                    "production_lines": [
                        {
                            "line": "LINE-1",
                            "count": 64,
                            "mean_seconds": 97200.0,
                            "p50_seconds": 86400.0,
                            "p90_seconds": 172800.0,
                            "max_seconds": 345600.0,
                        }
                    ],
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-11-29T00:00:00Z",
                    "to": "2026-12-01T00:00:00Z",
                    "bucket": "day",
                    "data": [
                        {
                            "start": "2026-11-29",
                            "created": 7,
                            "completed": 5,
                            "rejected": 1,
                            "cancelled": 0,
                            "created_value": "183400.00",
                            "completed_value": "121950.00",
                        },
                        {
                            "start": "2026-11-30",
                            "created": 0,
                            "completed": 2,
                            "rejected": 0,
                            "cancelled": 1,
                            "created_value": "0.00",
                            "completed_value": "94900.00",
                        },
                    ],
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PERIOD,
                    "levels": [
                        {
                            "level": 1,
                            "role": "supervisor",
                            "decided": 118,
                            "mean_seconds": 7200.0,
                            "p50_seconds": 5400.0,
                            "p90_seconds": 16200.0,
                            "escalated": 3,
                            "expired": 0,
                            "reminders": 11,
                        }
                    ],
                    "approvers": [
                        {
                            "username": "sup1",
                            "decisions": 80,
                            "mean_seconds": 6100.0,
                            "p50_seconds": 4800.0,
                        }
                    ],
                    "escalations": 3,
                    "expiries": 0,
                    "reminders": 11,
                    "delegated_share": 0.05,
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_PERIOD,
                    "delivered": 40,
                    "on_time": 37,
                    "on_time_rate": 0.925,
                    "without_requested_date": 6,
                    "with_promise": 44,
                    "on_time_to_promise": 42,
                    "on_time_to_promise_rate": 0.9545,
                    "late": [
                        {
                            "order_no": "SO-2026-000123",
                            "customer_code": "ACME",
                            "requested_delivery_date": "2026-11-20",
                            "delivered_at": "2026-11-23T10:05:00Z",
                            "days_late": 3,
                        }
                    ],
                }
            ]
        }
    )

    delivered: int = Field(description="Orders delivered in the period with a requested date.")
    on_time: int
    on_time_rate: float | None
    without_requested_date: int = Field(
        description="Orders delivered in the period that asked for no date; not in the rate."
    )
    with_promise: int = Field(
        description="Orders delivered in the period whose lines carry a promised date."
    )
    on_time_to_promise: int = Field(
        description="Of those, delivered on or before the latest promised date of their lines."
    )
    on_time_to_promise_rate: float | None = Field(
        description="on_time_to_promise / with_promise; null without any."
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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "statuses": [
                        {
                            "status": "UNDER_REVIEW",
                            "label": _UNDER_REVIEW,
                            "count": 9,
                            "value": "412300.00",
                        },
                        {
                            "status": "ON_HOLD",
                            "label": _ON_HOLD,
                            "count": 1,
                            "value": "94900.00",
                        },
                    ],
                    "oldest_waiting": [
                        {
                            "order_no": "SO-2026-000118",
                            "status": "UNDER_REVIEW",
                            "customer_code": "ACME",
                            "waiting_on": "manager or director (escalated) approval, level 2 of 3",
                            "since": "2026-11-29T16:20:00Z",
                        }
                    ],
                    "escalated": [
                        {
                            "order_no": "SO-2026-000118",
                            "status": "UNDER_REVIEW",
                            "customer_code": "ACME",
                            "since": "2026-11-29T16:20:00Z",
                        }
                    ],
                    "expired": [],
                    "on_hold": [
                        {
                            "order_no": "SO-2026-000123",
                            "status": "ON_HOLD",
                            "customer_code": "ACME",
                            "since": "2026-11-30T09:10:00Z",
                            "reason": "system fault: the carrier refused the booking",
                        }
                    ],
                    "system_faults": [
                        {
                            "order_no": "SO-2026-000123",
                            "status": "ON_HOLD",
                            "customer_code": "ACME",
                            "since": "2026-11-30T09:10:00Z",
                            "reason": "system fault: the carrier refused the booking",
                        }
                    ],
                    "open_alerts": 2,
                }
            ]
        }
    )

    statuses: list[StatusCount]
    oldest_waiting: list[WaitingOrder]
    escalated: list[OrderRef]
    expired: list[OrderRef]
    on_hold: list[OrderRef]
    system_faults: list[OrderRef]
    open_alerts: int
