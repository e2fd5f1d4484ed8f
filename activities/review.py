"""Review activities: the levels an order is reviewed at, their decisions and their clocks.

Each method owns one short transaction and is idempotent (unique keys with ``ON CONFLICT DO
NOTHING``, or conditional updates), because a local activity whose worker died after the
commit runs again when the workflow task is retried. Notices go to the outbox in the same
transaction as what they announce.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.inputs import (
    CancellationRecord,
    Compensation,
    DecisionRecord,
    LevelPlan,
    ReviewNoticeRecord,
    ReviewPlan,
)
from activities.outbox import write_notices
from activities.records import draws_on_credit, find_order_row, lock_order, lock_order_row
from activities.review_levels import open_review_level
from activities.transitions import audit_transition, write_transition
from db.audit import append_audit
from db.models import (
    ApprovalPolicy,
    Customer,
    Decision,
    Order,
    Product,
    ReviewLevel,
    ReviewNotice,
    User,
)
from db.prices import entry_day, prices_on
from domain.actors import SYSTEM
from domain.policy import OrderFacts, PolicyDocument, customer_risks, rule_for
from domain.statuses import OrderStatus


async def plan_review(session: AsyncSession, order: Order) -> ReviewPlan:
    """Choose the review levels by the approval policy in force, once.

    The order keeps the policy version and rule it was planned under, and its levels their
    quorum and clocks, so a retry (or a policy changed meanwhile) plans nothing anew.
    """
    if order.policy_version is None:
        policy = (
            await session.scalars(
                select(ApprovalPolicy).order_by(ApprovalPolicy.version.desc()).limit(1)
            )
        ).one()
        document = PolicyDocument.model_validate({"rules": policy.rules})
        rule = rule_for(document, await order_facts(session, order))
        order.policy_version = policy.version
        order.policy_rule = rule.name
        for number, level in enumerate(rule.levels, start=1):
            session.add(
                ReviewLevel(
                    order_id=order.id,
                    level=number,
                    role=level.role,
                    quorum=level.quorum,
                    status="waiting",
                    remind_every=seconds(level.remind_every),
                    escalate_after=seconds(level.escalate_after),
                    expire_after=seconds(level.expire_after),
                    reminder_limit=level.reminder_limit,
                )
            )
        await session.flush()
    levels = await session.scalars(
        select(ReviewLevel).where(ReviewLevel.order_id == order.id).order_by(ReviewLevel.level)
    )
    assert order.policy_version is not None and order.policy_rule is not None
    return ReviewPlan(
        policy_version=order.policy_version,
        rule=order.policy_rule,
        levels=[
            LevelPlan(
                role=level.role,
                quorum=level.quorum,
                remind_every=level.remind_every,
                escalate_after=level.escalate_after,
                expire_after=level.expire_after,
                reminder_limit=level.reminder_limit,
            )
            for level in levels
        ],
    )


async def order_facts(session: AsyncSession, order: Order) -> OrderFacts:
    """What the policy's conditions look at: total, largest discount, customer risk, and the
    categories of the products ordered."""
    # The discount is measured against the price list of the order's entry day, the price
    # validation charged.
    list_prices = await prices_on(
        session, {line.sku for line in order.lines}, entry_day(order.created_at)
    )
    products = await session.scalars(
        select(Product).where(Product.sku.in_({line.sku for line in order.lines}))
    )
    discounts = [
        (list_prices[line.sku] - line.unit_price) * 100 / list_prices[line.sku]
        for line in order.lines
        if line.unit_price is not None and list_prices[line.sku] > 0
    ]
    customer = await session.get_one(Customer, order.customer_id)
    completed = await session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.customer_id == customer.id, Order.status == OrderStatus.COMPLETED)
    )
    exposure = await session.scalar(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.customer_id == customer.id,
            or_(Order.id == order.id, draws_on_credit()),
        )
    )
    return OrderFacts(
        total=order.total or Decimal(0),
        largest_discount=max([Decimal(0), *discounts]),
        risks=customer_risks(
            has_completed_order=bool(completed),
            exposure=Decimal(exposure or 0),
            limit=customer.credit_limit,
        ),
        categories=frozenset(p.category for p in products),
    )


def seconds(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds()


class ReviewActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn
    async def record_decision(self, record: DecisionRecord) -> None:
        """A decision and what it does, committed together: the next level opens for its
        approvers, or the last approval or a rejection moves the order on."""
        async with self.sessions.begin() as session:
            order = await lock_order_row(session, record.order_no)
            inserted = await session.scalar(
                insert(Decision)
                .values(
                    order_id=order.id,
                    level=record.level,
                    decided_by=record.decided_by,
                    on_behalf_of=record.on_behalf_of,
                    acting_role=record.acting_role,
                    decision=record.decision,
                    comment=record.comment,
                    at=record.at,
                )
                .on_conflict_do_nothing(index_elements=["order_id", "level", "decided_by"])
                .returning(Decision.id)
            )
            await session.execute(
                update(ReviewLevel)
                .where(ReviewLevel.order_id == order.id, ReviewLevel.level == record.level)
                .values(
                    status=record.level_status,
                    decided_at=None if record.level_status == "pending" else record.at,
                )
            )
            if record.opens_level is not None:
                await open_review_level(session, order.id, record.opens_level, record.at)
            await write_notices(session, record.notices, order)
            moved = record.transition is not None and await write_transition(
                session, order, record.transition
            )
            if inserted is not None:
                await append_audit(
                    session,
                    kind="decision",
                    actor=record.decided_by,
                    order_no=record.order_no,
                    payload={
                        "level": record.level,
                        "decision": record.decision,
                        "comment": record.comment,
                        "acting_role": record.acting_role,
                        "on_behalf_of": record.on_behalf_of,
                    },
                    at=record.at,
                )
            if moved and record.transition is not None:
                await audit_transition(session, record.transition)

    @activity.defn
    async def record_review_notice(self, notice: ReviewNoticeRecord) -> list[str]:
        """Address a reminder, escalation or expiry to every active user of the role, once per
        round, and audit the firing; answers who got it."""
        async with self.sessions.begin() as session:
            order = await find_order_row(session, notice.order_no)
            recipients = list(
                await session.scalars(
                    select(User.username)
                    .where(
                        User.roles.contains([notice.role]),
                        User.active.is_(True),
                        User.username != notice.created_by,
                    )
                    .order_by(User.username)
                )
            )
            added = 0
            for recipient in recipients:
                added += (
                    await session.scalar(
                        insert(ReviewNotice)
                        .values(
                            order_id=order.id,
                            level=notice.level,
                            kind=notice.kind,
                            round=notice.round,
                            role=notice.role,
                            recipient=recipient,
                            at=notice.at,
                        )
                        .on_conflict_do_nothing(
                            index_elements=["order_id", "level", "kind", "round", "recipient"]
                        )
                        .returning(literal(1))
                    )
                    or 0
                )
            if notice.kind == "escalation":
                await session.execute(
                    update(ReviewLevel)
                    .where(ReviewLevel.order_id == order.id, ReviewLevel.level == notice.level)
                    .values(escalated=True, escalated_to=notice.escalated_to)
                )
            await write_notices(session, notice.notices, order)
            if added:
                # Each firing of a review clock is part of the order's audited history.
                await append_audit(
                    session,
                    kind=notice.kind,
                    actor=SYSTEM,
                    order_no=notice.order_no,
                    payload={
                        "level": notice.level,
                        "round": notice.round,
                        "role": notice.role,
                        "recipients": recipients,
                    },
                    at=notice.at,
                )
            return recipients

    @activity.defn
    async def close_review(self, record: CancellationRecord) -> Compensation:
        """Compensation: the levels still waiting for a decision will not get one."""
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            closed = await session.execute(
                update(ReviewLevel)
                .where(
                    ReviewLevel.order_id == order.id, ReviewLevel.status.in_(["waiting", "pending"])
                )
                .values(status="cancelled")
            )
            count = getattr(closed, "rowcount", 0)
            return Compensation(f"closed {count} open review level(s)" if count else "")
