"""Customer feedback on a completed order: who may give it, when, and what counts as poor.

The rules are plain functions so the API's answers can be read (and tested) without a database:
a rating is given once per order, by the order's customer, only once the order is COMPLETED and
only within the feedback window after its completion.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.statuses import OrderStatus

LOWEST_RATING, HIGHEST_RATING = 1, 5
# A rating at or below this is poor: sales follows it up and staff are alerted.
POOR_RATING = 2
POOR_FEEDBACK_ALERT = "poor_feedback"


def is_poor(rating: int) -> bool:
    return rating <= POOR_RATING


def open_until(completed_at: datetime | None, window: timedelta) -> datetime | None:
    """When the order stops taking feedback; None while it is not completed."""
    return None if completed_at is None else completed_at + window


def feedback_refusal(
    status: str,
    completed_at: datetime | None,
    now: datetime,
    window: timedelta,
    *,
    already_given: bool,
) -> str | None:
    """Why feedback cannot be given on the order now (a conflict), or None when it can."""
    if already_given:
        return "feedback on this order was already given; it is given once"
    if status != OrderStatus.COMPLETED or completed_at is None:
        return f"feedback is for completed orders; the order is {status}"
    closes = completed_at + window
    if now > closes:
        return f"feedback on this order closed at {closes.isoformat()}"
    return None
