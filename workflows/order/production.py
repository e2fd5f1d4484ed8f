"""Production tracking: the order's work orders, the shop floor's reports, re-plans of what
scrap left missing, and the one overdue flag a late work order raises.

Which report fits where is decided by ``domain/production.py``; this module applies accepted
reports to the state and writes them to PostgreSQL.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Protocol

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inputs import (
        OverdueNotice,
        ProductionEventRecord,
        ReplanRequest,
        WorkOrderPlan,
    )
    from activities.production import ProductionActivities
    from domain.notifications import NotificationEvent, order_notice
    from domain.production import (
        CheckedReport,
        Report,
        StepState,
        WorkOrderState,
        check_report,
        missing_units,
        production_done,
    )
    from domain.roles import Role
    from domain.statuses import OrderStatus
    from workflows.messages import ProductionReport, UpdateAck
    from workflows.order.context import OrderContext

S = OrderStatus


def work_order_state(plan: WorkOrderPlan) -> WorkOrderState:
    return WorkOrderState(
        work_order_no=plan.work_order_no,
        sku=plan.sku,
        line=plan.line,
        quantity=plan.quantity,
        planned_start=plan.planned_start,
        planned_finish=plan.planned_finish,
        steps=[StepState(name=name) for name in plan.steps],
        replan_of=plan.replan_of,
    )


class ReceiptClock(Protocol):
    """The receipts of a per-line order's shipments, which production's wait keeps in time."""

    def marker(self) -> tuple[int, ...]: ...

    def next_auto_confirm(self) -> datetime | None: ...

    async def auto_confirm_due(self) -> None: ...


class ProductionTracker:
    def __init__(self, order: OrderContext) -> None:
        self.order = order
        # Set by the workflow: shipments of a per-line order may be delivered during production.
        self.receipts: ReceiptClock | None = None

    # ------------------------------------------------------------------ main flow

    def done(self) -> bool:
        state = self.order.state
        allocation = state.allocation
        if allocation is None:
            return True
        return production_done(state.work_orders, allocation.to_produce)

    def plan_summary(self) -> str:
        state = self.order.state
        assert state.allocation is not None
        plans = ", ".join(
            f"{wo.work_order_no} ({wo.quantity} × {wo.sku}) on {wo.line}"
            for wo in state.work_orders
        )
        reserved = state.allocation.reserved()
        taken = f"{reserved} unit(s) reserved from stock" if reserved else "nothing in stock"
        return f"{taken}; to make: {plans}"

    async def watch(self) -> None:
        """Wait until the work orders made every missing unit; flag each one that runs past
        its planned finish, once."""
        state = self.order.state
        # An amendment may take the order back under review (production waits for it).
        while not self.done() and self.order.stage() == S.IN_PRODUCTION:
            await self._replan_shortfalls()
            watched = [
                wo
                for wo in state.work_orders
                if wo.status == "open" and not wo.overdue and wo.planned_finish is not None
            ]
            due = min((wo.planned_finish for wo in watched if wo.planned_finish), default=None)
            # A shipment of a per-line order delivered meanwhile is auto-confirmed in time.
            receipts = self.receipts
            confirm_at = receipts.next_auto_confirm() if receipts is not None else None
            wake = min((at for at in (due, confirm_at) if at is not None), default=None)
            timeout = (
                None if wake is None else max(wake - workflow.now(), timedelta(milliseconds=100))
            )
            seen = receipts.marker() if receipts is not None else ()
            moved = functools.partial(self._moved, len(state.work_orders), seen)
            if await self.order.wait(moved, timeout=timeout):
                continue
            now = workflow.now()
            for wo in watched:
                if wo.status == "open" and wo.planned_finish and wo.planned_finish <= now:
                    await self._flag_overdue(wo)
            if receipts is not None and confirm_at is not None and confirm_at <= now:
                await receipts.auto_confirm_due()
            self.order.show()

    def _moved(self, work_orders_seen: int, receipts_seen: tuple[int, ...] = ()) -> bool:
        """Done, a shortfall to re-plan, a re-plan or an amendment added a work order whose
        planned finish needs watching, an amendment took the order back under review, or a
        shipment of a per-line order moved on (its auto-confirm clock may start)."""
        state = self.order.state
        return (
            self.done()
            or bool(state.shortfall_from)
            or len(state.work_orders) != work_orders_seen
            or self.order.stage() != S.IN_PRODUCTION
            or (self.receipts is not None and self.receipts.marker() != receipts_seen)
        )

    async def _flag_overdue(self, wo: WorkOrderState) -> None:
        assert wo.planned_finish is not None
        wo.overdue = True
        told = order_notice(
            NotificationEvent.PRODUCTION_OVERDUE,
            self.order.order_no,
            self.order.state.status,
            f"{wo.work_order_no} is past its planned finish",
            key=wo.work_order_no,
            roles=[Role.PRODUCTION.value, Role.OPS.value],
        )
        await self.order.project(
            ProductionActivities.flag_overdue,
            OverdueNotice(
                self.order.order_no, wo.work_order_no, wo.planned_finish, workflow.now(), [told]
            ),
        )

    # ------------------------------------------------------------------ reports (update)

    def check(self, report: ProductionReport) -> CheckedReport:
        self.order.check_open(S.IN_PRODUCTION)
        return check_report(
            self.order.state.work_orders,
            Report(
                step=report.step,
                event=report.event,
                good_qty=report.good_qty,
                scrap_qty=report.scrap_qty,
                work_order_no=report.work_order_no,
            ),
        )

    async def report(self, report: ProductionReport) -> UpdateAck:
        """A shop-floor record: a step started, units of it made good or scrapped, or the
        step completed. The main flow re-plans what scrap left missing."""
        order = self.order
        async with order.lock:
            with order.refusing():
                checked = self.check(report)
            work_order = checked.work_order
            step = work_order.steps[checked.index]
            finishes = checked.finishes_work_order
            counted = report.event != "started"
            now = workflow.now()
            await order.project_for_caller(
                ProductionActivities.record_production,
                ProductionEventRecord(
                    order_no=order.order_no,
                    event_id=report.event_id,
                    step=step.name,
                    event=report.event,
                    good_qty=checked.good if counted else None,
                    scrap_qty=checked.scrap if counted else None,
                    note=report.note,
                    reported_by=report.reported_by,
                    at=now,
                    work_order_no=work_order.work_order_no,
                    finishes_work_order=finishes,
                    produced_qty=checked.good_total if finishes else 0,
                    skips_remaining_steps=finishes and not checked.last_step,
                    completes_step=checked.completed,
                    step_good=checked.good_total,
                    step_scrap=checked.scrap_total,
                ),
            )
            step.status = "completed" if checked.completed else "started"
            step.good_qty, step.scrap_qty = checked.good_total, checked.scrap_total
            if finishes:
                for later in work_order.steps[checked.index + 1 :]:
                    later.status = "skipped"
                work_order.status = "completed"
                work_order.produced = checked.good_total
                work_order.finished_at = now
            if work_order.sku is not None:
                # The main flow books another work order if this one's scrap left a shortfall.
                order.state.shortfall_from.setdefault(work_order.sku, work_order.work_order_no)
            order.show()
        return order.ack()

    async def _replan_shortfall(self, work_order: WorkOrderState) -> None:
        """Book another work order for what scrap left missing of its product."""
        state = self.order.state
        assert state.allocation is not None
        sku = work_order.sku
        if sku is None:
            return
        missing = missing_units(state.work_orders, sku, state.allocation.to_produce(sku))
        if missing <= 0:
            return
        plan: WorkOrderPlan = await self.order.project(
            ProductionActivities.replan_production,
            ReplanRequest(
                order_no=self.order.order_no,
                seq=len(state.work_orders) + 1,
                sku=sku,
                quantity=missing,
                replan_of=work_order.work_order_no,
            ),
        )
        state.work_orders.append(work_order_state(plan))

    async def _replan_shortfalls(self) -> None:
        """Main flow: book another work order for each product the last reports left short."""
        state = self.order.state
        for sku, work_order_no in list(state.shortfall_from.items()):
            scrapped = next(wo for wo in state.work_orders if wo.work_order_no == work_order_no)
            async with self.order.lock:
                await self._replan_shortfall(scrapped)
                del state.shortfall_from[sku]
