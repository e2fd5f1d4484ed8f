"""The order a template's schedule enters, as an activity of ``RecurringOrderWorkflow``.

It lives with the API, not in ``activities/``, because entering is the API's own service:
the run goes through ``services.create_order`` exactly as a person's ``POST /orders`` does
(the same checks, the same order workflow). The workflow names the activity (``enter_order``)
instead of importing it, so imports still run one way (api → workflows → activities); the
worker registers it next to the others (``worker.worker_activities``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.recurring import ENTERED, FAILED, EntryPlan, RunOutcome, idempotency_key, record_run
from api import order_limits, schemas, services
from api.errors import AppError
from config import Settings
from db.models import User


class ScheduledEntryActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    @activity.defn(name="enter_order")
    async def enter_order(self, plan: EntryPlan) -> RunOutcome:
        """Enter the planned order as the template's owner, with an idempotency key named
        after the run's scheduled time (a retried run finds the order it entered), and record
        the run: entered, or failed with the refusal a person would have been given."""
        scheduled_at = datetime.fromisoformat(plan.scheduled_at)
        body = schemas.NewOrder(
            customer_id=plan.customer_id,
            lines=[
                schemas.OrderLineCreate(sku=line.sku, quantity=line.quantity) for line in plan.lines
            ],
        )
        key = idempotency_key(plan.template_id, scheduled_at)
        async with self.sessions() as session:
            owner = (await session.scalars(select(User).where(User.username == plan.owner))).one()
            try:
                await order_limits.ensure_total_fits(session, body)
                order, _ = await services.create_order(
                    session,
                    activity.client(),
                    self.settings,
                    owner,
                    body,
                    key,
                    reason=f"order entered by the schedule of order template {plan.template_id}",
                )
                order_no, outcome, reason = order.order_no, ENTERED, None
            except AppError as refusal:
                await session.rollback()
                order_no, outcome, reason = None, FAILED, refusal.detail
        async with self.sessions.begin() as session:
            await record_run(
                session, plan.template_id, scheduled_at, outcome, order_no=order_no, reason=reason
            )
        return RunOutcome(outcome, reason=reason, order_no=order_no)
