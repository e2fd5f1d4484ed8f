"""``python worker.py``: runs the order workflow and its activities on the orders task queue."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.worker import Worker

from activities import all_activities
from activities.carriers import BuiltinCarrier, CarrierAdapter
from config import Settings, get_settings
from db.session import create_engine, create_session_factory
from workflows import search_attributes
from workflows.notifications import NotificationWorkflow
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


def build_worker(
    client: Client,
    settings: Settings,
    activities: Sequence[Callable[..., Any]],
    task_queue: str | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[OrderWorkflow, NotificationWorkflow],
        activities=list(activities),
    )


def carrier_for(settings: Settings) -> CarrierAdapter:
    if settings.carrier == "simulator":
        from activities.carriers import SimulatedCarrier

        return SimulatedCarrier(settings.carrier_simulator_url)
    return BuiltinCarrier()


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    await ensure_search_attributes(client, settings.temporal_namespace)
    engine = create_engine(settings.sqlalchemy_url)
    activities = all_activities(create_session_factory(engine), carrier_for(settings), settings)
    # SIGTERM (docker stop, the dev stack) and Ctrl-C both let running activities finish.
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        async with build_worker(client, settings, activities):
            logging.info(
                "polling %s on %s, carrier %s",
                settings.task_queue,
                settings.temporal_address,
                settings.carrier,
            )
            await stop.wait()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
