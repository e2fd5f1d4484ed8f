"""The order workflow: one durable execution per sales order, from entry to a terminal status.

The main flow walks the order forward stage by stage (validate, review, produce, ship,
deliver, close), each stage picked by where the order stands, so a run that continues as new
picks up exactly where the previous one stopped. People act through updates, whose validators
refuse a request before anything is written; the carrier reports through signals; ``state``
is the query. Each concern lives in its own module: ``review``, ``fulfilment``, ``production``,
``tracking``, ``shipping`` and ``receipts`` (per-line fulfilment, release 1.1) and ``details``;
the handlers below only hand requests to them.

Release 1.0: every later change that running orders depend on is guarded with
``workflow.patched`` (see the README), and recorded histories in ``tests/histories`` replay.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    # The modules whose dataclasses make up the order's state, imported here so that the
    # sandbox can resolve their type hints when it decodes a continued run's input.
    import activities.amendments.inputs
    import activities.inputs  # noqa: F401
    import domain.production
    import domain.review  # noqa: F401
    from activities.inputs import ValidationOutcome
    from activities.orders import OrderActivities
    from domain.actors import SYSTEM
    from domain.notifications import NotificationEvent
    from domain.refusals import conflict, invalid
    from domain.statuses import TERMINAL, OrderStatus, can_cancel, can_hold
    from workflows import search_attributes as sa
    from workflows.messages import (
        ActionRequest,
        AmendmentRequest,
        CarrierUpdate,
        ConfirmRequest,
        DecisionRequest,
        DispatchRequest,
        OrderState,
        OrderWorkflowInput,
        ProductionReport,
        UpdateAck,
    )
    from workflows.order.amendments import Amendments
    from workflows.order.context import (
        ContinueAsNewDue,
        OrderCancelled,
        OrderContext,
        StepFailed,
    )
    from workflows.order.fulfilment import Fulfilment
    from workflows.order.production import ProductionTracker
    from workflows.order.receipts import ShipmentReceipts
    from workflows.order.review import ReviewEngine
    from workflows.order.shipping import Shipping
    from workflows.order.tracking import CarrierTracking

S = OrderStatus
Event = NotificationEvent


@workflow.defn
class OrderWorkflow:
    @workflow.init
    def __init__(self, params: OrderWorkflowInput) -> None:
        self.order = OrderContext(params)
        self.review = ReviewEngine(self.order)
        self.production = ProductionTracker(self.order)
        self.fulfilment = Fulfilment(self.order, self.production)
        self.tracking = CarrierTracking(self.order)
        self.amendments = Amendments(self.order, self.production)
        self.receipts = ShipmentReceipts(self.order, self.tracking)
        self.production.receipts = self.receipts
        self.shipping = Shipping(self.order, self.fulfilment, self.tracking, self.receipts)
        self.stages: dict[OrderStatus, Callable[[], Awaitable[None]]] = {
            S.CREATED: self._validate,
            S.UNDER_REVIEW: self.review.run,
            S.APPROVED: self.fulfilment.start,
            S.IN_PRODUCTION: self.fulfilment.produce,
            S.AWAITING_SHIPMENT: self._per_line_or(self.fulfilment.ship),
            S.SHIPPED: self._per_line_or(self.tracking.await_delivery),
            S.DELIVERED: self._per_line_or(self.tracking.await_receipt),
        }

    def _per_line_or(self, stage: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """A shipping stage: followed line by line for an order that ships per line, else as
        release 1.0 ran it."""

        async def run() -> None:
            await (self.shipping.follow() if self.order.state.per_line else stage())

        return run

    @workflow.run
    async def run(self, params: OrderWorkflowInput) -> str:
        order = self.order
        order.show()
        try:
            while (stage := order.stage()) not in TERMINAL:
                try:
                    await self._run_stage(stage)
                except OrderCancelled:
                    # After a partial shipment only the backorder is cancelled.
                    if not self.shipping.cancels_backorder():
                        raise
                    await self.shipping.cancel_backorder()
            if order.state.status == S.REJECTED and order.state.undo:
                # Rejected when an amendment re-opened the review after approval.
                await self.fulfilment.undo_after_rejection()
        except OrderCancelled:
            await self._compensate()
        except ContinueAsNewDue:
            # Raised only at a wait with no handler running: the state is whole.
            workflow.continue_as_new(replace(params, carried=order.state))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return order.state.status.value

    async def _run_stage(self, stage: OrderStatus) -> None:
        """One stage of the main flow. A step that fails for good holds the order for ops;
        their resume runs the stage again from its start (every stage may)."""
        order = self.order
        await order.wait(lambda: order.state.fault is None)
        try:
            await self.stages[stage]()
        except StepFailed as failure:
            async with order.lock:
                await order.hold_for_fault(failure)

    async def _compensate(self) -> None:
        """Undo what the order set in motion; a compensation that fails for good holds the
        order for ops, whose resume tries again."""
        order = self.order
        while True:
            try:
                await self.fulfilment.compensate()
                return
            except StepFailed as failure:
                async with order.lock:
                    await order.hold_for_fault(failure)
                await workflow.wait_condition(lambda: order.state.fault is None)

    # ------------------------------------------------------------------ stages of its own

    async def _validate(self) -> None:
        order = self.order
        outcome: ValidationOutcome = await order.project(
            OrderActivities.validate_order, order.order_no
        )
        attributes: list[SearchAttributeUpdate[Any]] = [
            sa.CUSTOMER_ID.value_set(outcome.customer_id),
            sa.ORDER_TOTAL.value_set(float(outcome.total)),
        ]
        # The static summary was fixed before the order was priced: the details carry it.
        order.state.total = outcome.total
        if not outcome.ok or outcome.review is None:
            await order.advance(
                S.REJECTED, SYSTEM, "; ".join(outcome.reasons), attributes=attributes
            )
            return
        asking = self.review.prepare(outcome.review)
        await order.advance(
            S.UNDER_REVIEW,
            SYSTEM,
            "validated",
            notices=[asking],
            opens_level=order.state.current_level,
            attributes=[*attributes, sa.REVIEW_LEVEL.value_set(order.state.current_level)],
        )

    # ------------------------------------------------------------------ validators

    def _refuse_early(self, check: Callable[[], object]) -> None:
        """An update that does not fit the order's state is refused before it enters the
        history, except while a write is in flight: PostgreSQL may already show the status
        being written, and a caller acting on it must not be refused for the moment the
        workflow takes to catch up. Every handler checks again once it holds the lock."""
        if self.order.lock.locked():
            return
        with self.order.refusing():
            check()

    # ------------------------------------------------------------------ query

    @workflow.query
    def state(self) -> OrderState:
        return self.order.snapshot()

    # ------------------------------------------------------------------ entry

    @workflow.update
    async def validated(self) -> UpdateAck:
        """Answers once the order is validated (under review or rejected) and PostgreSQL
        shows it: entering an order starts the workflow with this update."""
        order = self.order
        await workflow.wait_condition(lambda: order.state.status != S.CREATED)
        return order.ack()

    # ------------------------------------------------------------------ review

    @workflow.update
    async def decide(self, request: DecisionRequest) -> UpdateAck:
        return await self.review.decide(request)

    @decide.validator
    def _validate_decide(self, request: DecisionRequest) -> None:
        self._refuse_early(lambda: self.review.check(request))

    # ------------------------------------------------------------------ amendments

    @workflow.update
    async def amend(self, request: AmendmentRequest) -> UpdateAck:
        return await self.amendments.amend(request)

    @amend.validator
    def _validate_amend(self, request: AmendmentRequest) -> None:
        self._refuse_early(lambda: self.amendments.check(request))

    # ------------------------------------------------------------------ cancel, hold, resume

    @workflow.update
    async def cancel(self, request: ActionRequest) -> UpdateAck:
        order = self.order
        async with order.lock:
            with order.refusing():
                self._check_cancel()
            order.state.cancel_request = request
        # Answers once cancelled (or its backorder), or held for ops when a compensation
        # failed for good.
        state = order.state
        await workflow.wait_condition(
            lambda: (
                state.status == S.CANCELLED
                or state.fault is not None
                or (state.backorder_cancelled and state.cancel_request is None)
            )
        )
        return order.ack()

    @cancel.validator
    def _validate_cancel(self, request: ActionRequest) -> None:
        self._refuse_early(self._check_cancel)

    def _check_cancel(self) -> None:
        state = self.order.state
        if state.cancel_request is not None:
            raise conflict("the order is already being cancelled")
        # Goods the carrier could not deliver may be written off: ops cancels the held order.
        undeliverable = state.status == S.ON_HOLD and state.carrier_hold
        if not undeliverable and (
            state.dispatch_request is not None or not can_cancel(state.status, state.held_from)
        ):
            raise conflict(f"an order that is {state.status.value} can no longer be cancelled")

    @workflow.update
    async def hold(self, request: ActionRequest) -> UpdateAck:
        order = self.order
        async with order.lock:
            with order.refusing():
                self._check_hold()
            state = order.state
            await order.record_transition(
                S.ON_HOLD,
                request.actor.username,
                request.reason,
                held_from=state.status,
                for_caller=True,
            )
        return order.ack()

    @hold.validator
    def _validate_hold(self, request: ActionRequest) -> None:
        self._refuse_early(self._check_hold)

    def _check_hold(self) -> None:
        state = self.order.state
        if state.cancel_request is not None:
            raise conflict("the order is being cancelled")
        if state.status == S.ON_HOLD:
            raise conflict("the order is already on hold")
        if not can_hold(state.status) or state.dispatch_request is not None:
            raise conflict(f"an order that is {state.status.value} cannot be put on hold")

    @workflow.update
    async def resume(self, request: ActionRequest) -> UpdateAck:
        order = self.order
        async with order.lock:
            with order.refusing():
                self._check_resume()
            state = order.state
            assert state.held_from is not None
            await order.record_transition(
                state.held_from, request.actor.username, request.reason, for_caller=True
            )
            # The step a fault held runs again, tracking events it kept from the record too.
            state.carrier_hold = False
            state.fault = None
        await self.tracking.record_unrecorded(self.carrier_event)
        await self.shipping.resume_pending()
        return order.ack()

    @resume.validator
    def _validate_resume(self, request: ActionRequest) -> None:
        self._refuse_early(self._check_resume)

    def _check_resume(self) -> None:
        state = self.order.state
        # A cancellation held by a failed compensation resumes to try it again.
        if state.cancel_request is not None and state.fault is None:
            raise conflict("the order is being cancelled")
        if state.status != S.ON_HOLD:
            raise conflict(f"the order is {state.status.value}, not ON_HOLD")

    # ------------------------------------------------------------------ logistics, receipt

    @workflow.update
    async def dispatch(self, request: DispatchRequest) -> UpdateAck:
        if self.shipping.takes_dispatch():
            return await self.shipping.dispatch(request)
        order = self.order
        async with order.lock:
            with order.refusing():
                self._check_dispatch(request)
            order.state.dispatch_request = request
        # Answers once shipped, or held for ops when the hand-over failed for good (the
        # dispatch goes on when they resume).
        await workflow.wait_condition(
            lambda: order.state.status in (S.SHIPPED, S.CANCELLED) or order.state.fault is not None
        )
        return order.ack()

    @dispatch.validator
    def _validate_dispatch(self, request: DispatchRequest) -> None:
        if self.shipping.takes_dispatch():
            self._refuse_early(lambda: self.shipping.check_dispatch(request))
        else:
            self._refuse_early(lambda: self._check_dispatch(request))

    def _check_dispatch(self, request: DispatchRequest) -> None:
        self.order.check_open(S.AWAITING_SHIPMENT)
        if self.order.state.dispatch_request is not None:
            raise conflict("the order is already being dispatched")
        if request.lines is not None:
            raise conflict("the order ships as the one shipment booked for it: dispatch it whole")

    @workflow.update
    async def confirm_delivery(self, request: ConfirmRequest) -> UpdateAck:
        if self.order.state.per_line:
            return await self.receipts.confirm(request)
        order = self.order
        async with order.lock:
            with order.refusing():
                self._check_confirm(request)
            await order.record_transition(
                S.COMPLETED,
                request.actor.username,
                request.reason,
                notices=[self.tracking.completed_notice()],
                for_caller=True,
            )
            order.state.confirm_request = request
        return order.ack()

    @confirm_delivery.validator
    def _validate_confirm_delivery(self, request: ConfirmRequest) -> None:
        if self.order.state.per_line:
            self._refuse_early(lambda: self.receipts.check_confirm(request))
        else:
            self._refuse_early(lambda: self._check_confirm(request))

    def _check_confirm(self, request: ConfirmRequest) -> None:
        state = self.order.state
        if request.tracking_no not in (None, state.tracking_no):
            raise invalid(f"the order has no shipment {request.tracking_no}")
        self.order.check_open(S.DELIVERED)
        if state.confirm_request is not None:
            raise conflict("receipt is already confirmed")

    # ------------------------------------------------------------------ shop floor, carrier

    @workflow.update
    async def report_production(self, report: ProductionReport) -> UpdateAck:
        return await self.production.report(report)

    @report_production.validator
    def _validate_report_production(self, report: ProductionReport) -> None:
        self._refuse_early(lambda: self.production.check(report))

    @workflow.signal
    async def carrier_event(self, update: CarrierUpdate) -> None:
        if self.order.state.per_line:
            await self.receipts.on_event(update)
        else:
            await self.tracking.on_event(update)
