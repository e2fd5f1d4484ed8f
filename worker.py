"""``python worker.py``: runs the order workflow, the notification delivery workflows and
their activities on the orders task queue, and the reconciler that starts the workflow of an
entered order whose start did not get through."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities import all_activities
from activities.carriers import BuiltinCarrier, CarrierAdapter
from activities.failures import FailureClassifier
from config import InsecureSettings, Settings, get_settings
from db.session import create_engine, create_session_factory
from domain.notifications import DELIVERED_CHANNELS
from reconcile import keep_reconciling
from workflows import search_attributes
from workflows.delivery import DeliveryInput, NotificationDeliveryWorkflow, delivery_workflow_id
from workflows.order import OrderWorkflow


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register the order search attributes on a server that does not have them yet."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.ValueType(
            SearchAttributeIndexedValueType(key.indexed_value_type).value
        )
        for key in search_attributes.ALL
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


async def ensure_delivery_workflows(client: Client, settings: Settings) -> None:
    """Start the delivery workflow of each channel unless it already runs (every worker
    asks at start-up; the first one starts them)."""
    for channel in DELIVERED_CHANNELS:
        await client.start_workflow(
            NotificationDeliveryWorkflow.run,
            DeliveryInput(
                channel=channel,
                max_attempts=settings.notification_max_attempts,
                initial_interval_seconds=settings.notification_retry_initial.total_seconds(),
            ),
            id=delivery_workflow_id(channel),
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Delivers {channel} notifications from the outbox",
        )


def worker_engine(settings: Settings) -> AsyncEngine:
    """The worker's connections: one for every activity it may run at once. No ping on
    checkout: an activity that meets a connection the database dropped fails that attempt,
    and Temporal retries it."""
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.worker_activity_slots + settings.worker_local_activity_slots,
        max_overflow=0,
        pre_ping=False,
    )


def build_worker(
    client: Client,
    settings: Settings,
    activities: Sequence[Callable[..., Any]],
    task_queue: str | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[OrderWorkflow, NotificationDeliveryWorkflow],
        activities=list(activities),
        max_concurrent_activities=settings.worker_activity_slots,
        max_concurrent_local_activities=settings.worker_local_activity_slots,
        max_cached_workflows=settings.worker_cached_workflows,
        interceptors=[FailureClassifier()],
    )


def carrier_for(settings: Settings) -> CarrierAdapter:
    if settings.carrier == "simulator":
        from activities.carriers import SimulatedCarrier

        return SimulatedCarrier(settings.carrier_simulator_url)
    return BuiltinCarrier()


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    settings.refuse_default_secrets()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    await ensure_search_attributes(client, settings.temporal_namespace)
    engine = worker_engine(settings)
    sessions = create_session_factory(engine)
    activities = all_activities(sessions, carrier_for(settings), settings)
    # SIGTERM (docker stop, the dev stack) and Ctrl-C both let running activities finish.
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        async with build_worker(client, settings, activities):
            await ensure_delivery_workflows(client, settings)
            reconciling = asyncio.create_task(keep_reconciling(sessions, client, settings))
            logging.info(
                "polling %s on %s, carrier %s",
                settings.task_queue,
                settings.temporal_address,
                settings.carrier,
            )
            await stop.wait()
            reconciling.cancel()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except InsecureSettings as refusal:
        print(f"orderflow worker: {refusal}", file=sys.stderr, flush=True)
        sys.exit(1)
