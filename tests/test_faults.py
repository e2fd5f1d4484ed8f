"""No order waits for ever: a step that fails for good holds the order for ops, a request the
database refuses is answered and changes nothing, and every call answers within its bound."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.models import Alert, Decision, Order, StatusHistory
from devstack.temporal_cli import ensure_temporal_cli
from domain.statuses import OrderStatus
from reconcile import start_missing_workflows
from tests.conftest import running_api
from tests.db_triggers import refused
from tests.factories import World, eventually
from workflows.messages import Actor, DecisionRequest, OrderState, workflow_id_for
from workflows.order import OrderWorkflow


async def workflow_state(client: Client, order_no: str) -> OrderState:
    state: OrderState = await client.get_workflow_handle(workflow_id_for(order_no)).query(
        OrderWorkflow.state
    )
    return state


async def test_a_step_the_database_refuses_holds_the_order_for_ops_who_resume_it(
    world: World, temporal_client: Client
) -> None:
    sku = await world.add_product(price=Decimal("100.00"))
    # Validation writes each line's price: it cannot be recorded while this lasts.
    async with refused(world, "order_lines", f"NEW.sku = '{sku}'", on="UPDATE"):
        entered = await world.create_order(lines=[{"sku": sku, "quantity": 10}])
        assert entered.status_code == 201, entered.text
        order_no = entered.json()["order_no"]
        held = await world.wait_for(order_no, "ON_HOLD")
        state = await workflow_state(temporal_client, order_no)
    reason = held["history"][-1]["reason"]
    assert reason.startswith("system fault: validate_order: DataError"), reason
    assert (held["held_from"], held["history"][-1]["actor"]) == ("CREATED", "system")
    # Temporal and PostgreSQL agree on where the order stands, and why.
    assert (state.status, state.held_from, state.fault) == (
        OrderStatus.ON_HOLD,
        OrderStatus.CREATED,
        reason,
    )
    alerts = await world.api.get(
        "/api/v1/alerts", params={"kind": "order_fault"}, headers=world["ops"].headers
    )
    assert [a["message"] for a in alerts.json()["data"] if a["order_no"] == order_no] == [
        f"{order_no}: {reason}"
    ]
    inbox = await world.api.get("/api/v1/notifications", headers=world["ops"].headers)
    told = [n for n in inbox.json()["data"] if n["order_no"] == order_no]
    assert [n["event"] for n in told] == ["order_fault"]

    # Once the cause is gone (the block above has ended), ops resume and the step runs again.
    resumed = await world.act(order_no, "resume", as_="ops", json_body={"reason": "price fixed"})
    assert resumed.status_code == 200, resumed.text
    order = await world.wait_for(order_no, "UNDER_REVIEW")
    assert order["total"] == "1000.00"
    assert (await workflow_state(temporal_client, order_no)).fault is None


async def test_a_faulty_order_may_be_cancelled_by_ops(world: World) -> None:
    sku = await world.add_product(price=Decimal("100.00"))
    # Validation writes each line's price: it cannot be recorded while this lasts.
    async with refused(world, "order_lines", f"NEW.sku = '{sku}'", on="UPDATE"):
        order_no = await world.new_order(lines=[{"sku": sku, "quantity": 10}])
        await world.wait_for(order_no, "ON_HOLD")
    cancelled = await world.act(order_no, "cancel", as_="ops", json_body={"reason": "bad price"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"


async def test_a_decision_the_database_refuses_is_answered_and_changes_nothing(
    world: World, temporal_client: Client
) -> None:
    """Sent past the API's own checks (as another client might), a comment PostgreSQL cannot
    store fails the update, and neither the workflow nor PostgreSQL moved."""
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    handle = temporal_client.get_workflow_handle(workflow_id_for(order_no))
    hostile = DecisionRequest(
        Actor(world["sup"].username, ["supervisor"]), "reject", "no\x00thanks"
    )
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(OrderWorkflow.decide, hostile)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "Invalid"
    assert "could not be recorded" in cause.message

    state = await workflow_state(temporal_client, order_no)
    assert (state.status, state.levels[0].status, state.levels[0].decisions) == (
        OrderStatus.UNDER_REVIEW,
        "pending",
        [],
    )
    assert await world.rows_for(Decision, order_no) == 0
    assert (await world.order(order_no))["status"] == "UNDER_REVIEW"
    decided = await world.decide(order_no, as_="sup")
    assert decided.status_code == 200, decided.text


async def test_tracking_events_are_taken_only_once_the_goods_are_handed_over(
    world: World,
) -> None:
    sku = await world.add_product(stock=50)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 5}])
    await world.approve_levels(order_no, ["sup"])
    order = await world.wait_for(order_no, "AWAITING_SHIPMENT")
    tracking_no = order["shipment"]["tracking_no"]

    early = await world.carrier_event(tracking_no, "delivered")
    assert early.status_code == 409, early.text
    assert early.json()["error"] == "Conflict"
    order = await world.order(order_no)
    assert (order["status"], order["shipment"]["status"], order["shipment"]["events"]) == (
        "AWAITING_SHIPMENT",
        "booked",
        [],
    )

    shipped = await world.act(order_no, "dispatch", as_="log")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["shipment"]["shipped_at"] is not None
    delivered = await world.carrier_event(tracking_no, "delivered")
    assert delivered.status_code == 202, delivered.text
    order = await world.wait_for(order_no, "DELIVERED")
    assert [(h["from_status"], h["to_status"]) for h in order["history"]][-2:] == [
        ("AWAITING_SHIPMENT", "SHIPPED"),
        ("SHIPPED", "DELIVERED"),
    ]


async def validated(world: World, order_no: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        return await world.order(order_no)

    return await eventually(read, lambda order: order["status"] != "CREATED")


async def test_orders_of_one_customer_cannot_pass_on_the_same_credit(world: World) -> None:
    """Four orders of 1,000 at once against a credit of 1,500: validations take turns, and
    each counts the orders that passed before it, so exactly one passes."""
    customer_id = await world.add_customer(credit_limit="1500")
    entered = await asyncio.gather(
        *(world.create_order(10, customer_id=customer_id) for _ in range(4))
    )
    assert all(r.status_code == 201 for r in entered), [r.text for r in entered]
    finals = [await validated(world, r.json()["order_no"]) for r in entered]
    statuses = sorted(order["status"] for order in finals)
    assert statuses == ["REJECTED", "REJECTED", "REJECTED", "UNDER_REVIEW"], statuses
    for order in finals:
        if order["status"] == "REJECTED":
            assert any("available credit" in r for r in order["rejection_reasons"])


async def test_an_entered_order_whose_workflow_did_not_start_is_started_by_the_reconciler(
    world: World, settings: Settings, temporal_client: Client
) -> None:
    """Temporal stops between the two steps of entering an order: the entry is kept (201,
    CREATED) and the reconciler starts its workflow once Temporal answers."""
    cli = ensure_temporal_cli()
    doomed = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(cli) if cli else None, dev_server_log_level="error"
    )
    gone = doomed.client
    await doomed.shutdown()
    async with running_api(settings, gone) as api_without_temporal:
        entered = await world.create_order(api=api_without_temporal)
    assert entered.status_code == 201, entered.text
    order = entered.json()
    assert order["status"] == "CREATED"

    looked_at = await start_missing_workflows(
        world.sessions, temporal_client, settings, older_than=timedelta(0)
    )
    assert order["order_no"] in looked_at
    await world.wait_for(order["order_no"], "UNDER_REVIEW")


async def test_an_idempotency_key_reused_for_another_order_is_refused(world: World) -> None:
    key = f"key-{uuid.uuid4().hex[:8]}"
    first = await world.create_order(10, idempotency_key=key)
    assert first.status_code == 201, first.text
    again = await world.create_order(10, idempotency_key=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["order_no"] == first.json()["order_no"]

    other = await world.create_order(11, idempotency_key=key)
    assert other.status_code == 422, other.text
    assert other.json()["error"] == "ValidationError"
    assert first.json()["order_no"] in other.json()["detail"]
    assert len(await world.order_nos(world.customer_id)) == 1


async def test_a_call_on_an_order_answers_within_its_bound(world: World, api_with: Any) -> None:
    """No worker polls this order's queue: the API answers 503 with Retry-After in time."""
    queue = f"orders-nobody-{uuid.uuid4().hex[:8]}"
    async with api_with(
        task_queue=queue,
        entry_wait=timedelta(seconds=0.5),
        update_wait=timedelta(seconds=1),
    ) as idle_api:
        order_no = (await world.create_order(api=idle_api)).json()["order_no"]
        started = time.monotonic()
        held = await idle_api.post(
            f"/api/v1/orders/{order_no}/hold",
            json={"reason": "stock count"},
            headers=world["ops"].headers,
        )
        took = time.monotonic() - started
    assert held.status_code == 503, held.text
    assert held.json()["error"] == "Unavailable"
    assert int(held.headers["Retry-After"]) >= 1
    assert took < 5
    async with world.sessions() as session:
        order = (await session.scalars(select(Order).where(Order.order_no == order_no))).one()
    assert order.status == "CREATED"
    assert await world.rows_for(Alert, order_no) == 0


