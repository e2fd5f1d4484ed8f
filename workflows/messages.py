"""What goes in and out of the order workflow: its input, update and signal payloads, the
acknowledgement updates answer with, and the state it keeps (which its query returns and a
continued run starts from). Plain dataclasses, shared with the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from activities.amendments import AmendmentChanges
from activities.inputs import StockAllocation
from domain.fulfilment import ShipmentLine, ShipmentState
from domain.production import StepState, WorkOrderState
from domain.review import DecisionState, LevelState
from domain.statuses import OrderStatus

TASK_QUEUE = "orders"

__all__ = [
    "TASK_QUEUE",
    "ActionRequest",
    "Actor",
    "AmendmentChanges",
    "AmendmentRequest",
    "CarrierUpdate",
    "ConfirmRequest",
    "DecisionRequest",
    "DecisionState",
    "DispatchRequest",
    "LevelState",
    "OrderState",
    "OrderTimers",
    "OrderWorkflowInput",
    "ProductionReport",
    "ShipmentLine",
    "ShipmentState",
    "StepState",
    "UpdateAck",
    "WorkOrderState",
    "workflow_id_for",
]


def workflow_id_for(order_no: str) -> str:
    return f"order-{order_no}"


@dataclass
class OrderTimers:
    """Clocks in seconds, taken from configuration when the order starts."""

    remind_after: float
    escalate_after: float
    auto_confirm_after: float
    # A review level nobody decides goes on hold after this (None: never).
    expire_after: float | None = None
    # Reminders a level sends per round, so a review left waiting stays cheap.
    reminder_limit: int = 3


@dataclass
class Actor:
    """The authenticated person behind an update or signal."""

    username: str
    roles: list[str]


@dataclass
class DecisionRequest:
    actor: Actor
    decision: str  # approve | reject
    comment: str | None = None
    # Roles the actor holds through active delegations, each with its delegator.
    delegated_roles: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRequest:
    """Cancel, hold, resume, dispatch or confirm delivery, with an optional reason."""

    actor: Actor
    reason: str | None = None


@dataclass
class DispatchRequest(ActionRequest):
    """Dispatch: the lines and units to ship; None ships everything ready."""

    lines: list[ShipmentLine] | None = None


@dataclass
class ConfirmRequest(ActionRequest):
    """Confirm receipt: of one shipment (its tracking number), or of every delivered one."""

    tracking_no: str | None = None


@dataclass
class ProductionReport:
    event_id: str
    reported_by: str
    step: str
    event: str  # started | completed
    good_qty: int | None = None
    scrap_qty: int | None = None
    note: str | None = None
    # Which work order; when left out, the first open one that still needs the step.
    work_order_no: str | None = None


@dataclass
class CarrierUpdate:
    tracking_no: str
    status: str  # in_transit | out_for_delivery | delivered | exception
    location: str | None
    occurred_at: datetime
    detail: str | None = None


@dataclass
class AmendmentRequest:
    actor: Actor
    reason: str
    changes: AmendmentChanges


@dataclass
class UpdateAck:
    """What an update answers: the request took effect and PostgreSQL shows it, so the
    caller reads the order from there."""

    order_no: str
    status: OrderStatus


@dataclass
class OrderState:
    """Everything the workflow knows about the order: the query's answer, and what a run that
    continues as new starts from."""

    order_no: str
    status: OrderStatus
    since: datetime
    held_from: OrderStatus | None = None
    waiting_on: str = ""
    policy: str | None = None
    # The order's total as validation priced it (decimal as text); None before validation.
    total: str | None = None
    current_level: int = 0  # 1-based; 0 before review
    levels: list[LevelState] = field(default_factory=list)
    allocation: StockAllocation | None = None
    work_orders: list[WorkOrderState] = field(default_factory=list)
    # Products a report left short, each with the work order whose scrap did: to re-plan.
    shortfall_from: dict[str, str] = field(default_factory=dict)
    # The shipment's tracking number; of the latest shipment of an order that ships per line.
    tracking_no: str | None = None
    # Carrier tracking: events seen (status@occurred_at), the newest, a hold it caused.
    carrier_seen: list[str] = field(default_factory=list)
    latest_tracking_at: datetime | None = None
    carrier_hold: bool = False
    delivered: bool = False
    # The step that failed for good and holds the order, until ops resumes or cancels it; and
    # tracking events that could not be recorded then, recorded again on the resume.
    fault: str | None = None
    unrecorded_events: list[CarrierUpdate] = field(default_factory=list)
    cancel_request: ActionRequest | None = None
    dispatch_request: ActionRequest | None = None
    confirm_request: ActionRequest | None = None
    # Compensations due on cancellation, in the order they became due, and what they undid.
    undo: list[str] = field(default_factory=list)
    compensations: list[str] = field(default_factory=list)
    # The workflow's own count of transitions: each one's key in PostgreSQL.
    transition_seq: int = 0
    # 1 as entered; each amendment makes the next version.
    version: int = 1
    # Per-line fulfilment (release 1.1): None until the order first reaches shipping; then
    # True when it ships line by line in shipments of their own, False when it ships as one
    # shipment booked ahead, as release 1.0 did (see workflows/order/shipping.py).
    per_line: bool | None = None
    shipments: list[ShipmentState] = field(default_factory=list)
    # A cancellation after a partial shipment cancelled what had not shipped.
    backorder_cancelled: bool = False


@dataclass
class OrderWorkflowInput:
    order_no: str
    created_by: str
    timers: OrderTimers
    # The run continues as new once its history holds this many events (or when Temporal
    # suggests it sooner), so an order that waits for months never outgrows its history.
    history_limit: int = 10_000
    # Where the order stood when the previous run continued as new; None for a new order.
    carried: OrderState | None = None
    # The day the customer asked for (ISO date), as entered; None when none was asked for.
    # Carried for what the workflow shows of the order; it adds no step to the workflow.
    requested_delivery_date: str | None = None
