"""Inputs and results of activities: plain dataclasses, so fields can be added without breaking
orders already running."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class TransitionRecord:
    """One status change; ``seq``, the workflow's own counter, makes the write idempotent."""

    order_no: str
    seq: int
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    at: datetime
    held_from: str | None = None


@dataclass
class ValidationOutcome:
    ok: bool
    reasons: list[str]
    total: str  # decimal as text, the order's currency
    customer_id: str


@dataclass
class ReviewOpening:
    order_no: str
    roles: list[str]


@dataclass
class LevelOpening:
    order_no: str
    level: int
    at: datetime


@dataclass
class DecisionRecord:
    order_no: str
    level: int
    decided_by: str
    acting_role: str
    decision: str
    comment: str | None
    at: datetime


@dataclass
class ReviewNoticeRecord:
    """A reminder to the level's approvers, or an escalation to the next role up."""

    order_no: str
    level: int
    kind: str  # reminder | escalation
    role: str
    created_by: str  # never reminded: the creator may not approve its own order
    at: datetime
    escalated_to: str | None = None


@dataclass
class WorkOrderPlan:
    work_order_no: str
    line: str
    steps: list[str] = field(default_factory=list)


@dataclass
class ProductionEventRecord:
    order_no: str
    event_id: str
    step: str
    event: str  # started | completed
    good_qty: int | None
    scrap_qty: int | None
    note: str | None
    reported_by: str
    at: datetime


@dataclass
class ShipmentBooking:
    carrier: str
    tracking_no: str


@dataclass
class DispatchRecord:
    order_no: str
    at: datetime


@dataclass
class CarrierEventRecord:
    tracking_no: str
    status: str
    location: str | None
    occurred_at: datetime


@dataclass
class CancellationRecord:
    order_no: str
    at: datetime
