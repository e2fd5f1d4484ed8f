"""A customer asks for an amendment of its order, sales accept it (the order's next version,
made exactly as sales' own amendments are) or refuse it, and the customer may withdraw it;
approvers see the latest amendment's diff among their pending approvals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.factories import ONE_LEVEL_QTY, THREE_LEVEL_QTY, TWO_LEVEL_QTY, World, eventually
from tests.test_amendments import half_reviewed, levels, versions
from tests.test_auth import assert_error
from tests.test_pending_approvals import pending

API = "/api/v1"


async def ask(
    world: World, order_no: str, body: dict[str, Any], as_: str = "customer"
) -> httpx.Response:
    return await world.api.post(
        f"{API}/orders/{order_no}/amendment-requests", json=body, headers=world[as_].headers
    )


async def asked(world: World, order_no: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await ask(world, order_no, body)
    assert response.status_code == 201, response.text
    request: dict[str, Any] = response.json()
    return request


async def answer(
    world: World,
    order_no: str,
    request_id: int,
    action: str,
    body: dict[str, Any] | None = None,
    as_: str = "sales",
) -> httpx.Response:
    return await world.api.post(
        f"{API}/orders/{order_no}/amendment-requests/{request_id}/{action}",
        json=body if body is not None else {},
        headers=world[as_].headers,
    )


async def requests_of(world: World, order_no: str, as_: str = "sales") -> list[dict[str, Any]]:
    response = await world.api.get(
        f"{API}/orders/{order_no}/amendment-requests", headers=world[as_].headers
    )
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def told(world: World, person: str, order_no: str, event: str) -> dict[str, Any]:
    """The person's in-app notification of ``event`` about the order, once it is there."""

    async def read() -> list[dict[str, Any]]:
        response = await world.api.get(f"{API}/notifications", headers=world[person].headers)
        assert response.status_code == 200, response.text
        return [
            n for n in response.json()["data"] if n["order_no"] == order_no and n["event"] == event
        ]

    [notice] = await eventually(read, lambda found: len(found) == 1)
    return notice


async def test_sales_accept_a_request_as_the_next_version_and_approvers_see_its_diff(
    world: World,
) -> None:
    order_no = await half_reviewed(world)
    before = await world.order(order_no)
    body = {
        "reason": "our project grew",
        "change_lines": [{"line_no": 1, "quantity": THREE_LEVEL_QTY}],
    }

    request = await asked(world, order_no, body)

    assert request["status"] == "open" and request["changes"] == body
    assert request["requested_by"] == world["customer"].username
    assert request["version"] is None and request["decided_by"] is None
    # Asking changes nothing on the order; sales hear of it.
    unchanged = await world.order(order_no)
    assert unchanged["version"] == 1 and unchanged["lines"] == before["lines"]
    assert unchanged["review"] == before["review"]
    notice = await told(world, "sales", order_no, "amendment_requested")
    assert f"#{request['id']}" in notice["subject"] and "our project grew" in notice["body"]
    assert [r["status"] for r in await requests_of(world, order_no, as_="customer")] == ["open"]

    accepted = await answer(
        world, order_no, request["id"], "accept", {"reason": "agreed on the phone"}
    )

    assert accepted.status_code == 200, accepted.text
    decision = accepted.json()
    assert decision["status"] == "accepted" and decision["version"] == 2
    assert decision["decided_by"] == world["sales"].username
    order = await world.order(order_no)
    assert order["version"] == 2 and order["lines"][0]["quantity"] == THREE_LEVEL_QTY
    # A larger total re-opens the review, exactly as sales' own amendment would.
    assert levels(order) == [
        ("supervisor", "pending", 2),
        ("manager", "waiting", 2),
        ("director", "waiting", 1),
    ]
    [_, amended] = await versions(world, order_no)
    diff = [{"field": "lines[1].quantity", "before": TWO_LEVEL_QTY, "after": THREE_LEVEL_QTY}]
    assert amended["changes"] == diff
    assert amended["amended_by"] == world["sales"].username
    customer = world["customer"].username
    assert amended["reason"] == (
        f"amendment request #{request['id']} from {customer}: our project grew; "
        "accepted: agreed on the phone"
    )
    customer_notice = await told(world, "customer", order_no, "amendment_accepted")
    assert "version 2" in customer_notice["subject"]

    # The supervisor who approved the smaller order sees it again, with what changed.
    [item] = await pending(world, "sup")
    assert item["order_no"] == order_no and item["level"]["level"] == 1
    latest = item["latest_amendment"]
    assert latest["version"] == 2 and latest["changes"] == diff
    assert latest["amended_by"] == world["sales"].username
    assert latest["reason"] == amended["reason"]

    # Closed: a second accept or a refusal is refused, and makes no version.
    again = await answer(world, order_no, request["id"], "accept")
    assert "accepted already" in assert_error(again, 409, "Conflict")["detail"]
    refused = await answer(world, order_no, request["id"], "refuse", {"reason": "late"})
    assert_error(refused, 409, "Conflict")
    assert len(await versions(world, order_no)) == 2


