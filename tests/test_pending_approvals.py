"""What waits on each approver, through the HTTP API: the levels they may decide in their own
role or through a delegation, separation of duties, and the customer's history on each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.delegation_helpers import (
    add_ended_delegation,
    delegated,
    hours_from_now,
    revoke,
    set_active,
)
from tests.factories import ONE_LEVEL_QTY, TWO_LEVEL_QTY, World
from tests.test_auth import assert_error

PENDING = "/api/v1/approvals/pending"


async def pending(world: World, person: str) -> list[dict[str, Any]]:
    """The person's pending approvals among this test's orders."""
    response = await world.api.get(
        PENDING, params={"customer_id": world.customer_id}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None
    items: list[dict[str, Any]] = body["data"]
    return items


async def pending_nos(world: World, person: str) -> list[str]:
    return [item["order_no"] for item in await pending(world, person)]


async def level_open(world: World, order_no: str, level: int, *, timeout: float = 30) -> None:
    """Wait until PostgreSQL shows the level open for decisions: the order's status and its
    review levels are written one after the other, and pending approvals read the levels."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        review = (await world.order(order_no))["review"]
        if review and review["levels"][level - 1]["status"] == "pending":
            return
        assert asyncio.get_running_loop().time() < deadline, f"{order_no} level {level} not open"
        await asyncio.sleep(0.1)


async def under_review(world: World, quantity: int = ONE_LEVEL_QTY, **kwargs: Any) -> str:
    order_no = await world.new_order(quantity, **kwargs)
    await level_open(world, order_no, 1)
    return order_no


async def approved_first_level(world: World, order_no: str, by: str) -> None:
    await world.approve_levels(order_no, [by])
    await level_open(world, order_no, 2)


async def test_pending_approvals_follow_the_level_and_who_may_decide_it(world: World) -> None:
    order_no = await under_review(world)
    for approver in ("sup", "sup2"):
        [item] = await pending(world, approver)
        assert item["order_no"] == order_no
        assert item["acting_as"] == "supervisor" and item["on_behalf_of"] is None
        assert item["customer_id"] == world.customer_id
        assert item["customer_code"].startswith("C-")
        assert item["customer_name"] == f"Customer {world.tag}"
        assert (item["total"], item["currency"]) == ("1000.00", "CNY")
        assert item["created_by"] == world["sales"].username
        level = item["level"]
        assert (level["level"], level["role"], level["escalated"]) == (1, "supervisor", False)
        assert (level["quorum"], level["approvals"]) == (1, 0)
        assert level["opened_at"] is not None
        assert item["customer_history"] == {
            "orders": 0,
            "total_spend": "0.00",
            "on_time_rate": None,
            "ratings": 0,
            "average_rating": None,
        }
    # Not a manager's level until it escalates.
    assert await pending(world, "mgr") == []
    for outsider in ("sales", "prod", "customer"):
        response = await world.api.get(PENDING, headers=world[outsider].headers)
        assert_error(response, 403, "Forbidden")


async def test_the_person_who_entered_an_order_does_not_see_it(world: World) -> None:
    await world.add_person("sales_sup", ["sales", "supervisor"])
    order_no = await under_review(world, by="sales_sup")
    assert await pending_nos(world, "sales_sup") == []
    assert await pending_nos(world, "sup") == [order_no]


async def test_after_deciding_a_level_the_order_moves_to_the_next_role(world: World) -> None:
    order_no = await under_review(world, TWO_LEVEL_QTY)
    await approved_first_level(world, order_no, "sup")
    # One person decides one level: sup is done; sup2's role is not the open level's.
    assert await pending_nos(world, "sup") == []
    assert await pending_nos(world, "sup2") == []
    [item] = await pending(world, "mgr")
    assert item["order_no"] == order_no
    assert (item["level"]["level"], item["level"]["role"]) == (2, "manager")
    assert item["acting_as"] == "manager"


