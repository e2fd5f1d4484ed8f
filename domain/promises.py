"""Promise dates: the day each order line is promised to reach its customer, and when a new
plan moves it.

A line is promised when the order is approved: a line served wholly from stock is ready now;
a line that production makes (wholly or in part) is ready when the last work order of its
product finishes (planned, or actually for one already done). The customer has the goods the
shipping lead time later. Dates are UTC days, as the requested delivery date is measured.

A promise holds: a new plan moves it only when it can no longer keep it (a later day). A plan
that would be ready earlier keeps the promise (being early is on time), unless the caller
asks to move it both ways (``earlier_too``: an amendment that shrank the work, say).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain.notifications import NoticeRequest, NotificationEvent, order_notice

# Days from goods ready to goods at the customer, unless SHIPPING_LEAD_DAYS says otherwise.
DEFAULT_SHIPPING_LEAD_DAYS = 2


@dataclass(frozen=True)
class WorkOrderTimes:
    """What readiness needs of a work order of the line's product."""

    status: str  # open | completed | cancelled
    planned_finish: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class PromiseMove:
    line_no: int
    sku: str
    old_date: date
    new_date: date


def promised_day(ready: datetime, lead_days: int) -> date:
    """Goods ready at ``ready`` reach the customer ``lead_days`` UTC days later."""
    return ready.astimezone(UTC).date() + timedelta(days=lead_days)


def ready_at(work_orders: Iterable[WorkOrderTimes]) -> datetime | None:
    """When the last of the product's work orders is done: finished ones when they finished,
    open ones at their planned finish; cancelled ones make nothing. None without any."""
    moments = [
        wo.finished_at if wo.status == "completed" else wo.planned_finish
        for wo in work_orders
        if wo.status != "cancelled"
    ]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def moves(current: date, planned: date, *, earlier_too: bool = False) -> bool:
    """Whether a promise of ``current`` moves to ``planned``: later always, earlier on request."""
    return planned > current or (earlier_too and planned < current)


def promise_changed_notice(
    order_no: str,
    status: str,
    created_by: str,
    changes: list[PromiseMove],
    *,
    cause: str,
    why: str,
) -> NoticeRequest:
    """The customer (and whoever entered the order) hear each line's old and new date, once
    per ``cause``."""
    told = "; ".join(
        f"line {move.line_no} ({move.sku}) from {move.old_date.isoformat()} to "
        f"{move.new_date.isoformat()}"
        for move in changes
    )
    notice = order_notice(
        NotificationEvent.PROMISE_CHANGED,
        order_no,
        status,
        f"promised delivery moved: {told}",
        key=cause,
        recipients=[created_by],
        order_customer=True,
    )
    notice.body = f"Order {order_no}: promised delivery moved: {told} ({why}). Status {status}."
    notice.data = {
        "status": status,
        "reason": why,
        "lines": [
            {
                "line_no": move.line_no,
                "sku": move.sku,
                "old_date": move.old_date.isoformat(),
                "new_date": move.new_date.isoformat(),
            }
            for move in changes
        ],
    }
    return notice
