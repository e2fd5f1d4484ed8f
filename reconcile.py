"""The reconciler: an entered order always gets its workflow.

The API commits an order's entry, then starts its workflow. When Temporal cannot take the
start (it is down, or the API died in between), the entry stays CREATED with no workflow.
Every worker looks for such entries once a minute and starts their workflows: starting is
idempotent (an order's workflow id is fixed, a running one is found, one that ran to its end
is not started again), so several workers doing it at once start each order once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from temporalio.client import Client
from temporalio.service import RPCError

from config import Settings
from db.models import Customer, Order
from domain.statuses import OrderStatus
from workflows.entry import OrderEntry, start_order

logger = logging.getLogger(__name__)

# An entry younger than this is most likely being started by the API right now.
GRACE = timedelta(seconds=30)
EVERY = timedelta(seconds=60)
BATCH = 200


async def entries_without_workflow(
    sessions: async_sessionmaker[AsyncSession], older_than: timedelta
) -> list[OrderEntry]:
    """CREATED entries old enough that their start should have happened. Whether a workflow
    runs for them is Temporal's to say: starting again is harmless."""
    before = datetime.now(UTC) - older_than
    async with sessions() as session:
        rows = await session.execute(
            select(Order, Customer)
            .join(Customer, Customer.id == Order.customer_id)
            .where(Order.status == OrderStatus.CREATED.value, Order.created_at < before)
            .options(selectinload(Order.lines))
            .order_by(Order.id)
            .limit(BATCH)
        )
        return [OrderEntry.of(order, customer) for order, customer in rows]


async def start_missing_workflows(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    older_than: timedelta = GRACE,
) -> list[str]:
    """Start the workflow of every entry that has none; the order numbers looked at."""
    entries = await entries_without_workflow(sessions, older_than)
    for entry in entries:
        await start_order(client, settings, entry)
    if entries:
        logger.info("reconciler: made sure %d entered order(s) have a workflow", len(entries))
    return [entry.order_no for entry in entries]


async def keep_reconciling(
    sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings
) -> None:
    """Run until cancelled; a failed round (Temporal or PostgreSQL away) waits for the next."""
    while True:
        try:
            await start_missing_workflows(sessions, client, settings)
        except (RPCError, OSError) as error:
            logger.warning("reconciler: this round failed, next in %s: %s", EVERY, error)
        await asyncio.sleep(EVERY.total_seconds())
