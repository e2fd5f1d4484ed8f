"""Inputs and results of activities: plain dataclasses, so fields can be added without breaking
orders already running."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.fulfilment import ShipmentLine
from domain.notifications import NoticeRequest


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
    # Written in the same transaction: the review level this transition opens, and the
    # notices that announce it.
    opens_level: int | None = None
    notices: list[NoticeRequest] = field(default_factory=list)
    # A step that failed for good: an ``order_fault`` alert with this message.
    fault: str | None = None


@dataclass
class LevelPlan:
    """A review level as the policy set it; clocks in seconds, None for the default."""

    role: str
    quorum: int = 1
    remind_every: float | None = None
    escalate_after: float | None = None
    expire_after: float | None = None
    reminder_limit: int | None = None


@dataclass
class ReviewPlan:
    policy_version: int
    rule: str
    levels: list[LevelPlan]


@dataclass
class ValidationOutcome:
    """A valid order comes back with the review the approval policy asks for."""

    ok: bool
    reasons: list[str]
    total: str  # decimal as text, the order's currency
    customer_id: str
    review: ReviewPlan | None = None


@dataclass
class DecisionRecord:
    order_no: str
    level: int
    decided_by: str
    acting_role: str
    decision: str
    comment: str | None
    at: datetime
    # The level's status after this decision; a quorum level stays pending until enough
    # approvers approved.
    level_status: str
    # The approver the decider stood in for, through a delegation.
    on_behalf_of: str | None = None
    # What the decision does, written in the same transaction: the next level it opens (and
    # the notices asking its approvers), or the transition that ends the review.
    opens_level: int | None = None
    notices: list[NoticeRequest] = field(default_factory=list)
    transition: TransitionRecord | None = None


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
    # Which firing of this kind for this level, as reminders repeat.
    round: int = 1
    notices: list[NoticeRequest] = field(default_factory=list)


@dataclass
class LineAllocation:
    """How an order line is covered: ``reserved`` units from stock, ``to_produce`` made."""

    line_no: int
    sku: str
    quantity: int
    reserved: int
    to_produce: int


@dataclass
class StockAllocation:
    lines: list[LineAllocation]
    # Products whose low-stock alert this reservation raised (and told ops about).
    low_stock: list[str] = field(default_factory=list)

    def to_produce(self, sku: str | None = None) -> int:
        return sum(line.to_produce for line in self.lines if sku in (None, line.sku))

    def reserved(self) -> int:
        return sum(line.reserved for line in self.lines)


@dataclass
class StepPlan:
    name: str
    planned_start: datetime | None = None
    planned_finish: datetime | None = None


@dataclass
class WorkOrderPlan:
    """A work order as booked: one product, scheduled on one line."""

    work_order_no: str
    line: str
    steps: list[str] = field(default_factory=list)
    seq: int = 1
    sku: str | None = None
    quantity: int = 0
    planned_start: datetime | None = None
    planned_finish: datetime | None = None
    step_plans: list[StepPlan] = field(default_factory=list)
    replan_of: str | None = None


@dataclass
class ReplanRequest:
    """Book another work order for what scrap left missing."""

    order_no: str
    seq: int
    sku: str
    quantity: int
    replan_of: str


@dataclass
class OverdueNotice:
    order_no: str
    work_order_no: str
    planned_finish: datetime
    at: datetime
    notices: list[NoticeRequest] = field(default_factory=list)


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
    work_order_no: str | None = None
    # Set when this report finishes the work order: the good units it puts into stock, and
    # whether the steps after this one are skipped because nothing good is left to work on.
    finishes_work_order: bool = False
    produced_qty: int = 0
    skips_remaining_steps: bool = False
    # Whether the report completes the step, and the step's good and scrapped units after
    # it (reports since release 1.0 may cover a step in parts).
    completes_step: bool = True
    step_good: int | None = None
    step_scrap: int | None = None


@dataclass
class ShipmentBooking:
    carrier: str
    tracking_no: str


@dataclass
class DispatchRecord:
    order_no: str
    at: datetime
    # The shipment of a per-line order, and the lines it carries (fixed at the hand-over);
    # None: the order's one shipment, which carries the whole order (release 1.0).
    seq: int | None = None
    lines: list[ShipmentLine] | None = None
    # Who hears of this shipment (a part of the order; the last part's transition tells).
    notices: list[NoticeRequest] = field(default_factory=list)


@dataclass
class ShipmentRequest:
    """Book shipment ``seq`` of a per-line order (its lines are fixed at the hand-over)."""

    order_no: str
    seq: int


@dataclass
class ReceiptRecord:
    """Receipt confirmed for shipments of a per-line order, by a person or automatically;
    with the transition it completes, written in the same transaction."""

    order_no: str
    seqs: list[int]
    confirmed_by: str
    at: datetime
    transition: TransitionRecord | None = None


@dataclass
class BackorderRecord:
    """What had not shipped was cancelled; the order moves on to SHIPPED with what shipped,
    by the transitions that take it there."""

    order_no: str
    at: datetime
    transitions: list[TransitionRecord]


@dataclass
class CarrierEventRecord:
    tracking_no: str
    status: str
    location: str | None
    occurred_at: datetime
    detail: str | None = None
    # The transition the event causes (a delivery), written in the same transaction.
    transition: TransitionRecord | None = None


@dataclass
class CancellationRecord:
    order_no: str
    at: datetime
    # Only the unshipped rest is cancelled (the backorder): shipments handed over stay.
    backorder_only: bool = False


@dataclass
class Compensation:
    """What one compensation undid, in words for the order's history and current details."""

    done: str