async def test_a_delegate_sees_the_delegators_levels_on_their_behalf(world: World) -> None:
    await world.add_person("deputy", ["manager"])
    order_no = await under_review(world)
    assert await pending_nos(world, "deputy") == []

    await delegated(world, "sup2", "deputy")
    [item] = await pending(world, "deputy")
    assert item["order_no"] == order_no
    assert item["acting_as"] == "supervisor"
    assert item["on_behalf_of"] == world["sup2"].username
    # A manager with no delegation still waits for the level to reach managers.
    assert await pending_nos(world, "mgr") == []

    # On a manager's level the deputy decides in their own right.
    bigger = await under_review(world, TWO_LEVEL_QTY)
    await approved_first_level(world, bigger, "sup")
    mine = {i["order_no"]: i for i in await pending(world, "deputy")}
    assert (mine[bigger]["acting_as"], mine[bigger]["on_behalf_of"]) == ("manager", None)


async def test_separation_of_duties_holds_through_a_delegation(world: World) -> None:
    await world.add_person("chief", ["sales", "supervisor", "manager"])
    await world.add_person("deputy", ["director"])
    await delegated(world, "chief", "deputy")
    # The delegator entered it: the delegate may not approve it for them.
    entered_by_chief = await under_review(world, by="chief")
    # The delegator decided level 1: level 2 is not theirs to decide through a delegate.
    decided_by_chief = await under_review(world, TWO_LEVEL_QTY)
    await approved_first_level(world, decided_by_chief, "chief")
    untouched = await under_review(world)

    seen = {i["order_no"]: i for i in await pending(world, "deputy")}
    assert entered_by_chief not in seen
    assert decided_by_chief not in seen
    assert seen[untouched]["on_behalf_of"] == world["chief"].username
    # Those orders still wait on others.
    assert entered_by_chief in await pending_nos(world, "sup")
    assert decided_by_chief in await pending_nos(world, "mgr")


async def test_a_delegation_not_running_lends_nothing(world: World) -> None:
    await world.add_person("deputy", ["manager"])
    await world.add_person("future", ["manager"])
    await world.add_person("late", ["manager"])
    await world.add_person("for_leaver", ["manager"])
    await world.add_person("leaver", ["supervisor"])
    await under_review(world)

    revoked = await delegated(world, "sup", "deputy")
    assert len(await pending(world, "deputy")) == 1
    assert (await revoke(world, revoked["id"], as_="sup")).status_code == 200
    assert await pending(world, "deputy") == []

    await delegated(world, "sup2", "future", starts_at=hours_from_now(1), ends_at=hours_from_now(5))
    assert await pending(world, "future") == []

    await add_ended_delegation(world, "sup", "late")
    assert await pending(world, "late") == []

    await delegated(world, "leaver", "for_leaver")
    assert len(await pending(world, "for_leaver")) == 1
    await set_active(world, "leaver", False)
    assert await pending(world, "for_leaver") == []


async def test_pending_approvals_oldest_first(world: World) -> None:
    first = await under_review(world)
    second = await under_review(world)
    assert await pending_nos(world, "sup") == [first, second]
    items = await pending(world, "sup")
    assert items[0]["level"]["opened_at"] <= items[1]["level"]["opened_at"]


async def complete(world: World, *, carrier_exception: bool = False) -> str:
    """An order approved by sup, made, shipped, delivered and confirmed; optionally the
    carrier reports an exception on the way, which ops resolves."""
    order_no, tracking_no = await world.shipped_order()
    now = datetime.now(UTC)
    if carrier_exception:
        await world.carrier_event(tracking_no, "exception", occurred_at=now, detail="no one in")
        await world.wait_for(order_no, "ON_HOLD")
        resumed = await world.act(order_no, "resume", as_="ops", json_body={"reason": "rebooked"})
        assert resumed.status_code == 200, resumed.text
    delivered = await world.carrier_event(
        tracking_no, "delivered", occurred_at=now + timedelta(hours=1)
    )
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(order_no, "DELIVERED")
    confirmed = await world.act(order_no, "confirm-delivery", as_="sales")
    assert confirmed.status_code == 200, confirmed.text
    await world.wait_for(order_no, "COMPLETED")
    return order_no


async def test_each_pending_order_carries_the_customers_history(world: World) -> None:
    await complete(world)
    await complete(world, carrier_exception=True)
    waiting = [await under_review(world), await under_review(world)]

    items = await pending(world, "sup2")
    assert [item["order_no"] for item in items] == waiting
    for item in items:
        # Three other orders; two completed at 1000.00 each, one of them held by the carrier.
        assert item["customer_history"] == {
            "orders": 3,
            "total_spend": "2000.00",
            "on_time_rate": 0.5,
            "ratings": 0,
            "average_rating": None,
        }
