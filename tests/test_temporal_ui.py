"""What ops see of orders in the Temporal UI: the README's ready queries, run as they are
written against real orders; the summary; the search attributes kept current; and the
retention of a namespace that the project's own start-up prepared."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client, WorkflowExecutionDescription, WorkflowExecutionStatus

from db.models import Customer
from devstack.temporal_cli import ensure_temporal_cli
from devstack.temporal_server import (
    SEARCH_ATTRIBUTES,
    apply_retention,
    configured_retention,
    dev_server_command,
    wait_for_temporal,
)
from tests.db_triggers import refused
from tests.factories import THREE_LEVEL_QTY, World, eventually
from tests.mail import free_port
from workflows import search_attributes as sa
from workflows.messages import workflow_id_for

README = Path(__file__).parents[1] / "README.md"

ESCALATED = "Escalated orders under review"
WAITING_LONG = "Orders waiting on a role for more than N hours"
LARGE = "Orders of 100,000 CNY or more under review"
FAULT = "Orders held by a system fault"
OPS = "Everything waiting on ops"
CLOSED_BADLY = "Rejected and cancelled orders"


def readme_queries() -> dict[str, str]:
    """The ready queries of the README's "Temporal UI" section, by the start of their label."""
    text = README.read_text()
    section = text[text.index("\n## Temporal UI\n") :]
    section = section[: section.index("\n## ", 1)]
    found = re.findall(r"^- ([^\n`]+):\n  `([^`]+)`$", section, flags=re.MULTILINE)
    return {label: query for label, query in found}


def query(label: str) -> str:
    matches = [q for name, q in readme_queries().items() if name.startswith(label)]
    assert len(matches) == 1, f"the README lists no single query {label!r}: {readme_queries()}"
    return matches[0]


async def customer_of(world: World) -> Customer:
    async with world.sessions() as session:
        customer = await session.get(Customer, world.customer_id)
        assert customer is not None
        return customer


async def found(client: Client, text: str, code: str) -> set[str]:
    """The orders of this test's customer the query finds, as the UI's list would show them."""
    scoped = f'{text} AND CustomerCode = "{code}"'
    ids = {wf.id async for wf in client.list_workflows(scoped)}
    count = (await client.count_workflows(scoped)).count
    assert count == len(ids), (scoped, count, ids)
    return ids


async def finds(client: Client, text: str, code: str, orders: set[str]) -> None:
    """The query finds exactly ``orders`` (order numbers) once visibility caught up."""
    expected = {workflow_id_for(order_no) for order_no in orders}
    await eventually(lambda: found(client, text, code), lambda ids: ids == expected)


async def describe(client: Client, order_no: str) -> WorkflowExecutionDescription:
    return await client.get_workflow_handle(workflow_id_for(order_no)).describe()


def attribute(described: WorkflowExecutionDescription, key: Any) -> Any:
    return described.typed_search_attributes.get(key)


