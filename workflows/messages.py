"""What goes in and out of the order workflow: its input, update and signal payloads, and the
live state its query returns. Plain dataclasses, shared with the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TASK_QUEUE = "orders"

# ApplicationError types a refused update carries; the API maps them to HTTP statuses.
REFUSED_FORBIDDEN = "Forbidden"  # 403
REFUSED_CONFLICT = "Conflict"  # 409
REFUSED_INVALID = "Invalid"  # 422


def workflow_id_for(order_no: str) -> str:
    return f"order-{order_no}"


@dataclass
class OrderTimers:
    """Durations in seconds, taken from configuration when the order starts."""

    remind_after: float
    escalate_after: float
    auto_confirm_after: float


@dataclass
class NotificationRetry:
    """How often an e-mail or webhook about the order is tried, and the first wait between."""

    max_attempts: int = 5
    initial_interval_seconds: float = 2.0


@dataclass
class OrderWorkflowInput:
    order_no: str
    created_by: str
    timers: OrderTimers
    notifications: NotificationRetry = field(default_factory=NotificationRetry)


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
class DecisionState:
    by: str
    decision: str
    comment: str | None
    at: datetime
    on_behalf_of: str | None = None


@dataclass
class LevelState:
    level: int
    role: str
    status: str = "waiting"  # waiting | pending | approved | rejected | cancelled
    escalated: bool = False
    escalated_to: str | None = None
    reminded: bool = False
    decisions: list[DecisionState] = field(default_factory=list)
    # From the approval policy; the clocks in seconds, None for the order's defaults.
    quorum: int = 1
    remind_every: float | None = None
    escalate_after: float | None = None
    expire_after: float | None = None
    reminders: int = 0
    expired: int = 0


@dataclass
class StepState:
    name: str
    status: str = "pending"  # pending | started | completed | skipped
    good_qty: int = 0
    scrap_qty: int = 0


@dataclass
class WorkOrderState:
    work_order_no: str
    sku: str | None
    line: str
    quantity: int
    planned_start: datetime | None
    planned_finish: datetime | None
    steps: list[StepState]
    status: str = "open"  # open | completed | cancelled
    produced: int = 0
    overdue: bool = False
    finished_at: datetime | None = None
    replan_of: str | None = None

    def expected_output(self) -> int:
        """Good units this work order will deliver if nothing more is scrapped."""
        if self.status == "completed":
            return self.produced
        done = [step for step in self.steps if step.status == "completed"]
        return done[-1].good_qty if done else self.quantity

    def input_of(self, index: int) -> int:
        """Units that enter step ``index``: the good output of the step before it."""
        return self.quantity if index == 0 else self.steps[index - 1].good_qty


@dataclass
class OrderState:
    """What the workflow knows right now; the query answer and the update result."""

    order_no: str
    status: str
    held_from: str | None
    since: datetime | None
    waiting_on: str
    current_level: int
    levels: list[LevelState]
    steps: list[StepState]
    tracking_no: str | None
    work_orders: list[WorkOrderState] = field(default_factory=list)
    compensations: list[str] = field(default_factory=list)