async def test_two_accepts_at_once_make_one_version(world: World) -> None:
    order_no = await half_reviewed(world)
    request = await asked(
        world,
        order_no,
        {"reason": "two more", "change_lines": [{"line_no": 1, "quantity": TWO_LEVEL_QTY + 2}]},
    )

    first, second = await asyncio.gather(
        answer(world, order_no, request["id"], "accept"),
        answer(world, order_no, request["id"], "accept"),
    )

    assert sorted([first.status_code, second.status_code]) == [200, 409], (
        first.text,
        second.text,
    )
    assert [v["version"] for v in await versions(world, order_no)] == [1, 2]
    [closed] = await requests_of(world, order_no)
    assert closed["status"] == "accepted" and closed["version"] == 2


async def test_sales_refuse_a_request_and_the_customer_is_told_why(world: World) -> None:
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")
    request = await asked(world, order_no, {"reason": "new site", "notes": "Deliver to dock 9."})

    no_reason = await answer(world, order_no, request["id"], "refuse")
    assert no_reason.status_code == 422 and "reason" in no_reason.text
    refused = await answer(
        world, order_no, request["id"], "refuse", {"reason": "dock 9 takes no trucks"}
    )

    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "refused"
    assert refused.json()["decision_reason"] == "dock 9 takes no trucks"
    notice = await told(world, "customer", order_no, "amendment_refused")
    assert "dock 9 takes no trucks" in notice["body"]
    order = await world.order(order_no)
    assert order["version"] == 1 and order["notes"] is None
    # The customer reads the answer; who in sales gave it stays inside the company.
    [seen] = await requests_of(world, order_no, as_="customer")
    assert seen["status"] == "refused" and seen["decided_by"] is None
    [staff_view] = await requests_of(world, order_no)
    assert staff_view["decided_by"] == world["sales"].username
    late = await answer(world, order_no, request["id"], "accept")
    assert_error(late, 409, "Conflict")
    assert (await world.order(order_no))["version"] == 1
    audit = await world.api.get(
        f"{API}/audit",
        params={"order_no": order_no, "kind": "amendment_request"},
        headers=world["ops"].headers,
    )
    assert audit.status_code == 200, audit.text
    trail = [(e["actor"], e["payload"]["status"]) for e in audit.json()["data"]]
    assert sorted(trail) == sorted(
        [(world["customer"].username, "open"), (world["sales"].username, "refused")]
    )


