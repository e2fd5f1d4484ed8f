"""Amendment activities: check and price an amendment and plan the review it needs, then
record it, each as a local activity of the order's ``amend`` update.

Planning writes nothing: it applies the changes to the order as PostgreSQL holds it, checks
them as validation checks an entry (products sold, prices not above the list of the entry
day, the customer's credit for the new total) and asks ``domain.amendments`` which review
levels the amended order re-opens. Recording writes the new version in one transaction: the
lines and total, the review levels, the ``order_versions`` row with the field-level diff, the
hash-chained audit row, the notices and, when the amendment settles the review, the
transition. It is idempotent by version number, and checks the credit again under the
customer's lock, so two amendments of one customer's orders cannot both spend the same credit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from activities.amendments.checks import amended_lines, credit_refusal
from activities.amendments.inputs import (
    AmendmentChanges,
    AmendmentPlan,
    AmendmentRecord,
    AmendmentResult,
    LevelWrite,
    LineChange,
    NewLine,
    PlannedLevel,
    PlannedLine,
    PlanRequest,
)
from activities.amendments.realign import realign_fulfilment
from activities.amendments.writes import set_aside_decisions, write_levels, write_lines
from activities.inputs import LevelPlan, StockAllocation
from activities.outbox import write_notices
from activities.production import plan_of
from activities.promises import move_promises, promise_new_lines
from activities.records import lock_order
from activities.review import order_facts, seconds
from activities.stock import allocation_of
from activities.transitions import audit_transition, write_transition
from db.audit import append_audit
from db.models import ApprovalPolicy, Order, OrderVersion, WorkOrder
from domain.amendments import LineVersion, review_after
from domain.amendments import OrderVersion as VersionData
from domain.amendments import diff as version_diff
from domain.policy import LevelSpec, PolicyDocument
from domain.promises import DEFAULT_SHIPPING_LEAD_DAYS

__all__ = [
    "AmendmentActivities",
    "AmendmentChanges",
    "AmendmentPlan",
    "AmendmentRecord",
    "AmendmentResult",
    "LevelWrite",
    "LineChange",
    "NewLine",
    "PlanRequest",
]


def _version_data(order: Order) -> VersionData:
    return VersionData(
        lines=tuple(
            LineVersion(line.line_no, line.sku, line.quantity, line.unit_price)
            for line in order.lines
        ),
        requested_delivery_date=order.requested_delivery_date,
        notes=order.notes,
    )


class AmendmentActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        shipping_lead_days: int = DEFAULT_SHIPPING_LEAD_DAYS,
    ) -> None:
        self.sessions = sessions
        self.shipping_lead_days = shipping_lead_days

    @activity.defn
    async def plan_amendment(self, request: PlanRequest) -> AmendmentPlan:
        """The amended order, priced and checked, and the review it needs; nothing written."""
        async with self.sessions() as session:
            order = await lock_order(session, request.order_no, selectinload(Order.lines))
            before = _version_data(order)
            facts_before = await order_facts(session, order)
            lines, problems = await amended_lines(session, order, request.changes)
            if problems:
                return AmendmentPlan(refusal="; ".join(problems))
            changes = request.changes
            after = VersionData(
                lines=tuple(lines),
                requested_delivery_date=(
                    date.fromisoformat(changes.requested_delivery_date)
                    if changes.set_requested_delivery_date and changes.requested_delivery_date
                    else None
                    if changes.set_requested_delivery_date
                    else order.requested_delivery_date
                ),
                notes=changes.notes if changes.set_notes else order.notes,
            )
            differences = version_diff(before, after)
            if not differences:
                return AmendmentPlan(refusal="the amendment changes nothing")
            total = sum(
                (Decimal(line.unit_price or 0) * line.quantity for line in lines), Decimal(0)
            )
            refusal = await credit_refusal(session, order, total)
            if refusal is not None:
                return AmendmentPlan(refusal=refusal)
            # What the policy looks at, on the amended lines, written on trial.
            await write_lines(session, order, lines)
            order.total = total
            await session.flush()
            session.expire(order, ["lines"])
            await session.refresh(order, ["lines"])
            facts_after = await order_facts(session, order)
            document = await _policy(session, order)
            assert order.policy_rule is not None
            review = review_after(
                document, order.policy_rule, facts_before, facts_after, request.levels
            )
            # Leaving the session unused rolls the trial write back.
            return AmendmentPlan(
                version=order.version + 1,
                lines=[
                    PlannedLine(
                        line.line_no,
                        line.sku,
                        line.quantity,
                        str(line.unit_price) if line.unit_price is not None else None,
                    )
                    for line in lines
                ],
                requested_delivery_date=(
                    after.requested_delivery_date.isoformat()
                    if after.requested_delivery_date
                    else None
                ),
                notes=after.notes,
                total_before=str(facts_before.total),
                total_after=str(total),
                changes=differences,
                policy_version=order.policy_version or 0,
                rule=review.rule,
                levels=[
                    PlannedLevel(
                        level.level,
                        _level_plan(level.spec),
                        level.keeps_decisions,
                        level.approved,
                        level.why,
                    )
                    for level in review.levels
                ],
                dropped=review.dropped,
            )

    @activity.defn
    async def record_amendment(self, record: AmendmentRecord) -> AmendmentResult:
        """Write the new version, and for an order past approval bring its stock and work
        orders in line (``realign.py``); answers why not when the credit no longer allows it."""
        plan = record.plan
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no, selectinload(Order.lines))
            if order.version >= plan.version:
                # Written by an attempt whose answer was lost: the same answer again.
                return await _recorded(session, order, plan.version)
            refusal = await credit_refusal(session, order, Decimal(plan.total_after), lock=True)
            if refusal is not None:
                return AmendmentResult(refusal=refusal)
            engaged = any(line.reserved_qty + line.produce_qty > 0 for line in order.lines)
            await write_lines(
                session,
                order,
                [
                    LineVersion(
                        line.line_no,
                        line.sku,
                        line.quantity,
                        Decimal(line.unit_price) if line.unit_price is not None else None,
                    )
                    for line in plan.lines
                ],
            )
            order.total = Decimal(plan.total_after)
            order.requested_delivery_date = (
                date.fromisoformat(plan.requested_delivery_date)
                if plan.requested_delivery_date
                else None
            )
            order.notes = plan.notes
            order.version = plan.version
            order.policy_rule = plan.rule
            reopened = [
                level.level
                for level in plan.levels
                if not level.keeps_decisions and level.level in record.decided_before
            ]
            await set_aside_decisions(session, order.id, reopened, plan.version)
            await write_levels(session, order.id, record.levels, plan.dropped, record.at)
            result = AmendmentResult()
            fulfilment: dict[str, Any] | None = None
            if engaged:
                await session.flush()
                await session.refresh(order, ["lines"])
                realigned = await realign_fulfilment(session, order, plan.version, record.at)
                result = AmendmentResult(
                    allocation=realigned.allocation,
                    new_work_orders=realigned.new_work_orders,
                    cancelled_work_orders=realigned.cancelled,
                )
                # Promises follow: new lines are promised, and a date the amended plan moves
                # (later or earlier: the customer asked for the change) is told with both dates.
                cause = f"amendment-v{plan.version}"
                await promise_new_lines(
                    session, order, lead_days=self.shipping_lead_days, cause=cause
                )
                await move_promises(
                    session,
                    order,
                    lead_days=self.shipping_lead_days,
                    cause=cause,
                    why=f"amendment {plan.version - 1} changed the order",
                    earlier_too=True,
                )
                fulfilment = {
                    "released": realigned.released,
                    "reserved": realigned.reserved,
                    "new_work_orders": [wo.work_order_no for wo in realigned.new_work_orders],
                    "cancelled_work_orders": realigned.cancelled,
                }
            review = {
                "rule": plan.rule,
                "levels": [
                    {
                        "level": level.level,
                        "role": level.spec.role,
                        "keeps_decisions": level.keeps_decisions,
                        "approved": level.approved,
                        "why": level.why,
                    }
                    for level in plan.levels
                ],
                "dropped": plan.dropped,
            }
            session.add(
                OrderVersion(
                    order_id=order.id,
                    version=plan.version,
                    amended_by=record.amended_by,
                    reason=record.reason,
                    changes=plan.changes,
                    total_before=Decimal(plan.total_before),
                    total_after=Decimal(plan.total_after),
                    review=review,
                    fulfilment=fulfilment,
                    at=record.at,
                )
            )
            await write_notices(session, record.notices, order)
            moved = record.transition is not None and await write_transition(
                session, order, record.transition
            )
            await append_audit(
                session,
                kind="amendment",
                actor=record.amended_by,
                order_no=record.order_no,
                payload={
                    "version": plan.version,
                    "reason": record.reason,
                    "changes": plan.changes,
                    "total": plan.total_after,
                    "review": review,
                    "fulfilment": fulfilment,
                },
                at=record.at,
            )
            if moved and record.transition is not None:
                await audit_transition(session, record.transition)
            return result


async def _recorded(session: AsyncSession, order: Order, version: int) -> AmendmentResult:
    """What recording ``version`` did, rebuilt from what it wrote."""
    row = (
        await session.scalars(
            select(OrderVersion).where(
                OrderVersion.order_id == order.id, OrderVersion.version == version
            )
        )
    ).one()
    if row.fulfilment is None:
        return AmendmentResult()
    booked = await session.scalars(
        select(WorkOrder)
        .where(WorkOrder.work_order_no.in_(row.fulfilment["new_work_orders"]))
        .options(selectinload(WorkOrder.steps))
        .order_by(WorkOrder.seq)
    )
    return AmendmentResult(
        allocation=StockAllocation([allocation_of(line) for line in order.lines]),
        new_work_orders=[plan_of(work_order) for work_order in booked],
        cancelled_work_orders=row.fulfilment["cancelled_work_orders"],
    )


async def _policy(session: AsyncSession, order: Order) -> PolicyDocument:
    """The approval policy version the order was reviewed under: its amendments are weighed
    by the rules its decisions were taken under."""
    policy = await session.get_one(ApprovalPolicy, order.policy_version)
    return PolicyDocument.model_validate({"rules": policy.rules})


def _level_plan(spec: LevelSpec) -> LevelPlan:
    return LevelPlan(
        role=spec.role,
        quorum=spec.quorum,
        remind_every=seconds(spec.remind_every),
        escalate_after=seconds(spec.escalate_after),
        expire_after=seconds(spec.expire_after),
        reminder_limit=spec.reminder_limit,
    )
