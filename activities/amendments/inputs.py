"""What goes in and out of the amendment activities: the changes asked for, the plan (the
amended order, priced, and its review) and the record that writes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from activities.inputs import LevelPlan, StockAllocation, TransitionRecord, WorkOrderPlan
from domain.amendments import LevelBefore
from domain.notifications import NoticeRequest


@dataclass
class LevelWrite:
    """A review level as the amended review has it."""

    level: int
    spec: LevelPlan
    status: str  # approved | pending | waiting
    opening: int


@dataclass
class LineChange:
    line_no: int
    quantity: int
    # Decimal as text; None keeps the line's price.
    unit_price: str | None = None


@dataclass
class NewLine:
    sku: str
    quantity: int
    # Decimal as text; None takes the price list's price of the order's entry day.
    unit_price: str | None = None


@dataclass
class AmendmentChanges:
    """What an amendment asks for; what it leaves out stays as it is."""

    change_lines: list[LineChange] = field(default_factory=list)
    remove_lines: list[int] = field(default_factory=list)
    add_lines: list[NewLine] = field(default_factory=list)
    # ISO date; ``set_requested_delivery_date`` tells "clear it" (None) from "leave it".
    requested_delivery_date: str | None = None
    set_requested_delivery_date: bool = False
    notes: str | None = None
    set_notes: bool = False


@dataclass
class PlannedLine:
    line_no: int
    sku: str
    quantity: int
    unit_price: str | None  # decimal as text, as everything the workflow carries


@dataclass
class PlanRequest:
    order_no: str
    changes: AmendmentChanges
    levels: list[LevelBefore]


@dataclass
class PlannedLevel:
    level: int
    spec: LevelPlan
    keeps_decisions: bool
    approved: bool
    why: str


@dataclass
class AmendmentPlan:
    """The amended order and its review; ``refusal`` instead when the amendment cannot be."""

    refusal: str | None = None
    version: int = 0
    lines: list[PlannedLine] = field(default_factory=list)
    requested_delivery_date: str | None = None  # ISO date
    notes: str | None = None
    total_before: str = "0"
    total_after: str = "0"
    changes: list[dict[str, Any]] = field(default_factory=list)
    policy_version: int = 0
    rule: str = ""
    levels: list[PlannedLevel] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


@dataclass
class AmendmentRecord:
    order_no: str
    amended_by: str
    reason: str
    at: datetime
    plan: AmendmentPlan
    levels: list[LevelWrite]
    notices: list[NoticeRequest] = field(default_factory=list)
    # The amended review needs nobody: the order is approved in the same write.
    transition: TransitionRecord | None = None
    # The levels the review had before, whose decisions a re-opening sets aside.
    decided_before: list[int] = field(default_factory=list)


@dataclass
class AmendmentResult:
    """What recording did: ``refusal`` when the credit no longer allowed it (nothing written);
    for an order past approval, its stock and work orders as the amendment left them."""

    refusal: str | None = None
    allocation: StockAllocation | None = None
    new_work_orders: list[WorkOrderPlan] = field(default_factory=list)
    cancelled_work_orders: list[str] = field(default_factory=list)
