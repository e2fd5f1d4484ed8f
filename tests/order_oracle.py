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

from datetime import datetime

from domain import statuses
from domain.fulfilment import DELIVERED, LineFacts, LineProgress, progress, shipped_units
from domain.production import Report, check_report, production_done
from domain.refusals import Refusal, RefusalKind
from domain.statuses import TERMINAL, TRANSITIONS, OrderStatus
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
    if state.per_line:
        return _per_line_settled(state)
    if state.status == S.AWAITING_SHIPMENT:
        return state.dispatch_request is None
    if state.status == S.SHIPPED:
        return not state.delivered
    return True


def _per_line_settled(state: OrderState) -> bool:
    """A per-line order waits on logistics while something is left to ship, on the carrier
    while a shipment is not delivered, on the customer while one is not confirmed."""
    lines = line_progress(state)
    handed = [s for s in state.shipments if s.handed_over]
    if state.status == S.AWAITING_SHIPMENT:
        return any(line.shipped < line.due for line in lines)
    if state.status == S.SHIPPED:
        return any(s.status != DELIVERED for s in handed)
    if state.status == S.DELIVERED:
        return any(not s.confirmed for s in handed)
    return True


def line_progress(state: OrderState) -> list[LineProgress]:
    """Per-line fulfilment: each line's units ready, shipped and delivered, by the domain's
    rule (``domain.fulfilment``), from what the workflow knows."""
    allocation = state.allocation
    facts = [
        LineFacts(line.line_no, line.sku, line.quantity, line.reserved, line.to_produce)
        for line in (allocation.lines if allocation is not None else [])
    ]
    return progress(
        facts, state.work_orders, state.shipments, backorder_cancelled=state.backorder_cancelled
    )


def ships_per_line(state: OrderState) -> bool:
    """Decided where the order first reaches shipping; an order in production that booked
    nothing yet decides it with its first dispatch."""
    if state.per_line is not None:
        return state.per_line
    return state.status == S.IN_PRODUCTION and state.tracking_no is None


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


def amend(state: OrderState, quantities: tuple[tuple[int, int], ...] = ()) -> int:
    """An amendment that changes something, from sales, with clean input; ``quantities``:
    the lines it sets, as (line_no, quantity). A line is not set below what it shipped."""
    if state.cancel_request is not None or state.dispatch_request is not None:
        return 409
    if state.status not in statuses.AMENDABLE or state.fault is not None:
        return 409
    shipped = shipped_units(state.shipments)
    if any(quantity < shipped.get(line_no, 0) for line_no, quantity in quantities):
        return 409
    return 200


def dispatch(state: OrderState) -> int:
    """Without lines: everything ready ships, from production or awaiting shipment (per
    line); an order booked ahead as release 1.0 did ships whole from AWAITING_SHIPMENT."""
    if ships_per_line(state):
        if state.cancel_request is not None or state.fault is not None:
            return 409
        if state.status not in (S.IN_PRODUCTION, S.AWAITING_SHIPMENT):
            return 409
        return 200 if any(line.open_to_ship for line in line_progress(state)) else 409
    if _busy_or_not(state, S.AWAITING_SHIPMENT) or state.dispatch_request is not None:
        return 409
    return 200


def dispatched_status(state: OrderState) -> set[str]:
    if not ships_per_line(state):
        return {S.SHIPPED}
    return {S.SHIPPED, S.IN_PRODUCTION, S.AWAITING_SHIPMENT, S.ON_HOLD}


def cancelled_status(state: OrderState) -> set[str]:
    """CANCELLED; after a partial shipment, the backorder only: the order ships what shipped."""
    if state.per_line and any(s.handed_over for s in state.shipments) and not state.carrier_hold:
        return {S.SHIPPED}
    return {S.CANCELLED}


def confirm(state: OrderState, person: str) -> int:
    """Its own customer or sales confirm receipt; another customer does not see the order."""
    if person == "stranger":
        return 404
    if not ROLES[person] & {"customer", "sales"}:
        return 403
    if state.per_line:
        # Every delivered shipment not yet confirmed, whatever the rest of the order does.
        if state.cancel_request is not None or state.status in TERMINAL:
            return 409
        waiting = [s for s in state.shipments if s.status == DELIVERED and not s.confirmed]
        return 200 if waiting else 409
    if _busy_or_not(state, S.DELIVERED) or state.confirm_request is not None:
        return 409
    return 200


def confirmed_status(state: OrderState) -> set[str]:
    if not state.per_line:
        return {S.COMPLETED}
    return {S.COMPLETED, S.IN_PRODUCTION, S.AWAITING_SHIPMENT, S.SHIPPED, S.ON_HOLD}


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


def takes_tracking(state: OrderState, tracking_no: str) -> bool:
    """Tracking events are taken once the goods were handed over: a per-line order's
    shipment once it was, whatever the rest of the order does."""
    status, held_from = state.status, state.held_from
    handed_over = (S.SHIPPED, S.DELIVERED)
    if status in handed_over or (status == S.ON_HOLD and held_from in handed_over):
        return True
    shipment = next((s for s in state.shipments if s.tracking_no == tracking_no), None)
    return shipment is not None and shipment.handed_over and status not in TERMINAL


def tracking_to_report(state: OrderState) -> str | None:
    """The tracking number an event is about: a per-line order's first shipment the carrier
    still has, else its latest."""
    waiting = [s for s in state.shipments if s.handed_over and s.status != DELIVERED]
    return waiting[0].tracking_no if waiting else state.tracking_no


def latest_tracking_at(state: OrderState, tracking_no: str) -> datetime | None:
    """The newest event the order (a per-line order: the shipment) has seen."""
    if not state.per_line:
        return state.latest_tracking_at
    shipment = next((s for s in state.shipments if s.tracking_no == tracking_no), None)
    return shipment.latest_tracking_at if shipment is not None else None


def delivers_the_order(state: OrderState, tracking_no: str) -> bool:
    """A delivery moves a shipped order on when it is the last shipment the carrier had."""
    if state.status != S.SHIPPED:
        return False
    others = [s for s in state.shipments if s.handed_over and s.tracking_no != tracking_no]
    return all(s.status == DELIVERED for s in others)