async def test_a_workflow_catching_up_with_postgresql_answers_503_not_a_false_conflict(
    world: World, temporal_client: Client
) -> None:
    """A worker that died after a write committed leaves PostgreSQL a step ahead of the
    workflow until another worker replays the write. A request that fits what PostgreSQL shows
    is then not refused as a conflict: it answers 503 to try again, and changes nothing."""
    order_no, _ = await world.shipped_order()
    # PostgreSQL shows the delivery the workflow has not taken in yet.
    async with world.sessions.begin() as session:
        await session.execute(
            update(Order).where(Order.order_no == order_no).values(status="DELIVERED")
        )
    catching_up = await world.act(order_no, "confirm-delivery", as_="customer")
    assert catching_up.status_code == 503, catching_up.text
    assert catching_up.headers["Retry-After"]
    assert "catching up from SHIPPED" in catching_up.json()["detail"]
    assert (await workflow_state(temporal_client, order_no)).status == OrderStatus.SHIPPED

    # Once both show the same status, a request that does not fit it is a true conflict.
    async with world.sessions.begin() as session:
        await session.execute(
            update(Order).where(Order.order_no == order_no).values(status="SHIPPED")
        )
    conflict = await world.act(order_no, "confirm-delivery", as_="customer")
    assert conflict.status_code == 409, conflict.text


