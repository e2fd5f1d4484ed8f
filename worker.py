"""``python worker.py``: runs the order workflow and its activities on the orders task queue."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.worker import Worker

from activities.carriers import BuiltinCarrier, CarrierAdapter
from activities.orders import OrderActivities
from config import Settings, get_settings
from db.session import create_engine, create_session_factory
from workflows import search_attributes
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
    activities: OrderActivities,
    task_queue: str | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[OrderWorkflow],
        activities=[
            activities.record_transition,
            activities.validate_order,
            activities.open_review,
            activities.open_level,
            activities.record_decision,
            activities.record_review_notice,
            activities.create_work_order,
            activities.record_production_event,
            activities.book_shipment,
            activities.mark_dispatched,
            activities.record_carrier_event,
            activities.cancel_fulfilment,
        ],
    )


async def main(carrier: CarrierAdapter | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    await ensure_search_attributes(client, settings.temporal_namespace)
    engine = create_engine(settings.sqlalchemy_url)
    activities = OrderActivities(create_session_factory(engine), carrier or BuiltinCarrier())
    # SIGTERM (docker stop, the dev stack) and Ctrl-C both let running activities finish.
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        async with build_worker(client, settings, activities):
            logging.info("polling %s on %s", settings.task_queue, settings.temporal_address)
            await stop.wait()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
