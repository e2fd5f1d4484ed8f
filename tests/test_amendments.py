"""Amending an order under review: each kind of change re-opens exactly the levels whose
decisions no longer cover it, every amendment is a version with its field-level diff (also in
the audit chain), and a refused amendment changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.factories import ONE_LEVEL_QTY, THREE_LEVEL_QTY, TWO_LEVEL_QTY, World
from tests.test_auth import assert_error
from tests.test_policy import put_policy, with_rule  # noqa: F401 (a fixture)

PutPolicy = Callable[[dict[str, Any]], Awaitable[int]]


async def amend(
    world: World, order_no: str, body: dict[str, Any], as_: str = "sales"
) -> httpx.Response:
    return await world.api.post(
        f"/api/v1/orders/{order_no}/amendments", json=body, headers=world[as_].headers
    )


async def versions(world: World, order_no: str, as_: str = "ops") -> list[dict[str, Any]]:
    response = await world.api.get(
        f"/api/v1/orders/{order_no}/versions", headers=world[as_].headers
    )
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def levels(order: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Each level as (role, status, opening)."""
    return [(lv["role"], lv["status"], lv["opening"]) for lv in order["review"]["levels"]]


async def half_reviewed(world: World, quantity: int = TWO_LEVEL_QTY) -> str:
    """A two-level order whose supervisor approved: the manager's level is pending."""
    order_no = await world.new_order(quantity)
    await world.wait_for(order_no, "UNDER_REVIEW")
    approved = await world.decide(order_no, as_="sup")
    assert approved.status_code == 200, approved.text
    return order_no


async def test_a_change_within_its_band_keeps_the_review_and_is_a_version(world: World) -> None:
    order_no = await half_reviewed(world)

    response = await amend(
        world,
        order_no,
        {"reason": "two more", "change_lines": [{"line_no": 1, "quantity": TWO_LEVEL_QTY + 2}]},
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] == "UNDER_REVIEW" and order["version"] == 2
    assert order["lines"][0]["quantity"] == TWO_LEVEL_QTY + 2
    assert levels(order) == [("supervisor", "approved", 1), ("manager", "pending", 1)]
    [entered, amended] = await versions(world, order_no)
    assert (entered["version"], amended["version"]) == (1, 2)
    assert amended["amended_by"] == world["sales"].username and amended["reason"] == "two more"
    assert amended["changes"] == [
        {"field": "lines[1].quantity", "before": TWO_LEVEL_QTY, "after": TWO_LEVEL_QTY + 2}
    ]
    assert amended["total"] == order["total"] != entered["total"]
    audit = await world.api.get(
        "/api/v1/audit", params={"order_no": order_no}, headers=world["ops"].headers
    )
    assert audit.status_code == 200, audit.text
    [row] = [e for e in audit.json()["data"] if e["kind"] == "amendment"]
    assert row["payload"]["changes"] == amended["changes"]
    # The manager decides the amended order as it stands.
    decided = await world.decide(order_no, as_="mgr")
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] in ("APPROVED", "IN_PRODUCTION", "AWAITING_SHIPMENT")


