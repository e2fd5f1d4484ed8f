"""How an order's workflow is started: by the API when an order is entered, and by the
reconciler for an entry whose start did not get through. Client code, not workflow code."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from config import Settings
from domain.statuses import OrderStatus
from workflows import search_attributes as sa
from workflows.messages import OrderTimers, OrderWorkflowInput, workflow_id_for
from workflows.order import OrderWorkflow


class _EnteredOrder(Protocol):
    @property
    def order_no(self) -> str: ...
    @property
    def created_by(self) -> str: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def total(self) -> Decimal | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def lines(self) -> Any: ...
    @property
    def requested_delivery_date(self) -> date | None: ...


class _OrderingCustomer(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


# The summary stays well inside what Temporal keeps of one (a few hundred bytes).
_SUMMARY_NAME_CHARS = 60


@dataclass(frozen=True)
class OrderEntry:
    """What starting an order's workflow needs to know of its entry and its customer."""

    order_no: str
    created_by: str
    customer_id: int
    customer_code: str
    customer_name: str
    total: Decimal | None
    currency: str
    line_count: int
    requested_delivery_date: date | None = None

    @classmethod
    def of(cls, order: _EnteredOrder, customer: _OrderingCustomer) -> OrderEntry:
        return cls(
            order_no=order.order_no,
            created_by=order.created_by,
            customer_id=order.customer_id,
            customer_code=customer.code,
            customer_name=customer.name,
            total=order.total,
            currency=order.currency,
            line_count=len(order.lines),
            requested_delivery_date=order.requested_delivery_date,
        )

    def summary(self) -> str:
        """The workflow's static summary in the Temporal UI: the order, its customer, total and
        creator. Fixed at start: an entry without prices is priced by validation, and its
        total then shows in the ``OrderTotal`` search attribute and the current details."""
        name = self.customer_name
        if len(name) > _SUMMARY_NAME_CHARS:
            name = name[: _SUMMARY_NAME_CHARS - 1] + "…"
        total = (
            f"total {self.total:,.2f} {self.currency}"
            if self.total is not None
            else "total priced at validation"
        )
        return (
            f"{self.order_no} · {self.customer_code} {name} · {total} · "
            f"{self.line_count} line(s) · entered by {self.created_by}"
        )


def start_options(settings: Settings, entry: OrderEntry) -> dict[str, Any]:
    """The workflow's input, id, queue and what ops see of it. Starting it again for the same
    order finds the one already running, or refuses when it already ran to its end."""
    params = OrderWorkflowInput(
        order_no=entry.order_no,
        created_by=entry.created_by,
        timers=OrderTimers(
            remind_after=settings.remind_after.total_seconds(),
            escalate_after=settings.escalate_after.total_seconds(),
            auto_confirm_after=settings.auto_confirm_after.total_seconds(),
            expire_after=(settings.expire_after.total_seconds() if settings.expire_after else None),
            reminder_limit=settings.reminder_limit,
        ),
        history_limit=settings.order_history_limit,
        requested_delivery_date=(
            entry.requested_delivery_date.isoformat()
            if entry.requested_delivery_date is not None
            else None
        ),
    )
    return {
        "args": [params],
        "id": workflow_id_for(entry.order_no),
        "task_queue": settings.task_queue,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "search_attributes": TypedSearchAttributes(
            [
                SearchAttributePair(sa.ORDER_STATUS, OrderStatus.CREATED.value),
                SearchAttributePair(sa.CUSTOMER_ID, str(entry.customer_id)),
                SearchAttributePair(sa.CUSTOMER_CODE, entry.customer_code),
                SearchAttributePair(sa.ORDER_TOTAL, float(entry.total or 0)),
                SearchAttributePair(sa.REVIEW_LEVEL, 0),
                SearchAttributePair(sa.ESCALATED, False),
                # Entered now; the workflow's first transition sets it from its own clock.
                SearchAttributePair(sa.STATUS_SINCE, datetime.now(UTC)),
                SearchAttributePair(sa.WAITING_ON, "validation"),
            ]
        ),
        "static_summary": entry.summary(),
    }


async def start_and_validate(client: Client, settings: Settings, entry: OrderEntry) -> None:
    """Start the workflow and wait, up to ``settings.entry_wait``, until it validated the
    order, in one call (update with start). When validation takes longer (no worker, say) it
    goes on after the wait; an RPC error (Temporal down) reaches the caller."""
    options = start_options(settings, entry)
    operation = WithStartWorkflowOperation(OrderWorkflow.run, **options)
    try:
        await client.execute_update_with_start_workflow(
            OrderWorkflow.validated,
            start_workflow_operation=operation,
            rpc_timeout=settings.entry_wait,
        )
    except WorkflowAlreadyStartedError:
        # Its workflow already ran to its end (a request replayed late). The start operation
        # holds the same refusal; it is read here, or asyncio reports it as never retrieved.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await operation.workflow_handle()
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        # Whether or not the start got through before the wait ran out, make sure it runs.
        await start_order(client, settings, entry)


async def start_order(client: Client, settings: Settings, entry: OrderEntry) -> None:
    """Start the workflow unless it runs or ran to its end."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(OrderWorkflow.run, **start_options(settings, entry))
