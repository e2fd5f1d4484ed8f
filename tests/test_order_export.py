"""The CSV export of the order list, through the HTTP API: the same orders and values as the
JSON list, quoted the CSV way, formulas neutralised, and bounded."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from api import order_lists
from db.models import Customer
from tests.factories import World
from tests.order_list_helpers import EXPORT, ORDERS, as_cells, build_orders, listed, parsed_csv
from tests.test_auth import assert_error
from tests.test_pending_approvals import level_open


async def test_the_export_holds_what_the_list_shows(world: World, api_with: Any) -> None:
    o = await build_orders(world, api_with)
    cases: list[dict[str, str]] = [
        {},
        {"sort": "-total"},
        {"sort": "updated_at", "status": "UNDER_REVIEW"},
        {"waiting_role": "manager", "sort": "created_at"},
        {"escalated": "true"},
    ]
    for params in cases:
        query: dict[str, str | int] = {"customer_id": world.customer_id, **params}
        items = await listed(world, limit=2, **params)
        rows = parsed_csv(await world.api.get(EXPORT, params=query, headers=world["ops"].headers))
        assert rows[0] == list(order_lists.STAFF_CSV_COLUMNS)
        assert rows[1:] == [as_cells(item, rows[0]) for item in items], params
    [row] = parsed_csv(
        await world.api.get(
            EXPORT,
            params={"customer_id": world.customer_id, "escalated": "true"},
            headers=world["ops"].headers,
        )
    )[1:]
    assert (row[0], row[-2], row[-1]) == (o.escalated, "supervisor", "manager")
    # The path is the export, never an order number; order numbers still lead to orders.
    assert (await world.api.get(f"{ORDERS}/{o.small}", headers=world["ops"].headers)).is_success


async def test_the_export_neutralises_formulas_and_quotes_cells(world: World) -> None:
    hostile_code = f'=HYPERLINK("a,b","c")-{world.tag}'
    async with world.sessions.begin() as session:
        customer = Customer(
            code=hostile_code, name="Formula Ltd", credit_limit=Decimal("1000000"), active=True
        )
        session.add(customer)
        await session.flush()
        world.customer_id = customer.id
    await world.add_person("+sales", ["sales"])
    await world.add_person("-sales", ["sales"])
    plus = await world.new_order(by="+sales")
    minus = await world.new_order(by="-sales")
    for order_no in (plus, minus):
        await level_open(world, order_no, 1)

    response = await world.api.get(
        EXPORT,
        params={"customer_id": world.customer_id, "sort": "created_at"},
        headers=world["ops"].headers,
    )
    rows = parsed_csv(response)
    assert [row[:3] for row in rows[1:]] == [
        [plus, "UNDER_REVIEW", "'" + hostile_code],
        [minus, "UNDER_REVIEW", "'" + hostile_code],
    ]
    assert [row[5] for row in rows[1:]] == [
        "'" + world["+sales"].username,
        "'" + world["-sales"].username,
    ]
    # The comma and the quotes inside the cell are quoted the CSV way.
    assert '"\'=HYPERLINK(""a,b"",""c"")-' in response.text
    assert response.text.endswith("\r\n")
    # The JSON list shows the values as they are.
    items = await listed(world, sort="created_at")
    assert [i["customer_code"] for i in items] == [hostile_code, hostile_code]


async def test_an_export_larger_than_its_bound_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        await world.new_order()
    monkeypatch.setattr(order_lists, "CSV_MAX_ROWS", 2)
    response = await world.api.get(
        EXPORT, params={"customer_id": world.customer_id}, headers=world["ops"].headers
    )
    assert "more than 2 orders match" in assert_error(response, 422, "ValidationError")["detail"]
    narrowed = await world.api.get(
        EXPORT,
        params={"customer_id": world.customer_id, "max_total": "999"},
        headers=world["ops"].headers,
    )
    assert parsed_csv(narrowed) == [list(order_lists.STAFF_CSV_COLUMNS)]
