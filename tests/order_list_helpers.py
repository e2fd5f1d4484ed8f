"""Reading the order list and its CSV export in tests, and a customer's orders each in a
state one of the list's filters picks out. Every list is narrowed to the test's own customer,
so orders of other tests never show."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from tests.factories import TWO_LEVEL_QTY, World, eventually
from tests.test_pending_approvals import level_open

ORDERS = "/api/v1/orders"
EXPORT = "/api/v1/orders.csv"
# Review clocks fast enough to escalate within a test.
FAST_CLOCKS = {"remind_after": timedelta(seconds=1), "escalate_after": timedelta(seconds=2)}


async def listed(world: World, *, as_: str = "ops", limit: int = 200, **params: Any) -> list[Any]:
    """Every order the list shows for ``params`` among the test's own customer's, page by
    page."""
    query = {"customer_id": world.customer_id, "limit": limit, **params}
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await world.api.get(
            ORDERS,
            params={**query, **({"cursor": cursor} if cursor else {})},
            headers=world[as_].headers,
        )
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def listed_nos(world: World, **params: Any) -> set[str]:
    return {item["order_no"] for item in await listed(world, **params)}


async def escalated(world: World, order_no: str, level: int, to: str) -> None:
    """Wait until the level shows as escalated to ``to``."""

    def shows(order: dict[str, Any]) -> bool:
        review = order["review"]
        return bool(review) and review["levels"][level - 1]["escalated_to"] == to

    await eventually(lambda: world.order(order_no), shows)


@dataclass
class Orders:
    """Orders of one customer, each in a state a filter picks out."""

    small: str  # 1,000.00, waiting on a supervisor
    second_level: str  # 20,000.00, level 1 approved, waiting on a manager
    other_sku: str  # 500.00 of another product only, waiting on a supervisor
    escalated: str  # 1,000.00, its supervisor level escalated to a manager
    in_production: str  # 1,000.00, approved
    other_sku_code: str


async def build_orders(world: World, api_with: Any) -> Orders:
    other_sku = await world.add_product()
    async with api_with(**FAST_CLOCKS) as fast_api:
        escalating = await world.new_order(api=fast_api)
    small = await world.new_order()
    second_level = await world.new_order(TWO_LEVEL_QTY)
    other = await world.new_order(lines=[{"sku": other_sku, "quantity": 5}])
    approved = await world.new_order()
    await world.approve_levels(second_level, ["sup"])
    await level_open(world, second_level, 2)
    await world.approve_levels(approved, ["sup"])
    await world.wait_for(approved, "IN_PRODUCTION")
    for order_no in (small, other):
        await level_open(world, order_no, 1)
    await escalated(world, escalating, 1, "manager")
    return Orders(small, second_level, other, escalating, approved, other_sku)


def parsed_csv(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "orders.csv" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.text)))


def as_cells(item: dict[str, Any], columns: list[str]) -> list[str]:
    return ["" if item[c] is None else str(item[c]) for c in columns]
