"""Shop-floor rules: which work order and step a report is about, and what it may say.

Steps follow the routing: a step starts or completes only after the one before it completed,
and every unit that entered a step leaves it good or scrapped. Scrap that leaves the order
short of a product is made again by another work order (a re-plan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from domain.refusals import conflict, invalid

REPORT_EVENTS = ("started", "progress", "completed")


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
    steps: list[StepState] = field(default_factory=list)
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


@dataclass(frozen=True)
class Report:
    """What a shop-floor user reported, before it is checked."""

    step: str
    event: str  # started | completed
    good_qty: int | None = None
    scrap_qty: int | None = None
    work_order_no: str | None = None


@dataclass(frozen=True)
class CheckedReport:
    """A report that fits: where it lands, its units, the step's totals after it, and
    whether it completes the step."""

    work_order: WorkOrderState
    index: int
    completed: bool
    good: int
    scrap: int
    good_total: int = 0
    scrap_total: int = 0

    @property
    def last_step(self) -> bool:
        return self.index == len(self.work_order.steps) - 1

    @property
    def finishes_work_order(self) -> bool:
        """A completed last step, or a completed step with nothing good left for the rest."""
        return self.completed and (self.last_step or self.good_total == 0)


def find_step(work_orders: list[WorkOrderState], report: Report) -> tuple[WorkOrderState, int]:
    """The named work order, or else the first open one that still needs the step."""
    if report.work_order_no is not None:
        named = [wo for wo in work_orders if wo.work_order_no == report.work_order_no]
        if not named:
            raise invalid(f"{report.work_order_no} is not a work order of this order")
        if named[0].status != "open":
            raise conflict(f"{report.work_order_no} is already {named[0].status}")
        candidates = named
    else:
        candidates = [wo for wo in work_orders if wo.status == "open"]
    if not candidates:
        raise conflict("every work order of this order is finished")
    matches = [
        (wo, i) for wo in candidates for i, step in enumerate(wo.steps) if step.name == report.step
    ]
    for wo, i in matches:
        if wo.steps[i].status not in ("completed", "skipped"):
            return wo, i
    if matches:
        return matches[0]
    names = ", ".join(dict.fromkeys(step.name for wo in candidates for step in wo.steps))
    raise invalid(f"{report.step} is not a production step here ({names})")


def check_report(work_orders: list[WorkOrderState], report: Report) -> CheckedReport:
    """The work order and step the report is about, with its good and scrap units.

    Units are never invented: ``progress`` reports what part of the step's units came out
    good or scrapped; ``completed`` reports the rest (with neither number, all the rest came
    out good; a number left out is zero), and the step's reports must then add up to the
    units that entered it. Reports that add up complete the step, ``progress`` ones too.
    """
    if report.event not in REPORT_EVENTS:
        raise invalid("event must be 'started', 'progress' or 'completed'")
    work_order, index = find_step(work_orders, report)
    step = work_order.steps[index]
    where = f"step {step.name} of {work_order.work_order_no}"
    if step.status in ("completed", "skipped"):
        raise conflict(f"{where} is already {step.status}")
    if report.event == "started" and step.status == "started":
        raise conflict(f"{where} is already started")
    if index > 0 and work_order.steps[index - 1].status != "completed":
        before = work_order.steps[index - 1].name
        raise conflict(f"{where} cannot start before step {before} is completed")
    if report.event == "started":
        return CheckedReport(work_order, index, False, 0, 0, step.good_qty, step.scrap_qty)
    units = work_order.input_of(index)
    left = units - step.good_qty - step.scrap_qty
    good, scrap = report.good_qty, report.scrap_qty
    if report.event == "completed" and good is None and scrap is None:
        good, scrap = left, 0
    good, scrap = good or 0, scrap or 0
    if good < 0 or scrap < 0 or good + scrap > left:
        raise invalid(
            f"{units} unit(s) entered {where} and {left} are not reported yet: good and scrap "
            f"of this report may add up to {left} at most"
        )
    if report.event == "progress" and good + scrap == 0:
        raise invalid("a progress report names good or scrapped units")
    if report.event == "completed" and good + scrap != left:
        raise invalid(
            f"{units} unit(s) entered {where}: with this report good and scrap must add up to "
            f"{units}, and {left - good - scrap} are not accounted for"
        )
    completes = good + scrap == left
    return CheckedReport(
        work_order,
        index,
        completes,
        good,
        scrap,
        step.good_qty + good,
        step.scrap_qty + scrap,
    )


def missing_units(work_orders: list[WorkOrderState], sku: str | None, to_produce: int) -> int:
    """Units of ``sku`` the order still lacks once every work order delivers what it can."""
    if sku is None:
        return 0
    coming = sum(
        wo.expected_output() for wo in work_orders if wo.sku == sku and wo.status != "cancelled"
    )
    return to_produce - coming


def production_done(work_orders: list[WorkOrderState], to_produce: Callable[[str], int]) -> bool:
    """Every work order finished and, for each product, enough good units made."""
    if any(wo.status == "open" for wo in work_orders):
        return False
    skus = {wo.sku for wo in work_orders if wo.sku is not None}
    return all(missing_units(work_orders, sku, to_produce(sku)) <= 0 for sku in skus)