async def test_raising_the_total_past_its_band_reopens_the_review(world: World) -> None:
    order_no = await half_reviewed(world)

    response = await amend(
        world,
        order_no,
        {"reason": "framework deal", "change_lines": [{"line_no": 1, "quantity": THREE_LEVEL_QTY}]},
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert levels(order) == [
        ("supervisor", "pending", 2),
        ("manager", "waiting", 2),
        ("director", "waiting", 1),
    ]
    first = order["review"]["levels"][0]
    assert first["decisions"] == []
    # The approval set aside stays on the record, with the opening it was for.
    [earlier] = first["set_aside_decisions"]
    assert (earlier["by"], earlier["opening"], earlier["set_aside_by_version"]) == (
        world["sup"].username,
        1,
        2,
    )
    # The supervisor who approved the smaller order decides the larger one again.
    for approver in ("sup", "mgr", "dir"):
        decided = await world.decide(order_no, as_=approver)
        assert decided.status_code == 200, decided.text
    order = await world.order(order_no)
    assert order["status"] != "UNDER_REVIEW"
    assert [lv["status"] for lv in order["review"]["levels"]] == ["approved"] * 3


async def test_lowering_the_total_drops_the_level_and_approves(world: World) -> None:
    order_no = await half_reviewed(world)

    response = await amend(
        world,
        order_no,
        {"reason": "trial run first", "change_lines": [{"line_no": 1, "quantity": ONE_LEVEL_QTY}]},
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert order["status"] in ("APPROVED", "IN_PRODUCTION", "AWAITING_SHIPMENT")
    assert levels(order) == [("supervisor", "approved", 1), ("manager", "dropped", 1)]
    reasons = [h["reason"] for h in order["history"] if h["to_status"] == "APPROVED"]
    assert reasons == ["amendment 1 (version 2): every level's approval covers it"]


async def test_a_category_with_its_own_level_opens_exactly_that_level(
    world: World,
    put_policy: PutPolicy,  # noqa: F811
) -> None:
    category = f"cat-amend-{world.tag}"
    special = await world.add_product(category=category)
    await put_policy(
        with_rule(
            {
                "name": f"special {world.tag}",
                "when": {"categories": [category]},
                "levels": [{"role": "supervisor"}, {"role": "finance"}],
            }
        )
    )
    order_no = await half_reviewed(world)

    response = await amend(
        world, order_no, {"reason": "add a special", "add_lines": [{"sku": special, "quantity": 1}]}
    )

    assert response.status_code == 200, response.text
    order = response.json()
    assert order["review"]["policy_rule"] == f"special {world.tag}"
    assert levels(order) == [("supervisor", "approved", 1), ("finance", "pending", 2)]
    [_, amended] = await versions(world, order_no)
    assert [lv["keeps_decisions"] for lv in amended["review"]["levels"]] == [True, False]
    decided = await world.decide(order_no, as_="fin")
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] != "UNDER_REVIEW"


async def test_a_raised_discount_opens_the_level_its_rule_adds(
    world: World,
    put_policy: PutPolicy,  # noqa: F811
) -> None:
    await put_policy(
        with_rule(
            {
                "name": f"discount {world.tag}",
                "when": {"discount_min": "30"},
                "levels": [{"role": "supervisor"}, {"role": "finance"}],
            }
        )
    )
    order_no = await half_reviewed(world)
    price = (await world.order(order_no))["lines"][0]["unit_price"]
    cut = f"{float(price) * 0.6:.2f}"

    response = await amend(
        world,
        order_no,
        {
            "reason": "volume discount",
            "change_lines": [{"line_no": 1, "quantity": TWO_LEVEL_QTY, "unit_price": cut}],
        },
    )

    assert response.status_code == 200, response.text
    assert levels(response.json()) == [("supervisor", "approved", 1), ("finance", "pending", 2)]


async def test_refused_amendments_change_nothing(world: World) -> None:
    order_no = await half_reviewed(world)
    before = await world.order(order_no)
    price = before["lines"][0]["unit_price"]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"reason": "x", "change_lines": [{"line_no": 9, "quantity": 1}]}, 422, "no line 9"),
        ({"reason": "x", "add_lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}, 422, "not sold"),
        (
            {
                "reason": "x",
                "change_lines": [
                    {"line_no": 1, "quantity": 1, "unit_price": f"{float(price) + 1:.2f}"}
                ],
            },
            422,
            "above the price list",
        ),
        ({"reason": "x", "remove_lines": [1]}, 422, "at least one line"),
        ({"reason": "x", "change_lines": [{"line_no": 1, "quantity": 10**6}]}, 422, "credit"),
    ]
    for body, status, words in cases:
        response = await amend(world, order_no, body)
        error = assert_error(response, status, "ValidationError")
        assert words in error["detail"], (body, error)
    # Bodies the schema refuses: each problem listed where it is.
    malformed: list[tuple[dict[str, Any], str]] = [
        ({"reason": "x"}, "changes at least one thing"),
        ({"reason": "x", "notes": "a\x00b"}, "notes"),
        ({"change_lines": [{"line_no": 1, "quantity": 5}]}, "reason"),
        (
            {"reason": "x", "change_lines": [{"line_no": 1, "quantity": 5}], "remove_lines": [1]},
            "at most once",
        ),
        ({"reason": "x", "change_lines": [{"line_no": 1, "quantity": 0}]}, "quantity"),
    ]
    for body, words in malformed:
        response = await amend(world, order_no, body)
        assert response.status_code == 422 and response.json()["error"] == "ValidationError"
        assert words in response.text, (body, response.text)
    forbidden = await amend(world, order_no, {"reason": "x", "notes": "n"}, as_="sup")
    assert_error(forbidden, 403, "Forbidden")
    after = await world.order(order_no)
    assert after["version"] == 1 and after["lines"] == before["lines"]
    assert after["review"] == before["review"]
    assert len(await versions(world, order_no)) == 1


async def test_a_dispatched_order_is_not_amended(world: World) -> None:
    order_no, _ = await world.shipped_order()

    response = await amend(world, order_no, {"reason": "late", "notes": "too late"})

    error = assert_error(response, 409, "Conflict")
    assert "SHIPPED" in error["detail"]
    assert (await world.order(order_no))["version"] == 1
