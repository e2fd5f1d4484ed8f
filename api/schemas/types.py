"""Constrained types for everything a caller sends: bodies, path and query parameters,
headers and forms. Each bound is the one the value's column or engine imposes, written down
once here, so that input PostgreSQL, psycopg or Temporal would fail on is refused at the edge
with a 422 instead of failing half-way through a request.

* text: no control characters (tab and newline are allowed in free text only) and no lone
  surrogates, which PostgreSQL cannot store and UTF-8 cannot encode;
* integers: within PostgreSQL's ``integer`` (ids from 1); in JSON bodies strictly integers,
  so ``true`` or ``1.0`` is not a quantity;
* decimals: finite, with the precision of the column they go to;
* datetimes: with a time zone, and within a window every part of the stack can hold.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field, Strict

# PostgreSQL ``integer``, the type of every id, quantity and count column.
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
# ``Numeric(14, 2)``: amounts, totals, prices and credit limits.
MONEY_MAX = Decimal("999999999999.99")
# A line's amount is quantity × unit price and must fit ``Numeric(14, 2)``: with these two
# bounds it always does (1,000,000 × 999,999.99 < 10^12). The order's total is checked
# against MONEY_MAX when the order is entered (see ``api/order_limits.py``).
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE = Decimal("999999.99")
MAX_ORDER_LINES = 200
# Every datetime a caller sends falls in this window (in UTC), far inside what Python,
# psycopg and PostgreSQL can all hold whatever the offset it was written with.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# A carrier reports what happened, not what will: a day of slack covers skewed clocks.
CARRIER_CLOCK_SLACK = timedelta(days=1)
# How far ahead a customer may ask for delivery: two years covers any planned order.
MAX_DELIVERY_LEAD_DAYS = 731

# Unicode control characters (category Cc): C0, DEL and C1.
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_TAB_AND_NEWLINE = "\t\n"
# What the types below refuse, and the same in the OpenAPI document (a JSON Schema pattern
# cannot name lone surrogates; the validators refuse those too).
_NOT_SINGLE_LINE = re.compile(f"[{_CONTROL}{_TAB_AND_NEWLINE}\ud800-\udfff]")
_NOT_FREE_TEXT = re.compile(f"[{_CONTROL}\ud800-\udfff]")
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"


def _refuse(unwanted: re.Pattern[str], value: str) -> str:
    found = unwanted.search(value)
    if found is None:
        return value
    code = ord(found.group())
    what = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    raise ValueError(f"{what} (U+{code:04X}) at position {found.start()} is not allowed here")


def _single_line(value: str) -> str:
    return _refuse(_NOT_SINGLE_LINE, value)


def _free_text(value: str) -> str:
    return _refuse(_NOT_FREE_TEXT, value)


# A name, code, key or search term: one line of printable text.
SingleLine = Annotated[
    str, AfterValidator(_single_line), Field(json_schema_extra={"pattern": SINGLE_LINE_PATTERN})
]
# A comment, reason or note: printable text with tabs and line breaks.
FreeText = Annotated[
    str, AfterValidator(_free_text), Field(json_schema_extra={"pattern": FREE_TEXT_PATTERN})
]
# ``SO-2026-000123``: what a path or filter naming an order must look like.
ORDER_NO_PATTERN = r"^SO-[0-9]{4}-[0-9]{6,12}$"
OrderNo = Annotated[str, Field(pattern=ORDER_NO_PATTERN, max_length=32)]

# Path and query parameters arrive as text, so these parse it; bodies use the strict ones.
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
StrictId = Annotated[int, Strict(), Field(ge=1, le=INT32_MAX)]
StrictInt32 = Annotated[int, Strict(), Field(ge=INT32_MIN, le=INT32_MAX)]
StrictCount = Annotated[int, Strict(), Field(ge=0, le=INT32_MAX)]
Quantity = Annotated[
    int,
    Strict(),
    Field(ge=1, le=MAX_QUANTITY, description=f"Units, from 1 to {MAX_QUANTITY:,}."),
]

UnitPrice = Annotated[
    Decimal,
    Field(
        gt=0,
        le=MAX_UNIT_PRICE,
        decimal_places=2,
        allow_inf_nan=False,
        description=(
            f"CNY per unit, at most {MAX_UNIT_PRICE:,} with two decimals, so that quantity × "
            "price fits an amount."
        ),
    ),
]
# Any amount of money a caller may write: what ``Numeric(14, 2)`` holds.
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(max_digits=5, decimal_places=2, allow_inf_nan=False)]


def in_utc(value: datetime) -> datetime:
    """The moment in UTC, refused when it falls outside the window: an offset can push a
    datetime written as year 9999 past what Python or PostgreSQL can hold."""
    try:
        moment: datetime | None = value.astimezone(UTC)
    except OverflowError:
        moment = None
    if moment is None or not EARLIEST <= moment < LATEST:
        raise ValueError(
            f"must be from {EARLIEST.isoformat()} up to {LATEST.isoformat()} (exclusive), in UTC"
        )
    return moment


def in_delivery_window(value: date) -> date:
    """A requested delivery date is a day still to come, within a planning horizon."""
    today = datetime.now(UTC).date()
    if value < today:
        raise ValueError(f"must not be in the past (today is {today.isoformat()} in UTC)")
    if value > today + timedelta(days=MAX_DELIVERY_LEAD_DAYS):
        raise ValueError(f"must be within {MAX_DELIVERY_LEAD_DAYS} days from today")
    return value


def _not_after_tomorrow(value: datetime) -> datetime:
    if value > datetime.now(UTC) + CARRIER_CLOCK_SLACK:
        raise ValueError("must not be more than a day in the future")
    return value


# With a time zone, within the window, and given back in UTC.
AwareTimestamp = Annotated[AwareDatetime, AfterValidator(in_utc)]
# When something happened: also no more than a day ahead of this server's clock.
OccurredAt = Annotated[AwareTimestamp, AfterValidator(_not_after_tomorrow)]
