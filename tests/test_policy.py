"""The approval policy as data: versions, consistency, quorum, conditions and review clocks.

Test rules apply only to a product category of the test's own, in front of the default
amount bands, so other tests' orders keep the default review; each test restores the default.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from temporalio.client import Client

from domain.policy import default_policy
from tests.factories import World, eventually
from tests.test_auth import assert_error

POLICY = "/api/v1/approval-policy"
DEFAULT_RULES: list[dict[str, Any]] = default_policy().model_dump(mode="json", exclude_none=True)[
    "rules"
]


def with_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {"rules": [rule, *DEFAULT_RULES]}


async def product_under_rule(
    world: World,
    put_policy: Callable[[dict[str, Any]], Awaitable[int]],
    name: str,
    levels: list[dict[str, Any]],
) -> str:
    """A product in a category of the test's own, and a policy whose first rule gives orders of
    it ``levels``; every other order keeps the default review."""
    category = f"cat-{world.tag}"
    sku = await world.add_product(category=category)
    await put_policy(
        with_rule({"name": name, "when": {"categories": [category]}, "levels": levels})
    )
    return sku


@pytest.fixture
async def put_policy(world: World) -> AsyncIterator[Callable[[dict[str, Any]], Awaitable[int]]]:
    """PUT a policy as ops; the default is put back afterwards, as a new version."""

    async def put(document: dict[str, Any]) -> int:
        response = await world.api.put(POLICY, json=document, headers=world["ops"].headers)
        assert response.status_code == 200, response.text
        version: int = response.json()["version"]
        return version

    yield put
    await put({"rules": DEFAULT_RULES})


async def current_version(world: World) -> int:
    response = await world.api.get(POLICY, headers=world["sup"].headers)
    assert response.status_code == 200, response.text
    version: int = response.json()["version"]
    return version


async def inbox_events(world: World, person: str, order_no: str) -> dict[str, Any]:
    response = await world.api.get(
        "/api/v1/notifications", params={"limit": 200}, headers=world[person].headers
    )
    assert response.status_code == 200, response.text
    return {n["event"]: n for n in response.json()["data"] if n["order_no"] == order_no}


async def until_in_inbox(world: World, person: str, order_no: str, event: str) -> None:
    await eventually(lambda: inbox_events(world, person, order_no), lambda seen: event in seen)


def firings(order: dict[str, Any], level: int, kind: str) -> list[dict[str, Any]]:
    return [n for n in order["review"]["levels"][level - 1]["notices"] if n["kind"] == kind]


async def test_version_one_is_the_designs_default(world: World) -> None:
    response = await world.api.get(POLICY, params={"version": 1}, headers=world["mgr"].headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 1
    assert [[level["role"] for level in rule["levels"]] for rule in body["rules"]] == [
        ["supervisor"],
        ["supervisor", "manager"],
        ["supervisor", "manager", "director"],
    ]
    order_no = await world.new_order()
    order = await world.wait_for(order_no, "UNDER_REVIEW")
    assert order["review"]["policy_version"] == await current_version(world)
    assert order["review"]["policy_rule"] == "below 10,000"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda rules: [], "no rules"),
        (lambda rules: [{**rules[0], "levels": []}, *rules[1:]], "asks for no review level"),
        (
            lambda rules: [{**rules[0], "levels": [{"role": "janitor"}]}, *rules[1:]],
            "unknown role 'janitor'",
        ),
        (
            lambda rules: [{**rules[0], "levels": [{"role": "finance", "quorum": 0}]}, *rules[1:]],
            "quorum must be at least 1",
        ),
        (
            lambda rules: [{**rules[0], "when": {"total_below": "20000"}}, *rules[1:]],
            "overlap in total",
        ),
        (lambda rules: rules[1:], "no rule covers totals from 0 to 10000"),
        (lambda rules: rules[:2], "no rule covers totals of 100000 and more"),
        (
            lambda rules: [
                {
                    **rules[0],
                    "levels": [
                        {"role": "supervisor", "escalate_after": "PT1H", "expire_after": "PT30M"}
                    ],
                },
                *rules[1:],
            ],
            "expire_after must come after escalate_after",
        ),
    ],
    ids=["empty", "no-levels", "unknown-role", "quorum-0", "overlap", "gap", "open-end", "expiry"],
)
async def test_an_inconsistent_policy_is_refused_and_changes_nothing(
    world: World, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], complaint: str
) -> None:
    before = await current_version(world)
    response = await world.api.put(
        POLICY, json={"rules": change(DEFAULT_RULES)}, headers=world["ops"].headers
    )
    body = assert_error(response, 422, "ValidationError")
    assert complaint in body["detail"]
    assert await current_version(world) == before


async def test_only_ops_changes_the_policy_and_customers_do_not_read_it(world: World) -> None:
    for who in ("sup", "dir", "sales"):
        response = await world.api.put(
            POLICY, json={"rules": DEFAULT_RULES}, headers=world[who].headers
        )
        assert_error(response, 403, "Forbidden")
    assert_error(await world.api.get(POLICY, headers=world["customer"].headers), 403, "Forbidden")
    assert_error(await world.api.get(POLICY), 401, "Unauthorized")


async def test_a_policy_change_leaves_orders_in_review_alone(world: World, put_policy: Any) -> None:
    category = f"cat-{world.tag}"
    sku = await world.add_product(category=category)
    before = await world.new_order(lines=[{"sku": sku, "quantity": 1}])
    await world.wait_for(before, "UNDER_REVIEW")
    old_version = await current_version(world)

    new_version = await put_policy(
        with_rule(
            {
                "name": "test category",
                "when": {"categories": [category]},
                "levels": [{"role": "supervisor"}, {"role": "finance"}],
            }
        )
    )
    assert new_version == old_version + 1
    audit = await world.api.get(
        "/api/v1/audit", params={"kind": "policy"}, headers=world["ops"].headers
    )
    newest = audit.json()["data"][0]
    assert (newest["actor"], newest["payload"]["version"]) == (world["ops"].username, new_version)
    after = await world.new_order(lines=[{"sku": sku, "quantity": 1}])
    planned = await world.wait_for(after, "UNDER_REVIEW")
    assert planned["review"]["policy_version"] == new_version
    assert [level["role"] for level in planned["review"]["levels"]] == ["supervisor", "finance"]

    # The order entered before the change is reviewed as it was planned: one level.
    approved = await world.decide(before, as_="sup")
    assert approved.status_code == 200, approved.text
    assert approved.json()["review"]["policy_version"] == old_version
    await world.wait_for(before, "IN_PRODUCTION")


async def test_a_quorum_level_needs_distinct_approvers(world: World, put_policy: Any) -> None:
    sku = await product_under_rule(
        world, put_policy, "two supervisors", [{"role": "supervisor", "quorum": 2}]
    )
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 1}])
    await world.wait_for(order_no, "UNDER_REVIEW")

    first = await world.decide(order_no, as_="sup")
    assert first.status_code == 200, first.text
    level = first.json()["review"]["levels"][0]
    assert (first.json()["status"], level["status"], level["quorum"]) == (
        "UNDER_REVIEW",
        "pending",
        2,
    )
    # The same approver twice is one approver.
    assert_error(await world.decide(order_no, as_="sup"), 403, "Forbidden")

    second = await world.decide(order_no, as_="sup2")
    assert second.status_code == 200, second.text
    assert second.json()["status"] in ("APPROVED", "IN_PRODUCTION")
    decided = second.json()["review"]["levels"][0]
    assert decided["status"] == "approved"
    assert [d["by"] for d in decided["decisions"]] == [
        world["sup"].username,
        world["sup2"].username,
    ]


async def test_one_rejection_rejects_a_quorum_level(world: World, put_policy: Any) -> None:
    sku = await product_under_rule(
        world, put_policy, "two supervisors", [{"role": "supervisor", "quorum": 2}]
    )
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 1}])
    await world.wait_for(order_no, "UNDER_REVIEW")
    assert (await world.decide(order_no, as_="sup")).status_code == 200
    rejected = await world.decide(order_no, as_="sup2", decision="reject", comment="margin too low")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "REJECTED"
    assert rejected.json()["history"][-1]["reason"] == "margin too low"


async def test_discount_and_customer_risk_ask_for_more_review(
    world: World, put_policy: Any
) -> None:
    category = f"cat-{world.tag}"
    sku = await world.add_product(category=category)
    await put_policy(
        {
            "rules": [
                {
                    "name": "deep discount",
                    "when": {"categories": [category], "discount_min": "10"},
                    "levels": [{"role": "supervisor"}, {"role": "finance"}],
                },
                {
                    "name": "new customer",
                    "when": {"categories": [category], "customer_risk": ["new"]},
                    "levels": [{"role": "supervisor"}, {"role": "manager"}],
                },
                *DEFAULT_RULES,
            ]
        }
    )
    discounted = await world.new_order(lines=[{"sku": sku, "quantity": 2, "unit_price": "85.00"}])
    listed = await world.new_order(lines=[{"sku": sku, "quantity": 2}])
    near_limit_customer = await world.add_customer(credit_limit="1000")
    near_limit = await world.new_order(
        lines=[{"sku": sku, "quantity": 9}], customer_id=near_limit_customer
    )

    def roles(order: dict[str, Any]) -> list[str]:
        return [level["role"] for level in order["review"]["levels"]]

    order = await world.wait_for(discounted, "UNDER_REVIEW")
    assert (order["review"]["policy_rule"], roles(order)) == (
        "deep discount",
        ["supervisor", "finance"],
    )
    # The test customer has no completed order yet: it is a new customer.
    order = await world.wait_for(listed, "UNDER_REVIEW")
    assert (order["review"]["policy_rule"], roles(order)) == (
        "new customer",
        ["supervisor", "manager"],
    )
    order = await world.wait_for(near_limit, "UNDER_REVIEW")
    assert order["review"]["policy_rule"] == "new customer"


async def test_review_clocks_remind_again_escalate_and_expire(
    world: World, put_policy: Any, temporal_client: Client
) -> None:
    sku = await product_under_rule(
        world,
        put_policy,
        "fast clocks",
        [
            {
                "role": "supervisor",
                "remind_every": 1,
                "escalate_after": 2.5,
                "expire_after": 4.5,
            }
        ],
    )
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 1}])
    order = await world.wait_for(order_no, "ON_HOLD", timeout=30)
    held = order["history"][-1]
    assert (held["from_status"], held["actor"], held["reason"]) == (
        "UNDER_REVIEW",
        "system",
        "review expired",
    )
    reminders = firings(order, 1, "reminder")
    rounds = sorted({r["round"] for r in reminders})
    assert rounds == list(range(1, len(rounds) + 1)) and len(rounds) >= 3
    assert world["sup"].username in reminders[0]["recipients"]
    assert world["sales"].username not in reminders[0]["recipients"]
    # Escalation tells both roles; after it, the manager is reminded as well.
    escalation = firings(order, 1, "escalation")
    assert {e["role"] for e in escalation} == {"supervisor", "manager"}
    assert {"supervisor", "manager"} <= {r["role"] for r in reminders}
    [expiry] = firings(order, 1, "expiry")
    assert world["ops"].username in expiry["recipients"]
    audited = await world.api.get(
        "/api/v1/audit", params={"order_no": order_no, "limit": 200}, headers=world["ops"].headers
    )
    kinds = {row["kind"] for row in audited.json()["data"]}
    assert {"reminder", "escalation", "expiry", "hold"} <= kinds
    # The approvers heard of it in their inbox: reminded, then the manager on escalation.
    for person, event in (("sup", "reminder"), ("sup", "escalated"), ("mgr", "escalated")):
        await until_in_inbox(world, person, order_no, event)

    details = (
        await temporal_client.get_workflow_handle(f"order-{order_no}").query(
            "__temporal_workflow_metadata"
        )
    ).current_details
    assert "review expired" not in details or "ON_HOLD" in details
    assert "| 1 | supervisor → manager | pending | 0/1 |" in details

    # Ops resumes: the clocks start again from zero, and the escalated manager may decide.
    resumed = await world.act(order_no, "resume", as_="ops", json_body={"reason": "chased"})
    assert resumed.status_code == 200, resumed.text
    await eventually(
        lambda: world.order(order_no),
        lambda o: max(r["round"] for r in firings(o, 1, "reminder")) > rounds[-1],
    )
    decided = await world.decide(order_no, as_="mgr")
    assert decided.status_code == 200, decided.text
    assert decided.json()["review"]["levels"][0]["decisions"][0]["acting_role"] == "manager"


async def test_a_hold_stops_the_clocks(world: World, put_policy: Any) -> None:
    sku = await product_under_rule(
        world,
        put_policy,
        "reminder every 2 s",
        [{"role": "supervisor", "remind_every": 2, "escalate_after": 600}],
    )
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 1}])
    await world.wait_for(order_no, "UNDER_REVIEW")
    held = await world.act(order_no, "hold", as_="ops", json_body={"reason": "credit check"})
    assert held.status_code == 200, held.text
    await asyncio.sleep(3)
    assert firings(await world.order(order_no), 1, "reminder") == []

    assert (await world.act(order_no, "resume", as_="ops", json_body={})).status_code == 200
    order = await eventually(
        lambda: world.order(order_no), lambda o: bool(firings(o, 1, "reminder"))
    )
    assert order["status"] == "UNDER_REVIEW"
