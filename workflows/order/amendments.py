"""Amendments: the ``amend`` update changes an order under review, or after approval until it
is dispatched, and re-opens exactly the review levels whose decisions no longer cover it
(``domain/amendments.py`` says which); after approval its stock and work orders follow in the
same write (``activities/amendments/realign.py``).

The first change to the released 1.0 workflow, so it is introduced under a patch: the
``amend`` handler marks the history with :data:`AMENDMENTS` before its first command. An
order started on a 1.0 worker takes amendments once a worker with this code runs it: the
update adds commands only at the end of its history, never in what a 1.0 worker recorded.

The amendment is planned first (priced and checked, nothing written), then the workflow sets
out the amended review and records it all in one write: the version, its diff, the levels, the
notices, stock and work orders, and the transition it causes (approved when every level's
decision covers the change under review; back under review when a level re-opened after
approval). An order awaiting shipment whose amendment needs production goes back to it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.amendments import (
        AmendmentActivities,
        AmendmentPlan,
        AmendmentRecord,
        AmendmentResult,
        LevelWrite,
        PlanRequest,
    )
    from activities.inputs import TransitionRecord
    from domain.actors import SYSTEM
    from domain.amendments import LevelBefore
    from domain.fulfilment import check_amendable_lines
    from domain.notifications import NoticeRequest, NotificationEvent, order_notice
    from domain.refusals import conflict, invalid
    from domain.review import LevelState
    from domain.statuses import AMENDABLE, OrderStatus
    from workflows import search_attributes as sa
    from workflows.messages import AmendmentRequest, UpdateAck
    from workflows.order.context import OrderContext
    from workflows.order.fulfilment import CANCEL_PRODUCTION
    from workflows.order.production import ProductionTracker, work_order_state

S = OrderStatus
# The patch that brought amendments (release 1.1).
AMENDMENTS = "amendments"


class Amendments:
    def __init__(self, order: OrderContext, production: ProductionTracker) -> None:
        self.order = order
        self.production = production

    def check(self, request: AmendmentRequest) -> None:
        """An order is amended under review, and after approval until it is dispatched; not
        while it is on hold, being cancelled or dispatched, or after a system fault. A line
        that shipped in part is not reduced below what shipped (per-line fulfilment)."""
        state = self.order.state
        if state.cancel_request is not None:
            raise conflict("the order is being cancelled")
        if state.status not in AMENDABLE:
            raise conflict(
                f"the order is {state.status.value}: an order is amended while it is "
                f"{', '.join(status.value for status in AMENDABLE)}"
            )
        if state.dispatch_request is not None:
            raise conflict("the order is being dispatched")
        if state.fault is not None:
            raise conflict("the order waits for ops after a system fault")
        changes = request.changes
        check_amendable_lines(
            state.shipments,
            [(change.line_no, change.quantity) for change in changes.change_lines],
            changes.remove_lines,
        )

    async def amend(self, request: AmendmentRequest) -> UpdateAck:
        order = self.order
        state = order.state
        async with order.lock:
            with order.refusing():
                self.check(request)
            workflow.patched(AMENDMENTS)
            plan: AmendmentPlan = await order.project_for_caller(
                AmendmentActivities.plan_amendment,
                PlanRequest(
                    order_no=order.order_no,
                    changes=request.changes,
                    levels=[
                        LevelBefore(level.level, level.role, level.status, level.approvals())
                        for level in state.levels
                    ],
                ),
            )
            with order.refusing():
                if plan.refusal is not None:
                    raise invalid(plan.refusal)
            levels = self._levels_after(plan)
            first_open = next((level for level in levels if level.status != "approved"), None)
            record = AmendmentRecord(
                order_no=order.order_no,
                amended_by=request.actor.username,
                reason=request.reason,
                at=workflow.now(),
                plan=plan,
                levels=[
                    LevelWrite(level.level, spec.spec, level.status, level.opening)
                    for level, spec in zip(levels, plan.levels, strict=True)
                ],
                decided_before=[level.level for level in state.levels if level.decisions],
            )
            version = f"amendment {plan.version - 1} (version {plan.version})"
            record.transition, record.notices = self._review_outcome(first_open, plan, version)
            if record.transition is not None:
                order.publish(record.transition)
            try:
                result: AmendmentResult = await order.project_for_caller(
                    AmendmentActivities.record_amendment, record
                )
            except Exception:
                if record.transition is not None:
                    order.unpublish(record.transition)
                raise
            with order.refusing():
                if result.refusal is not None:
                    if record.transition is not None:
                        order.unpublish(record.transition)
                    raise invalid(result.refusal)
            self._apply(levels, first_open, plan)
            self._follow(result)
            if record.transition is not None:
                order.apply(record.transition)
            else:
                order.show()
            if state.status == S.AWAITING_SHIPMENT and result.new_work_orders:
                # Stock no longer covers the amended lines: back to the shop floor.
                await order.record_transition(
                    S.IN_PRODUCTION, SYSTEM, f"{version}: {self.production.plan_summary()}"
                )
        return order.ack()

    def _review_outcome(
        self, first_open: LevelState | None, plan: AmendmentPlan, version: str
    ) -> tuple[TransitionRecord | None, list[NoticeRequest]]:
        """What the amended review does to the order: under review, it is approved once every
        level's decision covers the amendment, else it waits on the first open level; past
        approval, it goes back under review when a level re-opened."""
        order = self.order
        under_review = order.state.status == S.UNDER_REVIEW
        if first_open is None and under_review:
            approved = order_notice(
                NotificationEvent.APPROVED,
                order.order_no,
                S.APPROVED,
                f"approved: the approvals given cover {version}",
                recipients=[order.params.created_by],
            )
            reason = f"{version}: every level's approval covers it"
            return order.transition(S.APPROVED, SYSTEM, reason, notices=[approved]), []
        if first_open is None:
            return None, []
        asking = self._review_reopened(first_open, plan, version)
        if under_review:
            return None, [asking]
        reason = f"{version} re-opens the review at level {first_open.level} ({first_open.role})"
        return (
            order.transition(
                S.UNDER_REVIEW, SYSTEM, reason, notices=[asking], opens_level=first_open.level
            ),
            [],
        )

    def _follow(self, result: AmendmentResult) -> None:
        """Stock and work orders as the amendment left them, now the workflow's too."""
        state = self.order.state
        if result.allocation is not None:
            state.allocation = result.allocation
        for work_order in state.work_orders:
            if work_order.work_order_no in result.cancelled_work_orders:
                work_order.status = "cancelled"
        state.work_orders.extend(work_order_state(plan) for plan in result.new_work_orders)
        if result.new_work_orders and CANCEL_PRODUCTION not in state.undo:
            # A cancellation now has work orders to cancel too.
            state.undo.append(CANCEL_PRODUCTION)

    def _levels_after(self, plan: AmendmentPlan) -> list[LevelState]:
        """The amended review's levels: kept ones with their decisions and clocks, the others
        waiting for decisions anew (their earlier ones set aside); the first undecided one is
        pending."""
        before = {level.level: level for level in self.order.state.levels}
        levels: list[LevelState] = []
        for planned in plan.levels:
            old = before.get(planned.level)
            spec = planned.spec
            fresh = LevelState(
                level=planned.level,
                role=spec.role,
                quorum=spec.quorum,
                remind_every=spec.remind_every,
                escalate_after=spec.escalate_after,
                expire_after=spec.expire_after,
                reminder_limit=spec.reminder_limit,
            )
            if old is not None and planned.keeps_decisions:
                level = replace(old, quorum=spec.quorum)
                level.status = "approved" if planned.approved else "waiting"
                if old.status == "pending" and not planned.approved:
                    level.status = "pending"
            elif old is not None:
                level = replace(
                    fresh,
                    opening=old.opening + 1,
                    earlier=[*old.earlier, *old.decisions],
                    reminders=old.reminders,
                    expired=old.expired,
                )
            else:
                level = fresh
            levels.append(level)
        pending = [level for level in levels if level.status == "pending"]
        first_open = next((level for level in levels if level.status != "approved"), None)
        for level in pending:
            if level is not first_open:
                level.status = "waiting"
        if first_open is not None and first_open.status != "pending":
            first_open.status = "pending"
            first_open.round_started_at = None
        return levels

    def _apply(
        self, levels: list[LevelState], first_open: LevelState | None, plan: AmendmentPlan
    ) -> None:
        """The recorded amendment, now the workflow's state; the level the review waited on
        is set aside, which wakes the review to wait on the amended one."""
        state = self.order.state
        for old in state.levels:
            if old.status == "pending":
                old.status = "amended"
        state.levels = levels
        state.current_level = first_open.level if first_open is not None else 0
        state.total = plan.total_after
        state.version = plan.version
        state.policy = f"version {plan.policy_version}, rule {plan.rule!r}"
        attributes: list[SearchAttributeUpdate[Any]] = [
            sa.ORDER_TOTAL.value_set(float(plan.total_after))
        ]
        if first_open is not None:
            attributes += [
                sa.REVIEW_LEVEL.value_set(first_open.level),
                sa.WAITING_ON.value_set(first_open.role),
            ]
        workflow.upsert_search_attributes(attributes)

    def _review_reopened(
        self, level: LevelState, plan: AmendmentPlan, version: str
    ) -> NoticeRequest:
        return order_notice(
            NotificationEvent.APPROVAL_REQUESTED,
            self.order.order_no,
            S.UNDER_REVIEW,
            f"{version}: level {level.level} of {len(plan.levels)} waits for {level.role} approval",
            key=f"{level.level}@{plan.version}",
            roles=[level.role],
            exclude=[self.order.params.created_by],
        )