def at_time(text: str, moment: datetime) -> str:
    """The query with its timestamp replaced by ``moment`` (UTC, as the README says)."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    replaced, count = re.subn(r'"\d{4}-\d\d-\d\dT[\d:.]+Z"', f'"{stamp}"', text)
    assert count == 1, text
    return replaced


async def test_escalated_and_long_waiting_orders_are_found_by_the_readme_queries(
    world: World, api_with: Any, temporal_client: Client
) -> None:
    code = (await customer_of(world)).code
    async with api_with(
        remind_after=timedelta(seconds=1), escalate_after=timedelta(seconds=2)
    ) as fast_api:
        escalated = await world.new_order(api=fast_api)
    waiting = await world.new_order()
    # The supervisor's level escalates to the manager, who the order then waits on.
    await finds(temporal_client, query(ESCALATED), code, {escalated})
    described = await describe(temporal_client, escalated)
    assert attribute(described, sa.WAITING_ON) == "manager"
    assert attribute(described, sa.ESCALATED) is True
    assert attribute(await describe(temporal_client, waiting), sa.WAITING_ON) == "supervisor"

    # Waiting on the manager since before a fixed time: found when that time is just after
    # the wait began, not when it is just before.
    since: datetime = attribute(described, sa.STATUS_SINCE)
    waiting_long = query(WAITING_LONG)
    assert 'WaitingOn = "manager"' in waiting_long
    after, before = since + timedelta(seconds=1), since - timedelta(seconds=1)
    await finds(temporal_client, at_time(waiting_long, after), code, {escalated})
    await finds(temporal_client, at_time(waiting_long, before), code, set())
    on_supervisor = waiting_long.replace('"manager"', '"supervisor"')
    await finds(
        temporal_client, at_time(on_supervisor, datetime.now(since.tzinfo)), code, {waiting}
    )


async def test_large_orders_under_review_are_found_and_follow_their_levels(
    world: World, temporal_client: Client
) -> None:
    customer = await customer_of(world)
    large = await world.new_order(THREE_LEVEL_QTY)
    small = await world.new_order()
    await world.wait_for(large, "UNDER_REVIEW")
    await world.wait_for(small, "UNDER_REVIEW")
    await finds(temporal_client, query(LARGE), customer.code, {large})

    first = await describe(temporal_client, large)
    assert attribute(first, sa.WAITING_ON) == "supervisor"
    assert attribute(first, sa.ORDER_TOTAL) == 150000.0
    # The summary names the order, its customer and creator; entered without prices, the
    # order was priced after its start, and its total shows in the details.
    summary = await first.static_summary()
    assert summary == (
        f"{large} · {customer.code} {customer.name} · total priced at validation · "
        f"1 line(s) · entered by {world['sales'].username}"
    )
    details = (
        await temporal_client.get_workflow_handle(workflow_id_for(large)).query(
            "__temporal_workflow_metadata"
        )
    ).current_details
    assert "- **Total:** 150,000.00" in details.splitlines()
    # Entered with its prices, the order's total is in its summary from the start.
    priced = await world.new_order(lines=[{"sku": world.sku, "quantity": 3, "unit_price": "99.50"}])
    priced_summary = await (await describe(temporal_client, priced)).static_summary()
    assert priced_summary is not None and " · total 298.50 CNY · " in priced_summary

    # Level 1 approved: the order waits on the manager, since level 2 opened.
    await world.approve_levels(large, ["sup"])
    second = await describe(temporal_client, large)
    assert attribute(second, sa.REVIEW_LEVEL) == 2
    assert attribute(second, sa.WAITING_ON) == "manager"
    assert attribute(second, sa.STATUS_SINCE) > attribute(first, sa.STATUS_SINCE)
    # Still in review and still large: the query keeps finding it.
    await finds(temporal_client, query(LARGE), customer.code, {large})


async def test_orders_held_by_a_fault_are_told_apart_from_other_holds(
    world: World, temporal_client: Client
) -> None:
    code = (await customer_of(world)).code
    sku = await world.add_product(price=Decimal("100.00"))
    held = await world.new_order()
    await world.wait_for(held, "UNDER_REVIEW")
    hold = await world.act(held, "hold", as_="ops", json_body={"reason": "customer called"})
    assert hold.status_code == 200, hold.text
    # Validation cannot write the line's price while this lasts: the order holds for ops.
    async with refused(world, "order_lines", f"NEW.sku = '{sku}'", on="UPDATE"):
        faulty = await world.new_order(lines=[{"sku": sku, "quantity": 10}])
        await world.wait_for(faulty, "ON_HOLD")

    await finds(temporal_client, query(FAULT), code, {faulty})
    await finds(temporal_client, query(OPS), code, {faulty, held})
    details = (
        await temporal_client.get_workflow_handle(workflow_id_for(faulty)).query(
            "__temporal_workflow_metadata"
        )
    ).current_details
    assert "- **Held by:** system fault: validate_order" in details

    # Resumed, the step runs again and the order leaves ops' queue.
    resumed = await world.act(faulty, "resume", as_="ops", json_body={"reason": "fixed"})
    assert resumed.status_code == 200, resumed.text
    await world.wait_for(faulty, "UNDER_REVIEW")
    await finds(temporal_client, query(FAULT), code, set())
    await finds(temporal_client, query(OPS), code, {held})
    assert attribute(await describe(temporal_client, faulty), sa.WAITING_ON) == "supervisor"


async def test_rejected_and_cancelled_orders_are_found_by_their_order_status(
    world: World, temporal_client: Client
) -> None:
    code = (await customer_of(world)).code
    rejected, cancelled, open_ = [await world.new_order() for _ in range(3)]
    await world.wait_for(rejected, "UNDER_REVIEW")
    refusal = await world.decide(rejected, as_="sup", decision="reject", comment="no budget")
    assert refusal.status_code == 200, refusal.text
    cancel = await world.act(cancelled, "cancel", as_="sales", json_body={"reason": "dropped"})
    assert cancel.status_code == 200, cancel.text

    await finds(temporal_client, query(CLOSED_BADLY), code, {rejected, cancelled})
    for order_no, outcome in ((rejected, "REJECTED"), (cancelled, "CANCELLED")):
        described = await describe(temporal_client, order_no)
        # Temporal's execution status says the workflow ended normally; OrderStatus and the
        # workflow's result say how.
        assert described.status == WorkflowExecutionStatus.COMPLETED
        assert attribute(described, sa.ORDER_STATUS) == outcome
        assert await temporal_client.get_workflow_handle(described.id).result() == outcome
        assert attribute(described, sa.WAITING_ON) is None
    assert attribute(await describe(temporal_client, open_), sa.WAITING_ON) == "supervisor"


async def test_a_dev_server_started_as_make_run_starts_it_keeps_closed_orders_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEMPORAL_RETENTION", raising=False)
    assert configured_retention() == timedelta(days=30)
    monkeypatch.setenv("TEMPORAL_RETENTION", "45d")
    retention = configured_retention()
    assert retention == timedelta(days=45)

    cli = ensure_temporal_cli()
    if cli is None:
        pytest.skip("no Temporal CLI to start a dev server with")
    port = free_port()
    argv = dev_server_command(cli, port=port, ui_port=None, db_filename=None, log_level="error")
    server = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    address = f"127.0.0.1:{port}"
    try:
        await wait_for_temporal(address, "default", process=server)
        await apply_retention(address, "default", retention)
        client = await Client.connect(address)
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace="default")
        )
        kept = described.config.workflow_execution_retention_ttl.ToTimedelta()
        assert kept == timedelta(days=45)
        # The same start registered every search attribute the orders keep.
        every_attribute = " AND ".join(f"{key.name} IS NULL" for key in sa.ALL)
        assert [wf async for wf in client.list_workflows(every_attribute)] == []
        assert {key.name for key in sa.ALL} == set(SEARCH_ATTRIBUTES)
    finally:
        server.terminate()
        await server.wait()
