"""Order statuses, their labels and the only transitions the product allows."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    UNDER_REVIEW = "UNDER_REVIEW"
    APPROVED = "APPROVED"
    IN_PRODUCTION = "IN_PRODUCTION"
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    ON_HOLD = "ON_HOLD"


STATUS_LABELS: dict[OrderStatus, dict[str, str]] = {
    OrderStatus.CREATED: {"en": "Created", "zh": "已创建"},
    OrderStatus.UNDER_REVIEW: {"en": "Under review", "zh": "审核中"},
    OrderStatus.APPROVED: {"en": "Approved", "zh": "已审核"},
    OrderStatus.IN_PRODUCTION: {"en": "In production", "zh": "生产中"},
    OrderStatus.AWAITING_SHIPMENT: {"en": "Awaiting shipment", "zh": "待发货"},
    OrderStatus.SHIPPED: {"en": "Shipped", "zh": "已发货"},
    OrderStatus.DELIVERED: {"en": "Delivered", "zh": "已送达"},
    OrderStatus.COMPLETED: {"en": "Completed", "zh": "已完成"},
    OrderStatus.REJECTED: {"en": "Rejected", "zh": "已驳回"},
    OrderStatus.CANCELLED: {"en": "Cancelled", "zh": "已取消"},
    OrderStatus.ON_HOLD: {"en": "On hold", "zh": "已挂起"},
}

STATUS_MEANINGS: dict[OrderStatus, str] = {
    OrderStatus.CREATED: "entered, being validated",
    OrderStatus.UNDER_REVIEW: "waiting for approval decisions",
    OrderStatus.APPROVED: "all required levels approved",
    OrderStatus.IN_PRODUCTION: "work order running on a production line",
    OrderStatus.AWAITING_SHIPMENT: "goods ready, shipment booked",
    OrderStatus.SHIPPED: "handed to the carrier, tracking live",
    OrderStatus.DELIVERED: "carrier reports delivery",
    OrderStatus.COMPLETED: "receipt confirmed (or auto-confirmed)",
    OrderStatus.REJECTED: "failed validation or rejected in review",
    OrderStatus.CANCELLED: "cancelled; reservations and work undone",
    OrderStatus.ON_HOLD: "paused by ops or by an exception; resumes to where it was",
}

S = OrderStatus

# ON_HOLD leads back to the status it left (checked against that status, see can_resume_to),
# or to CANCELLED when the status it left could itself be cancelled. An amendment after approval
# takes an order back UNDER_REVIEW when its approvals no longer cover it, and one awaiting
# shipment back IN_PRODUCTION when stock no longer covers it.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CREATED: frozenset({S.UNDER_REVIEW, S.REJECTED, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED, S.ON_HOLD}),
    S.APPROVED: frozenset({S.IN_PRODUCTION, S.AWAITING_SHIPMENT, S.CANCELLED}),
    S.IN_PRODUCTION: frozenset({S.AWAITING_SHIPMENT, S.CANCELLED, S.ON_HOLD, S.UNDER_REVIEW}),
    S.AWAITING_SHIPMENT: frozenset(
        {S.SHIPPED, S.CANCELLED, S.ON_HOLD, S.UNDER_REVIEW, S.IN_PRODUCTION}
    ),
    S.SHIPPED: frozenset({S.DELIVERED, S.ON_HOLD}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.ON_HOLD: frozenset({S.CANCELLED}),
}

TERMINAL: frozenset[OrderStatus] = frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED})
# Where an order takes amendments: under review, and after approval until it is dispatched.
AMENDABLE: tuple[OrderStatus, ...] = (S.UNDER_REVIEW, S.IN_PRODUCTION, S.AWAITING_SHIPMENT)


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether ``current -> target`` is one of the legal transitions (resume excluded)."""
    return target in TRANSITIONS[current]


def can_hold(current: OrderStatus) -> bool:
    return can_transition(current, S.ON_HOLD)


def can_cancel(current: OrderStatus, held_from: OrderStatus | None = None) -> bool:
    """Cancellable before SHIPPED; an order on hold is cancellable if where it left was."""
    if current is S.ON_HOLD:
        return held_from is not None and can_transition(held_from, S.CANCELLED)
    return can_transition(current, S.CANCELLED)


# Orders whose amount still draws on the customer's credit.
OPEN_STATUSES: frozenset[OrderStatus] = frozenset(
    {
        S.UNDER_REVIEW,
        S.APPROVED,
        S.IN_PRODUCTION,
        S.AWAITING_SHIPMENT,
        S.SHIPPED,
        S.DELIVERED,
        S.ON_HOLD,
    }
)
