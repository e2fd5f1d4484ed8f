"""Query parameters several lists share, bounded like everything else a caller sends, and the
filters and sort of the order list (``GET /orders`` and its CSV export take the same ones),
and the Idempotency-Key header of an order entry."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from fastapi import Header, Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, model_validator
from pydantic.functional_validators import AfterValidator

from api.schemas.types import MONEY_MAX, Id, SingleLine, in_utc
from domain.roles import APPROVER_ROLES
from domain.statuses import OrderStatus

# Every list pages by keyset: ``next_cursor`` of one page asks for the next.
Cursor = Annotated[
    SingleLine | None,
    Query(max_length=200, description="``next_cursor`` of the page before; leave out at first."),
]
PageLimit = Annotated[int, Query(ge=1, le=200, description="Rows per page, 1 to 200.")]

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_means_its_midnight_utc(value: Any) -> Any:
    """``2026-12-01`` stands for the start of that day in UTC; anything else must carry its
    own time zone."""
    if isinstance(value, str) and _DATE_ONLY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value  # left for the datetime parser to refuse in its own words
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return value


# A bound of a date range: a timezone-aware datetime, or a date (midnight UTC), in the window.
RangeBound = Annotated[
    AwareDatetime, BeforeValidator(_date_means_its_midnight_utc), AfterValidator(in_utc)
]
# An amount bound: what an order's total column holds, never negative.
TotalBound = Annotated[
    Decimal, Field(ge=0, le=MONEY_MAX, max_digits=14, decimal_places=2, allow_inf_nan=False)
]
ApproverRoleName = Literal["supervisor", "manager", "director", "finance", "ops"]
assert set(get_args(ApproverRoleName)) == {role.value for role in APPROVER_ROLES}

OrderSort = Literal["created_at", "-created_at", "total", "-total", "updated_at", "-updated_at"]


class OrderListQuery(BaseModel):
    """Which orders a list (or its CSV export) shows and in what order. Filters combine with
    AND; ranges are half-open: ``from`` included, ``to`` excluded, ``from`` before ``to``."""

    status: OrderStatus | None = Field(default=None, description="Only orders in this status.")
    customer_id: Id | None = Field(
        default=None,
        description="Only this customer's orders (its `id`); a customer user sees only its own.",
    )
    q: SingleLine | None = Field(
        default=None, max_length=100, description="Part of the order number or customer code/name."
    )
    escalated: bool | None = Field(
        default=None,
        description="true: orders with an open review level that was escalated; false: none.",
    )
    created_from: RangeBound | None = Field(
        default=None, description="Created at or after; a date alone means 00:00 UTC."
    )
    created_to: RangeBound | None = Field(default=None, description="Created before.")
    updated_from: RangeBound | None = Field(
        default=None, description="Last changed at or after; a date alone means 00:00 UTC."
    )
    updated_to: RangeBound | None = Field(default=None, description="Last changed before.")
    sku: SingleLine | None = Field(
        default=None, min_length=1, max_length=64, description="Orders with a line of this SKU."
    )
    min_total: TotalBound | None = Field(default=None, description="Total at least this (CNY).")
    max_total: TotalBound | None = Field(default=None, description="Total at most this (CNY).")
    waiting_role: ApproverRoleName | None = Field(
        default=None,
        description="Orders under review whose open level waits on this role: the level's own "
        "role, or the role it escalated to.",
    )
    archived: bool | Literal["any"] = Field(
        default=False,
        description="Archived orders (closed longer than ARCHIVE_AFTER) are left out unless "
        "asked for: `true` lists only archived orders, `any` both, `false` (the default) none.",
    )
    sort: OrderSort | None = Field(
        default=None,
        description="A column, ``-`` first for descending; ties go by entry order. Left out: "
        "newest entered first.",
    )

    @model_validator(mode="after")
    def _ranges_not_empty(self) -> OrderListQuery:
        for name, low, high in (
            ("created", self.created_from, self.created_to),
            ("updated", self.updated_from, self.updated_to),
        ):
            if low is not None and high is not None and not low < high:
                raise ValueError(f"{name}_from must be before {name}_to")
        if (
            self.min_total is not None
            and self.max_total is not None
            and self.min_total > self.max_total
        ):
            raise ValueError("min_total must not be more than max_total")
        return self


OrderListParams = Annotated[OrderListQuery, Query()]

# The header that makes entering an order safe to retry.
IdempotencyKey = Annotated[
    SingleLine | None,
    Header(
        max_length=200,
        description="A string the client makes up for this order, e.g. a UUID. The same "
        "request sent again by the same user with the same key answers with the order the "
        "first one entered (header `Idempotent-Replayed: true`) instead of entering it "
        "twice, so it is safe to retry after a timeout; the same key with another body "
        "answers 422.",
        examples=["7d9f8a5e-3c1b-4f7e-9a51-2f0c6d1e8b42"],
    ),
]
