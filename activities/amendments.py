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

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from activities.inputs import LevelPlan, TransitionRecord
from activities.outbox import write_notices
from activities.records import draws_on_credit, lock_order
from activities.review import order_facts
from activities.transitions import audit_transition, write_transition
from db.audit import append_audit
from db.models import (
    ApprovalPolicy,
    Customer,
    Decision,
    Order,
    OrderLine,
    OrderVersion,
    Product,
    ReviewLevel,
    SetAsideDecision,
)
from db.prices import entry_day, prices_on
from domain.amendments import LevelBefore, LineVersion, review_after
from domain.amendments import OrderVersion as VersionData
from domain.amendments import diff as version_diff
from domain.notifications import NoticeRequest
from domain.policy import PolicyDocument


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
class LevelWrite:
    """A review level as the amended review has it."""

    level: int
    spec: LevelPlan
    status: str  # approved | pending | waiting
    opening: int


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
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn
    async def plan_amendment(self, request: PlanRequest) -> AmendmentPlan:
        """The amended order, priced and checked, and the review it needs; nothing written."""
        async with self.sessions() as session:
            order = await lock_order(session, request.order_no, selectinload(Order.lines))
            before = _version_data(order)
            facts_before = await order_facts(session, order)
            lines, problems = await _amended_lines(session, order, request.changes)
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
            refusal = await _credit_refusal(session, order, total)
            if refusal is not None:
                return AmendmentPlan(refusal=refusal)
            # What the policy looks at, on the amended lines, written on trial.
            await _write_lines(session, order, lines)
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
    async def record_amendment(self, record: AmendmentRecord) -> str | None:
        """Write the new version; answers why not when the credit no longer allows it."""
        plan = record.plan
        async with self.sessions.begin() as session:
            order = await lock_order(session, record.order_no, selectinload(Order.lines))
            if order.version >= plan.version:
                return None  # written by an attempt whose answer was lost
            refusal = await _credit_refusal(session, order, Decimal(plan.total_after), lock=True)
            if refusal is not None:
                return refusal
            await _write_lines(
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
            await _set_aside_decisions(session, order.id, reopened, plan.version)
            await _write_levels(session, order.id, record.levels, plan.dropped, record.at)
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
                },
                at=record.at,
            )
            if moved and record.transition is not None:
                await audit_transition(session, record.transition)
            return None


async def _amended_lines(
    session: AsyncSession, order: Order, changes: AmendmentChanges
) -> tuple[list[LineVersion], list[str]]:
    """The order's lines with the changes applied, priced; and every problem found."""
    problems: list[str] = []
    current = {line.line_no: line for line in order.lines}
    for line_no in [c.line_no for c in changes.change_lines] + changes.remove_lines:
        if line_no not in current:
            problems.append(f"the order has no line {line_no}")
    skus = {line.sku for line in order.lines} | {line.sku for line in changes.add_lines}
    products = {
        p.sku: p for p in await session.scalars(select(Product).where(Product.sku.in_(skus)))
    }
    list_prices = await prices_on(
        session, {sku for sku in skus if sku in products}, entry_day(order.created_at)
    )
    changed = {c.line_no: c for c in changes.change_lines}
    lines: list[LineVersion] = []
    for line in order.lines:
        if line.line_no in changes.remove_lines:
            continue
        change = changed.get(line.line_no)
        if change is None:
            lines.append(LineVersion(line.line_no, line.sku, line.quantity, line.unit_price))
            continue
        price = Decimal(change.unit_price) if change.unit_price is not None else line.unit_price
        if price is not None and change.unit_price is not None and price > list_prices[line.sku]:
            problems.append(
                f"line {line.line_no}: unit price {price} of {line.sku} is above the price "
                f"list ({list_prices[line.sku]})"
            )
        lines.append(LineVersion(line.line_no, line.sku, change.quantity, price))
    next_no = max(current, default=0) + 1
    for offset, new in enumerate(changes.add_lines):
        line_no = next_no + offset
        product = products.get(new.sku)
        if product is None or not product.active:
            problems.append(f"new line {line_no}: SKU {new.sku} is not sold")
            continue
        price = Decimal(new.unit_price) if new.unit_price is not None else list_prices[new.sku]
        if price > list_prices[new.sku]:
            problems.append(
                f"new line {line_no}: unit price {price} of {new.sku} is above the price list "
                f"({list_prices[new.sku]})"
            )
        lines.append(LineVersion(line_no, new.sku, new.quantity, price))
    if not lines and not problems:
        problems.append("an order keeps at least one line: cancel it instead")
    return lines, problems


