"""Order activities: the only code that writes an order's record in PostgreSQL.

Each method owns one transaction and is idempotent, because Temporal retries an activity whose
worker died after the commit but before reporting back: a retry must find its work done and
write nothing twice (unique keys plus ``ON CONFLICT DO NOTHING``, or conditional updates).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from activities.audit import append_audit, transition_kind
from activities.carriers import CarrierAdapter
from activities.inputs import (
    CancellationRecord,
    Compensation,
    DecisionRecord,
    LevelOpening,
    LevelPlan,
    ReviewNoticeRecord,
    ReviewOpening,
    ReviewPlan,
    TransitionRecord,
    ValidationOutcome,
)
from activities.records import find_order, lock_order
from db.models import (
    ApprovalPolicy,
    Customer,
    Decision,
    Order,
    Product,
    ReviewLevel,
    ReviewNotice,
    Shipment,
    StatusHistory,
    User,
    WorkOrder,
)
from domain.policy import OrderFacts, PolicyDocument, customer_risks, rule_for
from domain.statuses import OrderStatus

# Orders whose amount still draws on the customer's credit.
OPEN_STATUSES = [
    OrderStatus.UNDER_REVIEW,
    OrderStatus.APPROVED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.ON_HOLD,
]


async def _stored_plan(session: AsyncSession, order: Order) -> ReviewPlan:
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
            )
            for level in levels
        ],
    )


async def _order_facts(session: AsyncSession, order: Order) -> OrderFacts:
    """What the policy's conditions look at: total, largest discount, customer risk, and the
    categories of the products ordered."""
    products = {
        p.sku: p
        for p in await session.scalars(
            select(Product).where(Product.sku.in_({line.sku for line in order.lines}))
        )
    }
    discounts = [
        (products[line.sku].unit_price - line.unit_price) * 100 / products[line.sku].unit_price
        for line in order.lines
        if line.unit_price is not None and products[line.sku].unit_price > 0
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
            or_(Order.id == order.id, Order.status.in_(OPEN_STATUSES)),
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
        categories=frozenset(p.category for p in products.values()),
    )


def _seconds(duration: timedelta | None) -> float | None:
    return None if duration is None else duration.total_seconds()


class OrderActivities:
    """The order, its status history and its review; built once by the worker."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter) -> None:
        self.sessions = sessions
        # Only the first release's cancellation calls the carrier from here.
        self.carrier = carrier

    @activity.defn
    async def record_transition(self, record: TransitionRecord) -> None:
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            inserted = await session.scalar(
                insert(StatusHistory)
                .values(
                    order_id=order.id,
                    seq=record.seq,
                    from_status=record.from_status,
                    to_status=record.to_status,
                    actor=record.actor,
                    reason=record.reason,
                    at=record.at,
                )
                .on_conflict_do_nothing(index_elements=["order_id", "seq"])
                .returning(StatusHistory.id)
            )
            if inserted is not None:
                order.status = record.to_status
                order.held_from = record.held_from
                await append_audit(
                    session,
                    kind=transition_kind(record.from_status, record.to_status),
                    actor=record.actor,
                    order_no=record.order_no,
                    payload={
                        "from": record.from_status,
                        "to": record.to_status,
                        "reason": record.reason,
                        "seq": record.seq,
                    },
                    at=record.at,
                )

    @activity.defn
    async def validate_order(self, order_no: str) -> ValidationOutcome:
        """Check the order against customers, products and prices; fill missing prices.

        Every problem is listed, not just the first, so sales can fix the order in one go.
        """
        async with self.sessions.begin() as session:
            order = (
                await session.scalars(
                    select(Order)
                    .where(Order.order_no == order_no)
                    .options(selectinload(Order.lines))
                    .with_for_update()
                )
            ).one()
            customer = await session.get_one(Customer, order.customer_id)
            reasons: list[str] = []
            if not customer.active:
                reasons.append(f"customer {customer.code} is inactive")
            skus = {line.sku for line in order.lines}
            products = {
                p.sku: p
                for p in await session.scalars(select(Product).where(Product.sku.in_(skus)))
            }
            total = Decimal("0")
            for line in order.lines:
                product = products.get(line.sku)
                where = f"line {line.line_no}"
                if product is None:
                    reasons.append(f"{where}: unknown SKU {line.sku}")
                    continue
                if not product.active:
                    reasons.append(f"{where}: SKU {line.sku} is no longer sold")
                if line.quantity <= 0:
                    reasons.append(f"{where}: quantity must be positive, got {line.quantity}")
                if line.unit_price is None:
                    line.unit_price = product.unit_price
                elif line.unit_price > product.unit_price:
                    # Below the list price is a discount, which the approval policy weighs.
                    reasons.append(
                        f"{where}: unit price {line.unit_price} of {line.sku} is above the "
                        f"price list ({product.unit_price})"
                    )
                line.amount = line.unit_price * line.quantity
                total += line.amount
            exposure = await session.scalar(
                select(func.coalesce(func.sum(Order.total), 0)).where(
                    Order.customer_id == customer.id,
                    Order.id != order.id,
                    Order.status.in_(OPEN_STATUSES),
                )
            )
            available = customer.credit_limit - Decimal(exposure or 0)
            if total > available:
                reasons.append(
                    f"total {total} exceeds the available credit {available} of customer "
                    f"{customer.code} (limit {customer.credit_limit})"
                )
            order.total = total
            order.rejection_reasons = reasons
            return ValidationOutcome(
                ok=not reasons, reasons=reasons, total=str(total), customer_id=str(customer.id)
            )

    @activity.defn
    async def plan_review(self, order_no: str) -> ReviewPlan:
        """Choose the review levels by the approval policy in force, once.

        The order keeps the policy version and rule it was planned under, and its levels
        their quorum and clocks, so a retry (or a policy changed meanwhile) plans nothing anew.
        """
        async with self.sessions.begin() as session:
            order = await lock_order(session, order_no, selectinload(Order.lines))
            if order.policy_version is not None:
                return await _stored_plan(session, order)
            policy = (
                await session.scalars(
                    select(ApprovalPolicy).order_by(ApprovalPolicy.version.desc()).limit(1)
                )
            ).one()
            document = PolicyDocument.model_validate({"rules": policy.rules})
            rule = rule_for(document, await _order_facts(session, order))
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
                        remind_every=_seconds(level.remind_every),
                        escalate_after=_seconds(level.escalate_after),
                        expire_after=_seconds(level.expire_after),
                    )
                )
            await session.flush()
            return await _stored_plan(session, order)

    @activity.defn
    async def open_review(self, opening: ReviewOpening) -> None:
        async with self.sessions.begin() as session:
            order = await find_order(session, opening.order_no)
            for number, role in enumerate(opening.roles, start=1):
                await session.execute(
                    insert(ReviewLevel)
                    .values(order_id=order.id, level=number, role=role, status="waiting")
                    .on_conflict_do_nothing(index_elements=["order_id", "level"])
                )

    @activity.defn
    async def open_level(self, opening: LevelOpening) -> None:
        async with self.sessions.begin() as session:
            order = await find_order(session, opening.order_no)
            # Conditional: a decision may already have been recorded for this level.
            await session.execute(
                update(ReviewLevel)
                .where(
                    ReviewLevel.order_id == order.id,
                    ReviewLevel.level == opening.level,
                    ReviewLevel.status == "waiting",
                )
                .values(status="pending", opened_at=opening.at)
            )

    @activity.defn
    async def record_decision(self, record: DecisionRecord) -> None:
        async with self.sessions.begin() as session:
            order = await find_order(session, record.order_no)
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
                    status=record.level_status
                    or ("approved" if record.decision == "approve" else "rejected"),
                    decided_at=None if record.level_status == "pending" else record.at,
                )
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

    @activity.defn
    async def record_review_notice(self, notice: ReviewNoticeRecord) -> list[str]:
        """Address a reminder, escalation or expiry to every active user of the role, once per
        round, and audit the firing; answers who got it."""
        async with self.sessions.begin() as session:
            order = await find_order(session, notice.order_no)
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
            if added:
                # Each firing of a review clock is part of the order's audited history.
                await append_audit(
                    session,
                    kind=notice.kind,
                    actor="system",
                    order_no=notice.order_no,
                    payload={
                        "level": notice.level,
                        "round": notice.round,
                        "role": notice.role,
                        "recipients": recipients,
                    },
                    at=notice.at,
                )
            if notice.kind == "escalation":
                await session.execute(
                    update(ReviewLevel)
                    .where(ReviewLevel.order_id == order.id, ReviewLevel.level == notice.level)
                    .values(escalated=True, escalated_to=notice.escalated_to)
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

    @activity.defn
    async def cancel_fulfilment(self, record: CancellationRecord) -> None:
        """First release: close the open review, the work order and the booked shipment in one
        go. Kept for orders that started before each compensation became its own step."""
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no)
            await session.execute(
                update(ReviewLevel)
                .where(
                    ReviewLevel.order_id == order.id, ReviewLevel.status.in_(["waiting", "pending"])
                )
                .values(status="cancelled")
            )
            await session.execute(
                update(WorkOrder)
                .where(WorkOrder.order_id == order.id, WorkOrder.status == "open")
                .values(status="cancelled")
            )
            shipment = (
                await session.scalars(
                    select(Shipment).where(
                        Shipment.order_id == order.id, Shipment.status == "booked"
                    )
                )
            ).one_or_none()
            if shipment is not None:
                await self.carrier.cancel(shipment.tracking_no)
                shipment.status = "cancelled"
