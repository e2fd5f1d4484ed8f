"""What the Temporal UI shows of an order: whom it waits on (in words, and as the ``WaitingOn``
search attribute), and its current details (markdown: status, since when, the review levels,
stock, production progress, tracking, what a cancellation undid). Pure functions of the
order's state.

The details are markdown as the UI renders it: a single newline does not break a line, so the
facts are a list, one per item, and the tables keep their columns short so that they fit the
details panel. Facts come before the tables, so a long production table never hides them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.progress import WorkOrderFacts, production_progress
    from domain.review import LevelState
    from domain.statuses import OrderStatus
    from domain.waiting import waiting_on as waiting_on_in_words
    from workflows.messages import OrderState
    from workflows.search_attributes import OPS_FAULT

S = OrderStatus

# Who the order waits on in each stage, as the ``WaitingOn`` search attribute says it.
_WAITING_ROLE: dict[OrderStatus, str] = {
    S.CREATED: "validation",
    S.APPROVED: "production",
    S.IN_PRODUCTION: "production",
    S.AWAITING_SHIPMENT: "logistics",
    S.SHIPPED: "carrier",
    S.DELIVERED: "customer",
}


def waiting_role(status: OrderStatus, level: LevelState | None, *, fault: bool) -> str | None:
    """``WaitingOn`` of an order in ``status``: under review the role of ``level`` (the level
    under review; once escalated, the role it escalated to), on hold ``ops`` (or
    :data:`OPS_FAULT` when a step failed for good), else the stage's party; None once closed."""
    if status == S.UNDER_REVIEW and level is not None:
        return level.escalated_to if level.escalated and level.escalated_to else level.role
    if status == S.ON_HOLD:
        return OPS_FAULT if fault else "ops"
    return _WAITING_ROLE.get(status)


def level_under_review(state: OrderState) -> LevelState | None:
    return state.levels[state.current_level - 1] if state.current_level else None


def waiting_on(state: OrderState) -> str:
    level = level_under_review(state)
    return waiting_on_in_words(
        state.status,
        level=level.level if level else None,
        level_count=len(state.levels),
        role=level.role if level else None,
        escalated_to=level.escalated_to if level and level.escalated else None,
        carrier_hold=state.carrier_hold,
        fault=bool(state.fault),
    )


def render_details(state: OrderState) -> str:
    """The order's current details: the facts ops look for first, then what concerns its
    stage now (the review levels under review, else stock, production and the work orders),
    then the rest. The UI shows them in a short panel that scrolls: what matters now comes
    first."""
    facts = [
        f"**Status:** {state.status.value}",
        f"**Waiting on:** {waiting_on(state)}",
        f"**Since:** {_seconds(state.since)}",
    ]
    if state.total is not None:
        facts.append(f"**Total:** {Decimal(state.total):,.2f}")
    if state.held_from:
        facts.append(f"**Resumes to:** {state.held_from.value}")
    if state.fault:
        facts.append(f"**Held by:** {state.fault}")
    if state.tracking_no:
        facts.append(f"**Tracking:** {state.tracking_no}")
    fulfilment = []
    if state.allocation is not None and not state.compensations:
        fulfilment.append(
            f"**Stock:** {state.allocation.reserved()} unit(s) reserved, "
            f"{state.allocation.to_produce()} to make"
        )
    if state.work_orders:
        fulfilment.append(f"**Production:** {_production_summary(state)}")
    if state.compensations:
        fulfilment.append(
            "**Undone on cancellation:** " + "; ".join(c for c in state.compensations if c)
        )
    policy = [f"**Approval policy:** {state.policy}"] if state.policy else []
    levels = [_level_table(state)] if state.levels else []
    work_orders = [_work_order_table(state)] if state.work_orders else []
    if S.UNDER_REVIEW in (state.status, state.held_from):
        blocks = [_items(facts), *levels, _items(fulfilment + policy)]
    else:
        blocks = [_items(facts + fulfilment), *work_orders, *levels, _items(policy)]
    # A blank line between blocks: markdown ends a list or a table only there.
    return "\n\n".join(block for block in blocks if block)


def _items(facts: list[str]) -> str:
    return "\n".join(f"- {fact}" for fact in facts)


def _level_table(state: OrderState) -> str:
    """One row per review level; an escalated level's role shows where it went."""
    rows = [
        "| level | role | status | approvals | reminders | expiries |",
        "| --: | --- | --- | :-: | --: | --: |",
    ]
    for level in state.levels:
        role = level.role + (f" → {level.escalated_to}" if level.escalated else "")
        rows.append(
            f"| {level.level} | {role} | {level.status} | "
            f"{level.approvals()}/{level.quorum} | {level.reminders} | {level.expired} |"
        )
    return "\n".join(rows)


def _production_summary(state: OrderState) -> str:
    """Progress for the UI: steps done of all, percent, planned against actual finish."""
    progress = production_progress(
        WorkOrderFacts(
            [step.status for step in wo.steps],
            wo.planned_finish,
            wo.finished_at,
            cancelled=wo.status == "cancelled",
        )
        for wo in state.work_orders
    )
    if not progress.steps_total:
        return "cancelled"
    return (
        f"{progress.steps_done}/{progress.steps_total} steps ({progress.percent}%), "
        f"planned finish {_minutes(progress.planned_finish)}, "
        f"actual finish {_minutes(progress.actual_finish)}"
    )


def _work_order_table(state: OrderState) -> str:
    """One row per work order; the planned finish short (UTC, to the minute) so it fits."""
    rows = [
        "| work order | product | line | qty | due (UTC) | status |",
        "| --- | --- | --- | --: | --- | --- |",
    ]
    for wo in state.work_orders:
        status = wo.status + (" (overdue)" if wo.overdue and wo.status == "open" else "")
        rows.append(
            f"| {wo.work_order_no} | {wo.sku} | {wo.line} | {wo.quantity} | "
            f"{_short(wo.planned_finish)} | {status} |"
        )
    return "\n".join(rows)


def _seconds(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _short(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%m-%d %H:%M") if moment else "—"


def _minutes(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment else "—"
