"""Temporal's own floor for the order process: a no-op workflow with the product's message shape.

``BaselineOrderWorkflow`` takes, per order, the same updates and signals the product's median
order takes, in the same order, and runs one no-op regular activity per status transition
(CREATED, UNDER_REVIEW, APPROVED, IN_PRODUCTION, AWAITING_SHIPMENT, SHIPPED, DELIVERED,
COMPLETED on the production path) — nothing else: no database, no queries, no notifications.
As in the product, an update answers once the transition it causes has run: the last
decision after APPROVED, the last production report after AWAITING_SHIPMENT, dispatch after
SHIPPED, confirmation after COMPLETED. An update that arrives before the order is ready for it
waits in its handler instead of being polled for, which is the cheapest the engine allows.

``ProbeWorkflow`` idles; its ``ping`` update returns at once. The bench sends it one update
every ~100 ms to measure the bare update round trip while the product is under load.

Both run on the bench's own worker (``python -m bench.baseline_worker``), never the product's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

TASK_QUEUE = "bench-baseline"
_TRANSITION_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class OrderShape:
    """How many of each message the median order took."""

    review_levels: int = 2
    production_steps: int = 3
    carrier_events: int = 3


@activity.defn(name="BenchNoopTransition")
async def noop_transition(status: str) -> str:
    """Stands for the product's write of one status transition; does nothing."""
    return status


@workflow.defn(name="BenchBaselineOrder")
class BaselineOrderWorkflow:
    @workflow.init
    def __init__(self, shape: OrderShape) -> None:
        self.shape = shape
        self.reached: list[str] = []
        self.decisions = 0
        self.reports = 0
        self.dispatched = False
        self.delivered = False
        self.confirmed = False

    @workflow.run
    async def run(self, shape: OrderShape) -> str:
        await self._transition("CREATED")
        await self._transition("UNDER_REVIEW")
        await workflow.wait_condition(lambda: self.decisions >= shape.review_levels)
        await self._transition("APPROVED")
        if shape.production_steps:
            await self._transition("IN_PRODUCTION")
            await workflow.wait_condition(lambda: self.reports >= shape.production_steps)
        await self._transition("AWAITING_SHIPMENT")
        await workflow.wait_condition(lambda: self.dispatched)
        await self._transition("SHIPPED")
        await workflow.wait_condition(lambda: self.delivered)
        await self._transition("DELIVERED")
        await workflow.wait_condition(lambda: self.confirmed)
        await self._transition("COMPLETED")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.reached[-1]

    async def _transition(self, status: str) -> None:
        """One no-op activity; the status counts as reached once it has run."""
        await workflow.execute_activity(
            noop_transition, status, start_to_close_timeout=_TRANSITION_TIMEOUT
        )
        self.reached.append(status)

    async def _reach(self, status: str) -> None:
        await workflow.wait_condition(lambda: status in self.reached)

    @workflow.update
    async def decide(self) -> str:
        await self._reach("UNDER_REVIEW")
        self.decisions += 1
        if self.decisions >= self.shape.review_levels:
            await self._reach("APPROVED")
        return self.reached[-1]

    @workflow.update
    async def report_production(self, step: int) -> str:
        await self._reach("IN_PRODUCTION")
        self.reports += 1
        if self.reports >= self.shape.production_steps:
            await self._reach("AWAITING_SHIPMENT")
        return self.reached[-1]

    @workflow.update
    async def dispatch(self) -> str:
        await self._reach("AWAITING_SHIPMENT")
        self.dispatched = True
        await self._reach("SHIPPED")
        return self.reached[-1]

    @workflow.signal
    def carrier_event(self, status: str) -> None:
        if status == "delivered":
            self.delivered = True

    @workflow.update
    async def confirm_delivery(self) -> str:
        await self._reach("DELIVERED")
        self.confirmed = True
        await self._reach("COMPLETED")
        return self.reached[-1]


@workflow.defn(name="BenchProbe")
class ProbeWorkflow:
    def __init__(self) -> None:
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.update
    def ping(self) -> None:
        """The bare update round trip: no work at all."""

    @workflow.signal
    def finish(self) -> None:
        self.finished = True