async def test_a_request_the_order_refuses_stays_open(world: World) -> None:
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")
    no_line = await asked(
        world, order_no, {"reason": "more", "change_lines": [{"line_no": 9, "quantity": 2}]}
    )
    notes = await asked(world, order_no, {"reason": "new site", "notes": "Dock 4."})

    invalid = await answer(world, order_no, no_line["id"], "accept")

    assert "no line 9" in assert_error(invalid, 422, "ValidationError")["detail"]
    await world.approve_levels(order_no, ["sup"])
    accepted = await answer(world, order_no, notes["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert [r["status"] for r in await requests_of(world, order_no)] == ["open", "accepted"]
    assert len(await versions(world, order_no)) == 2
    refused = await answer(world, order_no, no_line["id"], "refuse", {"reason": "no such line"})
    assert refused.status_code == 200, refused.text


async def test_a_request_overtaken_by_the_dispatch_stays_open(world: World) -> None:
    sku = await world.add_product(stock=10)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 2}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    request = await asked(world, order_no, {"reason": "new site", "notes": "Dock 4."})
    dispatched = await world.act(order_no, "dispatch", as_="log")
    assert dispatched.status_code == 200, dispatched.text

    late = await answer(world, order_no, request["id"], "accept")

    assert "SHIPPED" in assert_error(late, 409, "Conflict")["detail"]
    assert [r["status"] for r in await requests_of(world, order_no)] == ["open"]
    assert len(await versions(world, order_no)) == 1
    # An order past amending takes no new requests.
    closed = await ask(world, order_no, {"reason": "more", "notes": "x"})
    assert "SHIPPED" in assert_error(closed, 409, "Conflict")["detail"]


async def test_only_the_orders_customer_asks_and_withdraws(world: World) -> None:
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")
    body = {"reason": "new site", "notes": "Dock 4."}

    for_another = await ask(world, order_no, body, as_="stranger")
    assert_error(for_another, 404, "NotFound")
    by_sales = await ask(world, order_no, body, as_="sales")
    assert_error(by_sales, 403, "Forbidden")
    request = await asked(world, order_no, body)
    hidden = await world.api.get(
        f"{API}/orders/{order_no}/amendment-requests", headers=world["stranger"].headers
    )
    assert_error(hidden, 404, "NotFound")
    not_theirs = await answer(world, order_no, request["id"], "withdraw", as_="stranger")
    assert_error(not_theirs, 404, "NotFound")
    not_by_customer = await answer(world, order_no, request["id"], "accept", as_="customer")
    assert_error(not_by_customer, 403, "Forbidden")
    unknown = await answer(world, order_no, request["id"] + 10**6, "refuse", {"reason": "x"})
    assert_error(unknown, 404, "NotFound")

    withdrawn = await answer(
        world, order_no, request["id"], "withdraw", {"reason": "solved it"}, as_="customer"
    )

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["decided_by"] == world["customer"].username
    twice = await answer(world, order_no, request["id"], "withdraw", as_="customer")
    assert_error(twice, 409, "Conflict")
    accepted = await answer(world, order_no, request["id"], "accept")
    assert_error(accepted, 409, "Conflict")
    # A handful open at once, no more.
    for number in range(5):
        await asked(world, order_no, {"reason": f"idea {number}", "notes": f"note {number}"})
    too_many = await ask(world, order_no, body)
    assert "5 open amendment requests" in assert_error(too_many, 409, "Conflict")["detail"]
    assert (await world.order(order_no))["version"] == 1


async def test_hostile_requests_are_refused_and_store_nothing(world: World) -> None:
    order_no = await world.new_order(ONE_LEVEL_QTY)
    await world.wait_for(order_no, "UNDER_REVIEW")
    bodies: list[tuple[dict[str, Any], str]] = [
        ({"reason": "a\x00b", "notes": "x"}, "reason"),
        ({"reason": "x", "notes": "a\x00b"}, "notes"),
        ({"reason": "x" * 501, "notes": "x"}, "reason"),
        ({"reason": "x", "notes": "x" * 2001}, "notes"),
        ({"reason": "x", "add_lines": [{"sku": "A", "quantity": 1}] * 201}, "add_lines"),
        ({"reason": "x", "change_lines": [{"line_no": 1, "quantity": 2**40}]}, "quantity"),
        ({"reason": "x", "notes": "x", "status": "accepted"}, "status"),
        ({"reason": "x"}, "changes at least one thing"),
    ]
    for body, words in bodies:
        response = await ask(world, order_no, body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == "ValidationError" and words in response.text, body
    request = await asked(world, order_no, {"reason": "fine", "notes": "fine"})
    for action, body in [("refuse", {"reason": "a\x00b"}), ("accept", {"reason": "x" * 501})]:
        response = await answer(world, order_no, request["id"], action, body)
        assert response.status_code == 422 and response.json()["error"] == "ValidationError"
    huge_id = await answer(world, order_no, 2**31, "refuse", {"reason": "x"})
    assert huge_id.status_code == 422 and "request_id" in huge_id.text
    [only] = await requests_of(world, order_no)
    assert only["id"] == request["id"] and only["status"] == "open"
