"""Order templates: a customer's usual order, its optional schedule, and its scheduled runs."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from api.schemas.types import (
    MAX_ORDER_LINES,
    FreeText,
    Quantity,
    SingleLine,
    StrictId,
)

_LINES: list[JsonValue] = [{"sku": "PUMP-100", "quantity": 50}, {"sku": "VALVE-25", "quantity": 20}]
_MONTHLY: JsonDict = {
    "kind": "monthly",
    "day": 1,
    "hour": 6,
    "minute": 0,
    "time_zone": "Asia/Shanghai",
}
_CRON: JsonDict = {"kind": "cron", "cron": "0 6 * * 1", "time_zone": "UTC"}


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())  # reads the zone files: once per process


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai")
    return value


TimeZone = Annotated[
    SingleLine,
    Field(max_length=64, description="IANA time zone the times are read in."),
    AfterValidator(_known_zone),
]


class MonthlySchedule(BaseModel):
    """Once a month on ``day`` (1 to 28, so every month has it) at ``hour``:``minute``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_MONTHLY]})

    kind: Literal["monthly"]
    day: Annotated[int, Field(strict=True, ge=1, le=28)]
    hour: Annotated[int, Field(strict=True, ge=0, le=23)] = 0
    minute: Annotated[int, Field(strict=True, ge=0, le=59)] = 0
    time_zone: TimeZone = "UTC"


def _five_fields(value: str) -> str:
    if not value.startswith("@") and len(value.split()) != 5:
        raise ValueError(
            "a cron spec has five fields (minute hour day-of-month month day-of-week), "
            "or is a name such as @monthly"
        )
    return value


class CronSchedule(BaseModel):
    """A cron spec (``minute hour day-of-month month day-of-week``), read by Temporal."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_CRON]})

    kind: Literal["cron"]
    cron: Annotated[SingleLine, Field(min_length=1, max_length=100), AfterValidator(_five_fields)]
    time_zone: TimeZone = "UTC"


TemplateSchedule = Annotated[MonthlySchedule | CronSchedule, Field(discriminator="kind")]


class TemplateLine(BaseModel):
    model_config = ConfigDict(
        extra="forbid", from_attributes=True, json_schema_extra={"examples": [_LINES[0]]}
    )

    sku: SingleLine = Field(min_length=1, max_length=64)
    quantity: Quantity


class OrderTemplateCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "ACME monthly pumps",
                    "customer_id": 1,
                    "lines": _LINES,
                    "notes": "Deliver to dock 3.",
                    "schedule": _MONTHLY,
                }
            ]
        },
    )

    name: SingleLine = Field(min_length=1, max_length=200)
    customer_id: StrictId
    lines: list[TemplateLine] = Field(min_length=1, max_length=MAX_ORDER_LINES)
    notes: FreeText | None = Field(default=None, max_length=2000)
    schedule: TemplateSchedule | None = Field(
        default=None,
        description="When to enter the order by itself: monthly on a day, or a cron spec; "
        "null for none (orders are then entered from it by hand only).",
    )


class OrderTemplateUpdate(OrderTemplateCreate):
    """The whole template again: what is sent replaces what was there, the schedule too."""


class ScheduleStatePublic(BaseModel):
    """The template's Temporal Schedule as Temporal reports it now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "schedule_id": "order-template-7",
                    "paused": False,
                    "note": None,
                    "next_runs": ["2027-01-01T06:00:00Z", "2027-02-01T06:00:00Z"],
                    "recent_runs": ["2026-12-01T06:00:00Z"],
                }
            ]
        }
    )

    schedule_id: str = Field(description="Its id in the Temporal UI (Schedules).")
    paused: bool
    note: str | None
    next_runs: list[datetime] = Field(description="The next times it will run (up to 10).")
    recent_runs: list[datetime] = Field(description="When it last ran (up to 10).")


_TEMPLATE_EXAMPLE: JsonDict = {
    "id": 7,
    "name": "ACME monthly pumps",
    "customer_id": 1,
    "lines": _LINES,
    "notes": "Deliver to dock 3.",
    "schedule": _MONTHLY,
    "owner": "sales1",
    "created_at": "2026-12-01T09:00:00Z",
    "updated_at": "2026-12-01T09:00:00Z",
    "schedule_state": None,
}


class OrderTemplatePublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TEMPLATE_EXAMPLE]})

    id: int
    name: str
    customer_id: int
    lines: list[TemplateLine]
    notes: str | None
    schedule: TemplateSchedule | None
    owner: str = Field(description="Who enters the orders its schedule makes: the last to edit.")
    created_at: datetime
    updated_at: datetime
    schedule_state: ScheduleStatePublic | None = Field(
        default=None,
        description="Reading one template: its schedule as Temporal has it now (paused, next "
        "runs); null without a schedule, and in lists.",
    )


class TemplateRunPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "scheduled_at": "2026-12-01T06:00:00Z",
                    "outcome": "skipped",
                    "order_no": None,
                    "reason": "customer C-ACME is inactive",
                    "at": "2026-12-01T06:00:01Z",
                }
            ]
        },
    )

    scheduled_at: datetime
    outcome: Literal["entered", "skipped", "failed"]
    order_no: str | None
    reason: str | None
    at: datetime
