"""The events people and outside systems are told about, on every channel, and the notice each
event of an order becomes.

Webhook subscriptions name these events; the API refuses any other name, so a typo in a
subscription cannot silently receive nothing. A notice is written to the outbox in the same
transaction as the change it announces, so nobody hears of a change that did not happen, and
no change goes untold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.roles import Role


class NotificationEvent(StrEnum):
    APPROVAL_REQUESTED = "approval_requested"
    REMINDER = "reminder"
    ESCALATED = "escalated"
    APPROVED = "approved"
    REJECTED = "rejected"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    LOW_STOCK = "low_stock"
    PRODUCTION_OVERDUE = "production_overdue"
    CARRIER_EXCEPTION = "carrier_exception"
    ORDER_FAULT = "order_fault"
    FEEDBACK_REQUESTED = "feedback_requested"
    POOR_FEEDBACK = "poor_feedback"
    AMENDMENT_REQUESTED = "amendment_requested"
    AMENDMENT_ACCEPTED = "amendment_accepted"
    AMENDMENT_REFUSED = "amendment_refused"
    PROMISE_CHANGED = "promise_changed"


NOTIFICATION_EVENTS: tuple[str, ...] = tuple(event.value for event in NotificationEvent)

# Channels of one notification row; in-app rows are delivered by being written.
IN_APP, EMAIL, WEBHOOK = "in_app", "email", "webhook"
DELIVERED_CHANNELS = (EMAIL, WEBHOOK)


@dataclass(kw_only=True)
class NoticeRequest:
    """One event to tell people and subscribed systems about.

    ``key`` names the event once and for all (``"SO-2026-000001:shipped"``): the same key
    again writes nothing new. Recipients are the union of ``recipients`` (usernames), every
    active user holding one of ``roles`` and, with ``order_customer``, every active user of
    the order's customer, minus ``exclude``.
    """

    key: str
    event: str
    order_no: str | None
    subject: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)  # JSON-native values only
    recipients: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    order_customer: bool = False
    exclude: list[str] = field(default_factory=list)


def order_notice(
    event: NotificationEvent,
    order_no: str,
    status: str,
    subject: str,
    *,
    key: str = "",
    recipients: list[str] | None = None,
    roles: list[str] | None = None,
    order_customer: bool = False,
    exclude: list[str] | None = None,
) -> NoticeRequest:
    """A notice about one order, keyed by the order, the event and ``key`` (a level, a round,
    a product), and saying the status the order is in."""
    return NoticeRequest(
        key=f"{order_no}:{event.value}" + (f":{key}" if key else ""),
        event=event.value,
        order_no=order_no,
        subject=f"{order_no}: {subject}",
        body=f"Order {order_no}: {subject}. Status {status}.",
        data={"status": status},
        recipients=recipients or [],
        roles=roles or [],
        order_customer=order_customer,
        exclude=exclude or [],
    )


def customer_notice(
    event: NotificationEvent, order_no: str, status: str, subject: str, created_by: str
) -> NoticeRequest:
    """The customer hears how its order travels, and so does whoever entered it."""
    return order_notice(
        event, order_no, status, subject, recipients=[created_by], order_customer=True
    )


def low_stock_notice(order_no: str, status: str, sku: str) -> NoticeRequest:
    return order_notice(
        NotificationEvent.LOW_STOCK,
        order_no,
        status,
        f"{sku} fell below its reorder point",
        key=sku,
        roles=[Role.OPS.value, Role.PRODUCTION.value],
    )


def fault_notice(order_no: str, status: str, reason: str, *, key: str) -> NoticeRequest:
    """Ops hear of a step that failed for good and holds the order until they act."""
    return order_notice(
        NotificationEvent.ORDER_FAULT,
        order_no,
        status,
        f"held for ops: {reason}",
        key=key,
        roles=[Role.OPS.value],
    )


def feedback_request_notice(order_no: str) -> NoticeRequest:
    """On completion the customer's users are asked how the order went."""
    return NoticeRequest(
        key=f"{order_no}:{NotificationEvent.FEEDBACK_REQUESTED.value}",
        event=NotificationEvent.FEEDBACK_REQUESTED.value,
        order_no=order_no,
        subject=f"{order_no}: how did we do?",
        body=(
            f"Order {order_no} is completed. Tell us how it went: rate it from 1 to 5, with a "
            f"comment if you like, at POST /api/v1/orders/{order_no}/feedback."
        ),
        data={"status": "COMPLETED"},
        order_customer=True,
    )


def poor_feedback_notice(
    order_no: str, rating: int, comment: str | None, created_by: str
) -> NoticeRequest:
    """Whoever entered the order follows up a poor rating with the customer."""
    said = f' They said: "{comment}"' if comment else ""
    return NoticeRequest(
        key=f"{order_no}:{NotificationEvent.POOR_FEEDBACK.value}",
        event=NotificationEvent.POOR_FEEDBACK.value,
        order_no=order_no,
        subject=f"{order_no}: the customer rated it {rating} of 5",
        body=f"The customer rated order {order_no} {rating} of 5; please follow up.{said}",
        data={"status": "COMPLETED", "rating": rating},
        recipients=[created_by],
    )


def amendment_requested_notice(
    order_no: str, request_id: int, reason: str, created_by: str
) -> NoticeRequest:
    """Sales hear that a customer asks to amend an order, whoever entered it first."""
    return NoticeRequest(
        key=f"{order_no}:{NotificationEvent.AMENDMENT_REQUESTED.value}:{request_id}",
        event=NotificationEvent.AMENDMENT_REQUESTED.value,
        order_no=order_no,
        subject=f"{order_no}: the customer asks for an amendment (request #{request_id})",
        body=(
            f"The customer asks to amend order {order_no}: {reason}. Accept or refuse it at "
            f"POST /api/v1/orders/{order_no}/amendment-requests/{request_id}/accept or /refuse."
        ),
        data={"request_id": request_id},
        recipients=[created_by],
        roles=[Role.SALES.value],
    )


def amendment_decided_notice(
    order_no: str, request_id: int, *, accepted: bool, version: int | None, reason: str | None
) -> NoticeRequest:
    """The customer hears what became of its amendment request."""
    event = (
        NotificationEvent.AMENDMENT_ACCEPTED if accepted else NotificationEvent.AMENDMENT_REFUSED
    )
    outcome = f"accepted: the order is now version {version}" if accepted else "refused"
    because = f" Reason: {reason}" if reason else ""
    return NoticeRequest(
        key=f"{order_no}:{event.value}:{request_id}",
        event=event.value,
        order_no=order_no,
        subject=f"{order_no}: your amendment request #{request_id} was {outcome}",
        body=f"Your request #{request_id} to amend order {order_no} was {outcome}.{because}",
        data={"request_id": request_id, "version": version},
        order_customer=True,
    )
