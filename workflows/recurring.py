"""A scheduled run of an order template: the workflow each template's Temporal Schedule starts.

It asks the template's activities to plan the run (skipping, with the reason recorded, when
the customer, a product or the template's owner is no longer active) and then to enter the
order through the same service a person's ``POST /orders`` goes through: validation, review
and everything after are the order workflow's. The order's idempotency key is derived from the
run's scheduled time, so a run retried, or started again for the same time, enters one order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from activities.recurring import RecurringOrderActivities, RunOutcome, RunRequest

# Set by Temporal on every workflow a schedule starts: the time the run was due (a trigger's
# is the moment of the trigger).
SCHEDULED_START_TIME = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
PLAN_TIMEOUT = timedelta(seconds=10)
# Entering waits for the order's validation (ENTRY_WAIT, 5 s by default) at most.
ENTER_TIMEOUT = timedelta(seconds=60)
RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=10)


@dataclass
class RecurringOrderInput:
    template_id: int


def recurring_workflow_id(template_id: int) -> str:
    """The base of each run's id; the schedule appends the run's time."""
    return f"recurring-order-template-{template_id}"


@workflow.defn
class RecurringOrderWorkflow:
    @workflow.run
    async def run(self, request: RecurringOrderInput) -> RunOutcome:
        info = workflow.info()
        scheduled_at = info.typed_search_attributes.get(SCHEDULED_START_TIME) or info.start_time
        run = RunRequest(template_id=request.template_id, scheduled_at=scheduled_at.isoformat())
        planned: RunOutcome = await workflow.execute_local_activity_method(
            RecurringOrderActivities.plan_run,
            run,
            start_to_close_timeout=PLAN_TIMEOUT,
            retry_policy=RETRY,
        )
        if planned.plan is None:
            return planned
        # Named, not imported: entering is the API's service (api/scheduled_entry.py).
        entered: RunOutcome = await workflow.execute_activity(
            "enter_order",
            planned.plan,
            result_type=RunOutcome,
            start_to_close_timeout=ENTER_TIMEOUT,
            retry_policy=RETRY,
        )
        return entered
