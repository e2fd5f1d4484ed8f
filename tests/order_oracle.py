"""What the API must answer to a request on an order, told from the workflow's own state.

The stateful property test asks the workflow for its state (the ``state`` query) once the
order has settled, predicts the answer of its next request from the design's rules, and
compares. The rules are written out here rather than taken from the workflow's validators, so
a validator that drifts from the design fails the test; only the shop-floor arithmetic (which
units a report may name) is the domain's own ``check_report``, the rule's one statement.

Answers follow the order the API checks in: the caller's role (403), the body (422), the
order's existence (404), then the order's state (409) and the request against it (403, 422).
"""

from __future__ import annotations

from domain import statuses
from domain.production import Report, check_report, production_done
from domain.refusals import Refusal, RefusalKind
from domain.statuses import TRANSITIONS, OrderStatus
from workflows.messages import OrderState

S = OrderStatus

# The people of ``tests.factories.make_world`` and their roles.
ROLES: dict[str, set[str]] = {
    "sales": {"sales"},
    "sup": {"supervisor"},
    "sup2": {"supervisor"},
    "mgr": {"manager"},
    "mgr2": {"manager"},
    "dir": {"director"},
    "fin": {"finance"},
    "ops": {"ops"},
    "prod": {"production"},
    "log": {"logistics"},
    "customer": {"customer"},
    "stranger": {"customer"},
}
APPROVER_ROLES = {"supervisor", "manager", "director", "finance", "ops"}
REFUSAL_STATUS = {
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.CONFLICT: 409,
    RefusalKind.INVALID: 422,
}


def settled(state: OrderState) -> bool:
    """Whether the order waits on a person (or the carrier) rather than on its own next step:
    only then may a request's answer be predicted from its state."""
    if state.fault is not None or state.status == S.ON_HOLD:
        return True
    if state.cancel_request is not None:
        return state.status == S.CANCELLED
    if state.status in (S.CREATED, S.APPROVED):
        return False
    if state.status == S.IN_PRODUCTION:
        allocation = state.allocation
        done = allocation is not None and production_done(state.work_orders, allocation.to_produce)
        return not done and not state.shortfall_from
    if state.status == S.AWAITING_SHIPMENT:
        return state.dispatch_request is None
    if state.status == S.SHIPPED:
        return not state.delivered
    return True


def _busy_or_not(state: OrderState, status: OrderStatus) -> bool:
    return state.cancel_request is not None or state.status != status


def decision(state: OrderState, person: str, decision: str, comment: str | None) -> int:
    """A review decision, after the role and the body passed."""
    if _busy_or_not(state, S.UNDER_REVIEW):
        return 409
    if decision == "reject" and not (comment or "").strip():
        return 422
    level = state.levels[state.current_level - 1]
    if level.status != "pending":
        return 409
    if not ROLES[person] & set(level.deciders()):
        return 403
    decided = any(d.by == person for other in state.levels for d in other.decisions)
    return 403 if decided else 200


def decided_status(state: OrderState, decision: str) -> set[str]:
    """Where a decision answered 200 leaves the order: rejected, still in review, or (the last
    approval) approved and already on to stock or production."""
    if decision == "reject":
        return {S.REJECTED}
    if state.current_level < len(state.levels):
        return {S.UNDER_REVIEW}
    return {S.APPROVED, S.IN_PRODUCTION, S.AWAITING_SHIPMENT, S.ON_HOLD}


def cancel(state: OrderState) -> int:
    if state.cancel_request is not None:
        return 409
    if state.status == S.ON_HOLD and state.carrier_hold:
        return 200
    if state.dispatch_request is not None or not _cancellable(state):
        return 409
    return 200


def _cancellable(state: OrderState) -> bool:
    if state.status == S.ON_HOLD:
        held = state.held_from
        return held is not None and S.CANCELLED in TRANSITIONS[held]
    return S.CANCELLED in TRANSITIONS[state.status]


def hold(state: OrderState) -> int:
    if state.cancel_request is not None or state.status == S.ON_HOLD:
        return 409
    if S.ON_HOLD not in TRANSITIONS[state.status] or state.dispatch_request is not None:
        return 409
    return 200


def resume(state: OrderState) -> int:
    if state.cancel_request is not None and state.fault is None:
        return 409
    return 200 if state.status == S.ON_HOLD else 409


def resumed_status(state: OrderState) -> set[str]:
    """Where a resume leaves the order: the status it left, or already a step further when
    that status had nothing left to wait for (a delivery reported while it was held)."""
    if state.held_from is None:
        return set()
    return {state.held_from, *TRANSITIONS[state.held_from]}


def amend(state: OrderState) -> int:
    """An amendment that changes something, from sales, with clean input."""
    if state.cancel_request is not None or state.dispatch_request is not None:
        return 409
    if state.status not in statuses.AMENDABLE or state.fault is not None:
        return 409
    return 200


def dispatch(state: OrderState) -> int:
    if _busy_or_not(state, S.AWAITING_SHIPMENT) or state.dispatch_request is not None:
        return 409
    return 200


def confirm(state: OrderState, person: str) -> int:
    """Its own customer or sales confirm receipt; another customer does not see the order."""
    if person == "stranger":
        return 404
    if not ROLES[person] & {"customer", "sales"}:
        return 403
    if _busy_or_not(state, S.DELIVERED) or state.confirm_request is not None:
        return 409
    return 200


def production_report(state: OrderState, report: Report) -> int:
    """A shop-floor report, after the role and the body passed: the routing and the units
    decide, as ``domain.production.check_report`` states them."""
    if _busy_or_not(state, S.IN_PRODUCTION):
        return 409
    try:
        check_report(state.work_orders, report)
    except Refusal as refusal:
        return REFUSAL_STATUS[refusal.kind]
    return 200


def takes_tracking(status: str, held_from: str | None) -> bool:
    """Tracking events are taken once the goods were handed over."""
    handed_over = (S.SHIPPED, S.DELIVERED)
    return status in handed_over or (status == S.ON_HOLD and held_from in handed_over)