async def _credit_refusal(
    session: AsyncSession, order: Order, total: Decimal, *, lock: bool = False
) -> str | None:
    """Why the customer's credit does not allow ``total`` for this order, or None. Only a
    larger total is checked: an amendment that lowers the total never waits on credit."""
    if order.total is not None and total <= order.total:
        return None
    customer = await session.get_one(Customer, order.customer_id, with_for_update=lock)
    exposure = await session.scalar(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.customer_id == customer.id, Order.id != order.id, draws_on_credit()
        )
    )
    available = customer.credit_limit - Decimal(exposure or 0)
    if total > available:
        return (
            f"the amended total {total} exceeds the available credit {available} of customer "
            f"{customer.code} (limit {customer.credit_limit})"
        )
    return None


async def _write_lines(session: AsyncSession, order: Order, lines: list[LineVersion]) -> None:
    """Make the order's lines ``lines``: changed in place, removed, or added."""
    wanted = {line.line_no: line for line in lines}
    await session.execute(
        delete(OrderLine).where(
            OrderLine.order_id == order.id, OrderLine.line_no.not_in(list(wanted))
        )
    )
    existing = {line.line_no for line in order.lines}
    for line in lines:
        values = {
            "sku": line.sku,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": line.unit_price * line.quantity if line.unit_price is not None else None,
        }
        if line.line_no in existing:
            await session.execute(
                update(OrderLine)
                .where(OrderLine.order_id == order.id, OrderLine.line_no == line.line_no)
                .values(**values)
            )
        else:
            session.add(OrderLine(order_id=order.id, line_no=line.line_no, **values))


async def _set_aside_decisions(
    session: AsyncSession, order_id: int, levels: list[int], version: int
) -> None:
    """Move the decisions of re-opened levels to ``set_aside_decisions``, with the opening
    they were for: the level is decided again, and what was decided stays on the record."""
    if not levels:
        return
    taken = (
        select(
            Decision.order_id,
            Decision.level,
            ReviewLevel.opening,
            Decision.decided_by,
            Decision.on_behalf_of,
            Decision.acting_role,
            Decision.decision,
            Decision.comment,
            Decision.at,
            literal(version),
        )
        .join(
            ReviewLevel,
            (ReviewLevel.order_id == Decision.order_id) & (ReviewLevel.level == Decision.level),
        )
        .where(Decision.order_id == order_id, Decision.level.in_(levels))
    )
    await session.execute(
        insert(SetAsideDecision).from_select(
            [
                "order_id",
                "level",
                "opening",
                "decided_by",
                "on_behalf_of",
                "acting_role",
                "decision",
                "comment",
                "at",
                "set_aside_by_version",
            ],
            taken,
        )
    )
    await session.execute(
        delete(Decision).where(Decision.order_id == order_id, Decision.level.in_(levels))
    )


async def _write_levels(
    session: AsyncSession, order_id: int, levels: list[LevelWrite], dropped: list[int], at: datetime
) -> None:
    """The amended review's levels; a level no longer needed stays listed as dropped."""
    existing = set(
        await session.scalars(select(ReviewLevel.level).where(ReviewLevel.order_id == order_id))
    )
    for level in levels:
        values: dict[str, Any] = {
            "role": level.spec.role,
            "quorum": level.spec.quorum,
            "status": level.status,
            "opening": level.opening,
            "remind_every": level.spec.remind_every,
            "escalate_after": level.spec.escalate_after,
            "expire_after": level.spec.expire_after,
            "reminder_limit": level.spec.reminder_limit,
            "opened_at": at if level.status == "pending" else None,
            "decided_at": None,
        }
        if level.status == "approved":
            # A kept approval keeps when it was opened and decided.
            del values["opened_at"], values["decided_at"]
        if level.level in existing:
            await session.execute(
                update(ReviewLevel)
                .where(ReviewLevel.order_id == order_id, ReviewLevel.level == level.level)
                .values(**values)
            )
        else:
            session.add(ReviewLevel(order_id=order_id, level=level.level, **values))
    if dropped:
        await session.execute(
            update(ReviewLevel)
            .where(ReviewLevel.order_id == order_id, ReviewLevel.level.in_(dropped))
            .values(status="dropped")
        )


async def _policy(session: AsyncSession, order: Order) -> PolicyDocument:
    """The approval policy version the order was reviewed under: its amendments are weighed
    by the rules its decisions were taken under."""
    policy = await session.get_one(ApprovalPolicy, order.policy_version)
    return PolicyDocument.model_validate({"rules": policy.rules})


def _level_plan(spec: Any) -> LevelPlan:
    def seconds(duration: Any) -> float | None:
        return duration.total_seconds() if duration is not None else None

    return LevelPlan(
        role=spec.role,
        quorum=spec.quorum,
        remind_every=seconds(spec.remind_every),
        escalate_after=seconds(spec.escalate_after),
        expire_after=seconds(spec.expire_after),
        reminder_limit=spec.reminder_limit,
    )
