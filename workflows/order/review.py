"""The review engine: levels decided in order, each with its quorum, its delegations and its
clocks (reminders up to a limit, escalation to the next role up, expiry to a hold).

The rules themselves (who may decide, what fires when) are plain functions in
``domain/review.py``; this module runs them against the order's state, writes what happened to
PostgreSQL and tells the people concerned.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.inputs import DecisionRecord, ReviewNoticeRecord, ReviewPlan
    from activities.review import ReviewActivities
    from domain.actors import SYSTEM
    from domain.notifications import NoticeRequest, NotificationEvent, order_notice
    from domain.review import (
        ClockDefaults,
        Decider,
        DecisionState,
        LevelState,
        Verdict,
        check_decision,
        escalate,
        next_firing,
    )
    from domain.roles import Role
    from domain.statuses import OrderStatus
    from workflows import search_attributes as sa
    from workflows.messages import DecisionRequest, UpdateAck
    from workflows.order.context import OrderContext

S = OrderStatus
Event = NotificationEvent


class ReviewEngine:
    def __init__(self, order: OrderContext) -> None:
        self.order = order
        timers = order.params.timers
        self.defaults = ClockDefaults(
            remind_after=timers.remind_after,
            escalate_after=timers.escalate_after,
            expire_after=timers.expire_after,
            reminder_limit=timers.reminder_limit,
        )

    # ------------------------------------------------------------------ main flow

    def prepare(self, plan: ReviewPlan) -> NoticeRequest:
        """Set out the levels the policy asks for, the first one pending; answers the notice
        that asks its approvers, to be sent with the transition to UNDER_REVIEW."""
        state = self.order.state
        state.policy = f"version {plan.policy_version}, rule {plan.rule!r}"
        state.levels = [
            LevelState(
                level=number,
                role=level.role,
                quorum=level.quorum,
                remind_every=level.remind_every,
                escalate_after=level.escalate_after,
                expire_after=level.expire_after,
                reminder_limit=level.reminder_limit,
            )
            for number, level in enumerate(plan.levels, start=1)
        ]
        first = state.levels[0]
        first.status = "pending"
        state.current_level = first.level
        return self._approval_requested(first)

    async def run(self) -> None:
        """Main flow, UNDER_REVIEW: run the clocks of the level under review until the review
        is over. Decisions themselves open the next level or move the order on."""
        state = self.order.state
        while self.order.stage() == S.UNDER_REVIEW:
            await self._await_decision(state.levels[state.current_level - 1])

    def _approval_requested(self, level: LevelState) -> NoticeRequest:
        return order_notice(
            Event.APPROVAL_REQUESTED,
            self.order.order_no,
            S.UNDER_REVIEW,
            f"level {level.level} of {len(self.order.state.levels)} waits for {level.role} "
            "approval",
            key=str(level.level),
            roles=[level.role],
            exclude=[self.order.params.created_by],
        )

    async def _await_decision(self, level: LevelState) -> None:
        """Wait for the level's decision while its clocks run. A hold stops the clocks and a
        resume starts a new round from zero; a continued run picks its round up where the
        previous run left it."""
        state = self.order.state

        def decided_or_held() -> bool:
            return level.status != "pending" or state.status == S.ON_HOLD

        while level.status == "pending":
            await self.order.wait(lambda: state.status != S.ON_HOLD)
            if level.round_started_at is None:
                level.round_started_at = workflow.now()
                level.round_reminders = 0
            while level.status == "pending" and state.status != S.ON_HOLD:
                firing = next_firing(level, self.defaults)
                if firing is None:
                    await self.order.wait(decided_or_held)
                    break
                elapsed = (workflow.now() - level.round_started_at).total_seconds()
                timeout = timedelta(seconds=max(firing.after - elapsed, 0.001))
                if await self.order.wait(decided_or_held, timeout=timeout):
                    break
                await self._fire(level, firing.kind)
                self.order.show()
            if state.status == S.ON_HOLD:
                level.round_started_at = None

    async def _fire(self, level: LevelState, kind: str) -> None:
        """One clock fires; the level counts it once its record is written."""
        creator = self.order.params.created_by
        if kind == "reminder":
            count = level.reminders + 1
            told = order_notice(
                Event.REMINDER,
                self.order.order_no,
                self.order.state.status,
                f"level {level.level} still waits for approval (reminder {count})",
                key=f"{level.level}:{count}",
                roles=level.deciders(),
                exclude=[creator],
            )
            await self._record_firing(level, "reminder", level.deciders(), count, told)
            level.round_reminders += 1
            level.reminders = count
        elif kind == "escalation":
            escalated = replace(level)
            escalate(escalated)
            told = order_notice(
                Event.ESCALATED,
                self.order.order_no,
                self.order.state.status,
                f"level {level.level} escalated from {level.role} to {escalated.escalated_to}",
                key=str(level.level),
                roles=escalated.deciders(),
                exclude=[creator],
            )
            await self._record_firing(escalated, "escalation", escalated.deciders(), 1, told)
            escalate(level)
            escalated_update: list[SearchAttributeUpdate[Any]] = [sa.ESCALATED.value_set(True)]
            # Unless a hold came in meanwhile, the order now waits on the role it escalated to.
            if self.order.state.status == S.UNDER_REVIEW and level.escalated_to:
                escalated_update.append(sa.WAITING_ON.value_set(level.escalated_to))
            workflow.upsert_search_attributes(escalated_update)
        else:
            await self._expire(level)

    async def _record_firing(
        self,
        level: LevelState,
        kind: str,
        roles: list[str],
        round_: int,
        told: NoticeRequest | None = None,
    ) -> None:
        """One review-notice row per role's users; the notice rides with the last role."""
        for i, role in enumerate(roles):
            last = i == len(roles) - 1
            await self.order.project(
                ReviewActivities.record_review_notice,
                ReviewNoticeRecord(
                    order_no=self.order.order_no,
                    level=level.level,
                    kind=kind,
                    role=role,
                    created_by=self.order.params.created_by,
                    at=workflow.now(),
                    escalated_to=level.escalated_to,
                    round=round_,
                    notices=[told] if told is not None and last else [],
                ),
            )

    async def _expire(self, level: LevelState) -> None:
        """Nobody decided in time: ops is told, and the order waits on hold for them."""
        await self._record_firing(level, "expiry", [Role.OPS.value], level.expired + 1)
        level.expired += 1
        state = self.order.state
        async with self.order.lock:
            if state.cancel_request is not None or state.status != S.UNDER_REVIEW:
                return
            if level.status != "pending":
                return
            await self.order.record_transition(
                S.ON_HOLD, SYSTEM, "review expired", held_from=state.status
            )

    # ------------------------------------------------------------------ decisions (update)

    def check(self, request: DecisionRequest) -> tuple[LevelState, Verdict]:
        """The level under review and what the decision does to it, or a refusal."""
        self.order.check_open(S.UNDER_REVIEW)
        state = self.order.state
        level = state.levels[state.current_level - 1]
        verdict = check_decision(
            state.levels,
            level,
            Decider(request.actor.username, request.actor.roles, request.delegated_roles),
            decision=request.decision,
            comment=request.comment,
            created_by=self.order.params.created_by,
        )
        return level, verdict

    async def decide(self, request: DecisionRequest) -> UpdateAck:
        """Record the decision and, in the same write, what it does: a level approved opens
        the next one, the last approval approves the order, a rejection rejects it."""
        order = self.order
        state = order.state
        async with order.lock:
            # The order may have moved while this update waited for the lock.
            with order.refusing():
                level, verdict = self.check(request)
            now = workflow.now()
            by = request.actor.username
            record = DecisionRecord(
                order_no=order.order_no,
                level=level.level,
                decided_by=by,
                acting_role=verdict.acting_role,
                decision=request.decision,
                comment=request.comment,
                at=now,
                level_status=verdict.level_status,
                on_behalf_of=verdict.on_behalf_of,
            )
            following: LevelState | None = None
            if verdict.level_status == "rejected":
                rejected = self._told_creator(
                    Event.REJECTED, S.REJECTED, f"rejected by {by}: {request.comment}"
                )
                record.transition = order.transition(
                    S.REJECTED, by, request.comment, notices=[rejected]
                )
            elif verdict.level_status == "approved" and level.level < len(state.levels):
                following = state.levels[level.level]
                record.opens_level = following.level
                record.notices = [self._approval_requested(following)]
            elif verdict.level_status == "approved":
                approved = self._told_creator(
                    Event.APPROVED, S.APPROVED, "approved at every review level"
                )
                record.transition = order.transition(
                    S.APPROVED, SYSTEM, "all review levels approved", notices=[approved]
                )
            # What ops see leads the write, as for every transition.
            if record.transition is not None:
                order.publish(record.transition)
            if following is not None:
                workflow.upsert_search_attributes(
                    [
                        sa.REVIEW_LEVEL.value_set(following.level),
                        sa.WAITING_ON.value_set(following.role),
                        sa.STATUS_SINCE.value_set(now),
                    ]
                )
            try:
                await order.project_for_caller(ReviewActivities.record_decision, record)
            except Exception:
                if record.transition is not None:
                    order.unpublish(record.transition)
                if following is not None:
                    workflow.upsert_search_attributes(
                        [
                            sa.REVIEW_LEVEL.value_set(level.level),
                            sa.WAITING_ON.value_set(level.escalated_to or level.role),
                            sa.STATUS_SINCE.value_set(state.since),
                        ]
                    )
                raise
            level.decisions.append(
                DecisionState(by, request.decision, request.comment, now, verdict.on_behalf_of)
            )
            level.status = verdict.level_status
            if following is not None:
                following.status = "pending"
                state.current_level = following.level
                state.since = now
            if record.transition is not None:
                order.apply(record.transition)
            order.show()
        return order.ack()

    def _told_creator(
        self, event: NotificationEvent, status: OrderStatus, subject: str
    ) -> NoticeRequest:
        return order_notice(
            event, self.order.order_no, status, subject, recipients=[self.order.params.created_by]
        )
