"""What the Temporal UI shows of an order: whom it waits on, and its current details (markdown:
status, since when, the review levels, stock, production progress, tracking, what a
cancellation undid). Pure functions of the order's state."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.progress import WorkOrderFacts, production_progress
    from domain.statuses import OrderStatus
    from workflows.messages import OrderState

S = OrderStatus

_WAITING_ON: dict[OrderStatus, str] = {
    S.CREATED: "validation",
    S.APPROVED: "production planning",
    S.IN_PRODUCTION: "production to complete every step",
    S.AWAITING_SHIPMENT: "logistics to dispatch",
    S.SHIPPED: "the carrier to deliver",
    S.DELIVERED: "the customer to confirm receipt",
}


def waiting_on(state: OrderState) -> str:
    if state.status == S.UNDER_REVIEW and state.current_level:
        level = state.levels[state.current_level - 1]
        who = (
            level.role
            if not level.escalated
            else f"{level.role} or {level.escalated_to} (escalated)"
        )
        return f"{who} approval, level {level.level} of {len(state.levels)}"
    if state.status == S.ON_HOLD:
        return (
            "ops to resume or cancel (carrier exception)" if state.carrier_hold else "ops to resume"
        )
    return _WAITING_ON.get(state.status, "nothing: the order is closed")


def render_details(state: OrderState) -> str:
    lines = [
        f"**Status:** {state.status.value}",
        f"**Waiting on:** {waiting_on(state)}",
        f"**Since:** {state.since.isoformat(timespec='seconds')}",
    ]
    if state.held_from:
        lines.append(f"**Resumes to:** {state.held_from.value}")
    if state.policy:
        lines.append(f"**Approval policy:** {state.policy}")
    if state.levels:
        lines.append("")
        lines.append("| level | role | status | approvals | reminders | expired |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for level in state.levels:
            role = level.role + (f" → {level.escalated_to}" if level.escalated else "")
            lines.append(
                f"| {level.level} | {role} | {level.status} | "
                f"{level.approvals()}/{level.quorum} | {level.reminders} | {level.expired} |"
            )
    if state.allocation is not None and not state.compensations:
        lines.append("")
        lines.append(
            f"**Stock:** {state.allocation.reserved()} unit(s) reserved, "
            f"{state.allocation.to_produce()} to make"
        )
    if state.work_orders:
        lines.extend(_production_details(state))
    if state.tracking_no:
        lines.append("")
        lines.append(f"**Tracking:** {state.tracking_no}")
    if state.compensations:
        lines.append("")
        lines.append(
            "**Undone on cancellation:** " + "; ".join(c for c in state.compensations if c)
        )
    return "\n".join(lines)


def _production_details(state: OrderState) -> list[str]:
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
    summary = (
        f"{progress.steps_done}/{progress.steps_total} steps ({progress.percent}%), "
        f"planned finish {_minutes(progress.planned_finish)}, "
        f"actual finish {_minutes(progress.actual_finish)}"
        if progress.steps_total
        else "cancelled"
    )
    lines = [
        "",
        f"**Production:** {summary}",
        "",
        "| work order | product | line | quantity | planned finish | status |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for wo in state.work_orders:
        status = wo.status + (" (overdue)" if wo.overdue and wo.status == "open" else "")
        lines.append(
            f"| {wo.work_order_no} | {wo.sku} | {wo.line} | {wo.quantity} | "
            f"{_minutes(wo.planned_finish)} | {status} |"
        )
    return lines


def _minutes(moment: datetime | None) -> str:
    return moment.isoformat(timespec="minutes") if moment else "—"
