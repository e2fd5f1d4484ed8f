"""``python worker.py``: runs the order workflow, the notification delivery workflows, the
scheduled runs of order templates (``RecurringOrderWorkflow``), the archive workflow (whose
Temporal Schedule it creates or brings up to date) and their activities on the orders task
queue, and the reconciler that starts the workflow of an entered order whose start did not get
through.

It logs in LOG_FORMAT (one JSON object per line by default), each line of an order's
activity or workflow carrying its ``order_no``, and serves the Temporal SDK's own metrics for
Prometheus at ``http://WORKER_METRICS_ADDRESS/metrics`` (none when that is empty)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.runtime import (
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)
from temporalio.service import RPCError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from activities import all_activities
from activities.carriers import BuiltinCarrier, CarrierAdapter
from activities.failures import FailureClassifier
from api.scheduled_entry import ScheduledEntryActivities
from config import InsecureSettings, Settings, get_settings
from db.session import create_engine, create_session_factory
from deploy.temporal_setup import ensure_search_attributes
from domain.notifications import DELIVERED_CHANNELS
from logs import configure_logging
from reconcile import keep_reconciling
from workflows.archive import ArchiveWorkflow
from workflows.archive_schedule import ensure_archive_schedule
from workflows.delivery import DeliveryInput, NotificationDeliveryWorkflow, delivery_workflow_id
from workflows.order import OrderWorkflow
from workflows.recurring import RecurringOrderWorkflow

logger = logging.getLogger("worker")


class MetricsAddressTaken(Exception):
    """The worker cannot serve its metrics where WORKER_METRICS_ADDRESS says."""


def worker_runtime(settings: Settings) -> Runtime:
    """The Temporal runtime of the worker: the SDK's metrics served for Prometheus at
    WORKER_METRICS_ADDRESS (unless empty).

    The SDK core's own warnings stay on the core's console output, in its format: forwarded
    to Python logging, they reach Python from the core's threads, which crashes the process
    ("PyGILState_Release ... finalizing") when one arrives while the interpreter exits."""
    address = settings.worker_metrics_address.strip()
    telemetry = TelemetryConfig(
        metrics=PrometheusConfig(bind_address=address) if address else None,
    )
    try:
        return Runtime(telemetry=telemetry)
    except ValueError as error:  # the SDK's word for a port it could not bind
        raise MetricsAddressTaken(
            f"cannot serve metrics on WORKER_METRICS_ADDRESS={address} ({error}); choose "
            "another address, or set it empty to serve none"
        ) from None


class _LoggedActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        started = time.perf_counter()
        result = await super().execute_activity(input)
        info = activity.info()
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        # The SDK's logger adds the activity's type, attempt and workflow id to the line.
        activity.logger.info(
            "%s done in %.1f ms",
            info.activity_type,
            duration_ms,
            extra={"duration_ms": duration_ms},
        )
        return result


class ActivityLog(Interceptor):
    """Worker interceptor: a line per activity done (failures the SDK logs itself), so that
    an order's steps can be followed in the worker's log by its ``order_no``."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _LoggedActivityInbound(next)


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
        workflows=[
            OrderWorkflow,
            NotificationDeliveryWorkflow,
            RecurringOrderWorkflow,
            ArchiveWorkflow,
        ],
        activities=list(activities),
        max_concurrent_activities=settings.worker_activity_slots,
        max_concurrent_local_activities=settings.worker_local_activity_slots,
        max_cached_workflows=settings.worker_cached_workflows,
        # The log line is outermost, so that it times what the classifier lets through.
        interceptors=[ActivityLog(), FailureClassifier()],
    )


def worker_activities(
    sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter, settings: Settings
) -> list[Callable[..., Any]]:
    """Every activity the worker runs: the workflows' own and the API's order entry, which a
    template's scheduled run calls by name."""
    entry = ScheduledEntryActivities(sessions, settings)
    return [*all_activities(sessions, carrier, settings), entry.enter_order]


def carrier_for(settings: Settings) -> CarrierAdapter:
    if settings.carrier == "simulator":
        from activities.carriers import SimulatedCarrier

        return SimulatedCarrier(settings.carrier_simulator_url)
    return BuiltinCarrier()


def configure_worker_logging(settings: Settings) -> None:
    """LOG_FORMAT for every line; in JSON the SDK's activity and workflow loggers leave their
    details out of the message, as the line carries them as fields (``order_no`` among them)."""
    configure_logging(settings.log_format, settings.log_level)
    json_lines = settings.log_format == "json"
    activity.logger.activity_info_on_message = not json_lines
    workflow.logger.workflow_info_on_message = not json_lines


# Between tries to reach Temporal at start: doubling from the first up to the last.
CONNECT_RETRY_FIRST_SECONDS = 1.0
CONNECT_RETRY_MAX_SECONDS = 30.0


async def connect_when_reachable(
    settings: Settings, runtime: Runtime, stop: asyncio.Event
) -> Client | None:
    """Connect to Temporal and register the search attributes, trying again until it answers:
    a worker started before Temporal (a host booting, a server restarting, ``make run``, which
    does not restart a worker that exits) waits for it rather than leaving every order without
    a worker. None when asked to stop while waiting."""
    delay = CONNECT_RETRY_FIRST_SECONDS
    while True:
        try:
            client = await Client.connect(
                settings.temporal_address, namespace=settings.temporal_namespace, runtime=runtime
            )
            # Deployments register them in their one-shot set-up job before any worker starts
            # (then this finds nothing missing); `make run` and the tests have no such job.
            await ensure_search_attributes(client, settings.temporal_namespace)
            return client
        except (RuntimeError, RPCError) as error:
            logger.warning(
                "Temporal at %s not reachable (%s); trying again in %.0f s",
                settings.temporal_address,
                " ".join(str(error).split())[:200],
                delay,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
            return None
        delay = min(delay * 2, CONNECT_RETRY_MAX_SECONDS)


async def main() -> None:
    settings = get_settings()
    settings.refuse_default_secrets()
    configure_worker_logging(settings)
    runtime = worker_runtime(settings)
    # SIGTERM (docker stop, the dev stack) and Ctrl-C both let running activities finish.
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    client = await connect_when_reachable(settings, runtime, stop)
    if client is None:
        return
    engine = worker_engine(settings)
    sessions = create_session_factory(engine)
    activities = worker_activities(sessions, carrier_for(settings), settings)
    try:
        async with build_worker(client, settings, activities):
            await ensure_delivery_workflows(client, settings)
            await ensure_archive_schedule(client, settings)
            reconciling = asyncio.create_task(keep_reconciling(sessions, client, settings))
            logger.info(
                "polling %s on %s, carrier %s",
                settings.task_queue,
                settings.temporal_address,
                settings.carrier,
            )
            await stop.wait()
            reconciling.cancel()
    finally:
        await engine.dispose()


def _exit_now(code: int) -> None:
    """End the process without the interpreter's finalization. The Temporal SDK core's threads
    outlive the worker, and one that calls into Python while the interpreter finalizes
    crashes the process ("Fatal Python error: PyGILState_Release"). Everything that matters is
    done by then: the worker has shut down and the database connections are closed."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except (InsecureSettings, MetricsAddressTaken) as refusal:
        print(f"orderflow worker: {refusal}", file=sys.stderr, flush=True)
        _exit_now(1)
    _exit_now(0)
