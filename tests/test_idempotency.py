"""The Idempotency-Key header: a repeated or concurrent entry yields one order and one workflow."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from temporalio.client import Client

from tests.factories import World
from workflows.messages import workflow_id_for

ORDERS = "/api/v1/orders"


async def workflow_count(temporal_client: Client, order_no: str) -> int:
    query = f'WorkflowId = "{workflow_id_for(order_no)}"'
    return len([wf async for wf in temporal_client.list_workflows(query)])


async def assert_one_order_one_workflow(
    world: World, temporal_client: Client, customer_id: int, order_no: str
) -> None:
    order = await world.wait_for(order_no, "UNDER_REVIEW")
    assert await world.order_nos(customer_id) == [order_no]
    assert [h["to_status"] for h in order["history"]].count("UNDER_REVIEW") == 1
    assert [h["to_status"] for h in order["history"]] == ["CREATED", "UNDER_REVIEW"]
    assert await workflow_count(temporal_client, order_no) == 1


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


async def test_the_same_key_again_returns_the_same_order(
    world: World, temporal_client: Client
) -> None:
    key = new_key()
    first = await world.create_order(idempotency_key=key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    order_no = first.json()["order_no"]

    second = await world.create_order(idempotency_key=key)
    assert second.status_code == 201, second.text
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json()["order_no"] == order_no
    assert second.json()["lines"] == first.json()["lines"]

    await assert_one_order_one_workflow(world, temporal_client, world.customer_id, order_no)

    # Replayed once the order has moved on, the answer shows where the order is now.
    third = await world.create_order(idempotency_key=key)
    assert third.status_code == 201, third.text
    assert third.headers.get("Idempotent-Replayed") == "true"
    assert third.json()["order_no"] == order_no
    assert third.json()["status"] == "UNDER_REVIEW"
    assert await world.order_nos(world.customer_id) == [order_no]
    assert await workflow_count(temporal_client, order_no) == 1


async def test_the_same_key_sent_concurrently_yields_one_order(
    world: World, temporal_client: Client
) -> None:
    key = new_key()
    outcomes = await asyncio.gather(
        *(world.create_order(idempotency_key=key) for _ in range(5)), return_exceptions=True
    )
    # The in-process transport re-raises what a real client would see as a 500.
    failures = [repr(o) for o in outcomes if not isinstance(o, httpx.Response)]
    assert not failures, failures
    responses = [o for o in outcomes if isinstance(o, httpx.Response)]
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    numbers = {r.json()["order_no"] for r in responses}
    assert len(numbers) == 1, numbers
    [order_no] = numbers
    replayed = [r.headers.get("Idempotent-Replayed") == "true" for r in responses]
    assert replayed.count(False) == 1, replayed

    await assert_one_order_one_workflow(world, temporal_client, world.customer_id, order_no)


async def test_a_different_key_enters_a_different_order(world: World) -> None:
    first = await world.new_order(idempotency_key=new_key())
    second = await world.new_order(idempotency_key=new_key())
    assert first != second
    await world.wait_for(first, "UNDER_REVIEW")
    await world.wait_for(second, "UNDER_REVIEW")
    assert sorted(await world.order_nos(world.customer_id)) == sorted([first, second])


async def test_keys_belong_to_the_user_who_sent_them(world: World) -> None:
    await world.add_person("sales2", ["sales"])
    key = new_key()
    mine = await world.create_order(idempotency_key=key)
    theirs = await world.create_order(idempotency_key=key, by="sales2")
    assert mine.status_code == 201, mine.text
    assert theirs.status_code == 201, theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["order_no"] != theirs.json()["order_no"]
    assert mine.json()["created_by"] == world["sales"].username
    assert theirs.json()["created_by"] == world["sales2"].username

    for response in (mine, theirs):
        await world.wait_for(response.json()["order_no"], "UNDER_REVIEW")
    assert len(await world.order_nos(world.customer_id)) == 2

    # Each user's key still replays that user's own order.
    again = await world.create_order(idempotency_key=key, by="sales2")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["order_no"] == theirs.json()["order_no"]
