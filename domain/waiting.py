"""Whom an order waits on, in plain words, from a few facts about where it stands. Shared by
what the Temporal UI shows of an order and the analytics overview, so both say the same."""

from __future__ import annotations

from domain.statuses import OrderStatus

S = OrderStatus

_WAITING_ON: dict[OrderStatus, str] = {
    S.CREATED: "validation",
    S.UNDER_REVIEW: "approval",
    S.APPROVED: "production planning",
    S.IN_PRODUCTION: "production to complete every step",
    S.AWAITING_SHIPMENT: "logistics to dispatch",
    S.SHIPPED: "the carrier to deliver",
    S.DELIVERED: "the customer to confirm receipt",
}


def waiting_on(
    status: OrderStatus,
    *,
    level: int | None = None,
    level_count: int = 0,
    role: str | None = None,
    escalated_to: str | None = None,
    carrier_hold: bool = False,
    fault: bool = False,
) -> str:
    """``supervisor approval, level 1 of 2``, ``logistics to dispatch``, ``ops to resume``...

    ``level``, ``role`` and ``escalated_to`` describe the review level open now, if any;
    ``carrier_hold`` an order held for a carrier's delivery exception, ``fault`` one held
    because a step failed for good.
    """
    if status is S.UNDER_REVIEW and level is not None and role is not None:
        who = role if escalated_to is None else f"{role} or {escalated_to} (escalated)"
        return f"{who} approval, level {level} of {level_count}"
    if status is S.ON_HOLD:
        if fault:
            return "ops to resume or cancel (system fault)"
        return "ops to resume or cancel (carrier exception)" if carrier_hold else "ops to resume"
    return _WAITING_ON.get(status, "nothing: the order is closed")
