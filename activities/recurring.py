"""Activities of a scheduled run of an order template (``workflows/recurring.py``).

Planning reads the template and decides whether the run can enter an order: a customer, a
product or an owner no longer active skips the run, recorded with its reason (a
``template_runs`` row the API lists, and an alert). The plan, kept in the run's history, is
what gets entered, however often entering is retried. Entering is the API's own service
(``api/scheduled_entry.py``, the path of a person's ``POST /orders``), with an idempotency key
named after the run's scheduled time, so a retried run finds the order it already entered
instead of entering another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio import activity

from db.models import Alert, Customer, OrderTemplate, Product, TemplateRun, User

ENTERED, SKIPPED, FAILED = "entered", "skipped", "failed"


@dataclass
class RunRequest:
    template_id: int
    scheduled_at: str  # ISO 8601, UTC


@dataclass
class PlannedLine:
    sku: str
    quantity: int


@dataclass
class EntryPlan:
    template_id: int
    scheduled_at: str
    customer_id: int
    owner: str
    lines: list[PlannedLine]


@dataclass
class RunOutcome:
    """``plan`` when the run may enter its order; else what came of it and why."""

    outcome: str
    reason: str | None = None
    order_no: str | None = None
    plan: EntryPlan | None = None


def idempotency_key(template_id: int, scheduled_at: datetime) -> str:
    """One key per template and scheduled time: a run retried enters its order once."""
    return f"template-{template_id}@{scheduled_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


async def record_run(
    session: AsyncSession,
    template_id: int,
    scheduled_at: datetime,
    outcome: str,
    *,
    order_no: str | None = None,
    reason: str | None = None,
) -> None:
    """The run's row (once per scheduled time) and, for a run without an order, an alert."""
    inserted = await session.scalar(
        insert(TemplateRun)
        .values(
            template_id=template_id,
            scheduled_at=scheduled_at,
            outcome=outcome,
            order_no=order_no,
            reason=reason,
        )
        .on_conflict_do_nothing(index_elements=["template_id", "scheduled_at"])
        .returning(TemplateRun.id)
    )
    if inserted is not None and outcome != ENTERED:
        session.add(
            Alert(
                key=f"template-run:{inserted}",
                kind="template_run_skipped",
                message=f"order template {template_id}, run due "
                f"{scheduled_at.isoformat()}: {outcome}: {reason}",
            )
        )


async def why_not(session: AsyncSession, template: OrderTemplate) -> str | None:
    """Why the template cannot enter an order now, or None."""
    customer = await session.get(Customer, template.customer_id)
    if customer is None or not customer.active:
        code = customer.code if customer else template.customer_id
        return f"customer {code} is inactive"
    skus = [line.sku for line in template.lines]
    active = set(
        await session.scalars(select(Product.sku).where(Product.sku.in_(skus), Product.active))
    )
    inactive = [sku for sku in skus if sku not in active]
    if inactive:
        return f"product(s) {', '.join(inactive)} inactive"
    owner = (
        await session.scalars(select(User).where(User.username == template.owner))
    ).one_or_none()
    if owner is None or not owner.active or "sales" not in owner.roles:
        return f"its owner {template.owner} may no longer enter orders; a sales user saves it again"
    return None


class RecurringOrderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    @activity.defn
    async def plan_run(self, run: RunRequest) -> RunOutcome:
        scheduled_at = datetime.fromisoformat(run.scheduled_at)
        async with self.sessions.begin() as session:
            template = (
                await session.scalars(
                    select(OrderTemplate)
                    .where(OrderTemplate.id == run.template_id)
                    .options(selectinload(OrderTemplate.lines))
                )
            ).one_or_none()
            if template is None:
                # Deleted after the run was due; its schedule went with it.
                return RunOutcome(SKIPPED, reason=f"order template {run.template_id} is gone")
            reason = await why_not(session, template)
            if reason is not None:
                await record_run(session, template.id, scheduled_at, SKIPPED, reason=reason)
                return RunOutcome(SKIPPED, reason=reason)
            return RunOutcome(
                "planned",
                plan=EntryPlan(
                    template_id=template.id,
                    scheduled_at=run.scheduled_at,
                    customer_id=template.customer_id,
                    owner=template.owner,
                    lines=[PlannedLine(line.sku, line.quantity) for line in template.lines],
                ),
            )