async def test_a_transition_left_by_an_attempt_that_did_not_survive_is_replaced(
    world: World, temporal_client: Client
) -> None:
    """A worker that committed a transition and died before Temporal recorded the step leaves
    a row the workflow, run again, may not take (a request reached it first and it went
    another way). The workflow's own transition of that number replaces the row, and
    PostgreSQL shows where the order really stands."""
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    seq = (await workflow_state(temporal_client, order_no)).transition_seq + 1
    async with world.sessions.begin() as session:
        order = (await session.scalars(select(Order).where(Order.order_no == order_no))).one()
        session.add(
            StatusHistory(
                order_id=order.id,
                seq=seq,
                from_status="UNDER_REVIEW",
                to_status="APPROVED",
                actor="system",
                reason="left by a worker that died",
                at=datetime.now(UTC),
            )
        )
        order.status = "APPROVED"

    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": "customer call"})
    assert held.status_code == 200, held.text
    shown = held.json()
    assert (shown["status"], shown["held_from"]) == ("ON_HOLD", "UNDER_REVIEW")
    history = [(h["from_status"], h["to_status"]) for h in shown["history"]]
    assert history == [(None, "CREATED"), ("CREATED", "UNDER_REVIEW"), ("UNDER_REVIEW", "ON_HOLD")]
    async with world.sessions() as session:
        row = (
            await session.scalars(
                select(StatusHistory).where(
                    StatusHistory.order_id == order.id, StatusHistory.seq == seq
                )
            )
        ).one()
    assert (row.to_status, row.actor) == ("ON_HOLD", world["ops"].username)
