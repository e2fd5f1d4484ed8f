"""Customers, products with their dated price list, and production lines, written through the
API by ops or an admin: created, changed, deactivated, deleted only while nothing refers to
them, duplicates refused, every change audited, and orders priced from the price list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from db.models import AuditEntry, Product
from db.prices import prices_on
from tests.factories import World
from tests.test_auth import assert_error

API = "/api/v1"


def code(world: World, prefix: str) -> str:
    return f"{prefix}-{world.tag}-{uuid.uuid4().hex[:6]}".upper()


async def audited(world: World, kind: str, key: str) -> list[dict[str, Any]]:
    """The audit rows about one customer, product, price or line, oldest first."""
    async with world.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.kind == kind, AuditEntry.payload["key"].astext == key)
            .order_by(AuditEntry.id)
        )
        return [{"actor": row.actor, **row.payload} for row in rows]


async def post(world: World, path: str, body: Any, *, as_: str = "ops") -> Any:
    return await world.api.post(f"{API}{path}", json=body, headers=world[as_].headers)


async def patch(world: World, path: str, body: Any, *, as_: str = "ops") -> Any:
    return await world.api.patch(f"{API}{path}", json=body, headers=world[as_].headers)


async def delete(world: World, path: str, *, as_: str = "ops") -> Any:
    return await world.api.delete(f"{API}{path}", headers=world[as_].headers)


def product_body(world: World, sku: str, **fields: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": "Ball valve DN20",
        "category": "valves",
        "unit_price": "100.00",
        "reorder_point": 5,
        "line_codes": [world.line],
        "routing": [
            {"name": "machine", "minutes_per_unit": "4.00"},
            {"name": "assemble", "minutes_per_unit": "3.50"},
        ],
        **fields,
    }


async def test_customers_are_created_changed_and_deactivated(world: World) -> None:
    customer_code = code(world, "CUST")
    body = {
        "code": customer_code,
        "name": "Northwind Trading Ltd.",
        "credit_limit": "250000.00",
        "risk": "high",
        "contacts": [{"name": "Wang Wei", "email": "wang.wei@northwind.test"}],
        "notification_email": "orders@northwind.test",
    }
    created = await post(world, "/customers", body, as_="admin")
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["credit_limit"] == "250000.00" and customer["risk"] == "high"
    assert customer["contacts"] == [{"name": "Wang Wei", "email": "wang.wei@northwind.test"}]

    duplicate = await post(world, "/customers", {**body, "name": "Another"})
    assert customer_code in assert_error(duplicate, 409, "Conflict")["detail"]

    changed = await patch(world, f"/customers/{customer['id']}", {"credit_limit": "300000.00"})
    assert changed.status_code == 200, changed.text
    deactivated = await patch(world, f"/customers/{customer['id']}", {"active": False})
    assert deactivated.json()["active"] is False
    listed = await world.api.get(f"{API}/customers", headers=world["sales"].headers)
    [shown] = [c for c in listed.json()["data"] if c["code"] == customer_code]
    assert shown["credit_limit"] == "300000.00" and shown["active"] is False

    trail = await audited(world, "customer", customer_code)
    assert [(row["actor"], row["action"]) for row in trail] == [
        (world["admin"].username, "create"),
        (world["ops"].username, "update"),
        (world["ops"].username, "update"),
    ]
    assert trail[1]["changes"] == {"credit_limit": "300000.00"}

    # An order for the inactive customer is rejected at validation, with the reason.
    order_no = await world.new_order(customer_id=customer["id"])
    rejected = await world.wait_for(order_no, "REJECTED")
    assert any("inactive" in (step["reason"] or "") for step in rejected["history"]), rejected


async def test_products_are_created_changed_and_deactivated(world: World) -> None:
    sku = code(world, "SKU")
    created = await post(world, "/products", product_body(world, sku))
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["unit_price"] == "100.00" and product["category"] == "valves"
    assert product["stock_on_hand"] == 0 and product["line_codes"] == [world.line]
    assert [step["name"] for step in product["routing"]] == ["machine", "assemble"]
    assert (await world.product(sku)) == product

    duplicate = await post(world, "/products", product_body(world, sku))
    assert sku in assert_error(duplicate, 409, "Conflict")["detail"]

    changed = await patch(
        world,
        f"/products/{sku}",
        {"reorder_point": 20, "routing": [{"name": "print", "minutes_per_unit": "1.25"}]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["reorder_point"] == 20
    assert changed.json()["routing"] == [{"name": "print", "minutes_per_unit": "1.25"}]
    for malformed_change in ({"name": None}, {"routing": None}, {"unit_price": "1.00"}):
        assert (await patch(world, f"/products/{sku}", malformed_change)).status_code == 422
    deactivated = await patch(world, f"/products/{sku}", {"active": False}, as_="admin")
    assert deactivated.json()["active"] is False
    assert [row["action"] for row in await audited(world, "product", sku)] == [
        "create",
        "update",
        "update",
    ]

    # Refused whole: an unknown line, a step named twice, a field out of bounds.
    other = code(world, "SKU")
    for refused in (
        product_body(world, other, line_codes=["NO-SUCH-LINE"]),
        product_body(
            world,
            other,
            routing=[
                {"name": "machine", "minutes_per_unit": "1.00"},
                {"name": "machine", "minutes_per_unit": "2.00"},
            ],
        ),
    ):
        assert_error(await post(world, "/products", refused), 422, "ValidationError")
    for malformed in (
        product_body(world, other, unit_price="-1.00"),
        product_body(world, other, unit_price="1.001"),
        product_body(world, other, name="bad\x00name"),
        product_body(world, other, routing=[]),
        product_body(world, other, reorder_point=-1),
        {**product_body(world, other), "sku": "has space"},
    ):
        assert (await post(world, "/products", malformed)).status_code == 422
    listed = await world.api.get(f"{API}/products", headers=world["ops"].headers)
    assert other not in {p["sku"] for p in listed.json()["data"]}


async def test_production_lines_are_created_changed_and_deactivated(world: World) -> None:
    line_code = code(world, "LINE")
    body = {"code": line_code, "name": "Assembly line 2", "units_per_hour": "30.00"}
    created = await post(world, "/production-lines", body)
    assert created.status_code == 201, created.text
    assert created.json()["units_per_hour"] == "30.00" and created.json()["active"] is True
    assert_error(await post(world, "/production-lines", body), 409, "Conflict")
    for malformed in ({**body, "units_per_hour": "0"}, {**body, "code": ""}, {**body, "x": 1}):
        assert (await post(world, "/production-lines", malformed)).status_code == 422

    changed = await patch(world, f"/production-lines/{line_code}", {"units_per_hour": "45.00"})
    assert changed.json()["units_per_hour"] == "45.00"
    deactivated = await patch(world, f"/production-lines/{line_code}", {"active": False})
    assert deactivated.json()["active"] is False
    listed = await world.api.get(f"{API}/production-lines", headers=world["ops"].headers)
    [shown] = [line for line in listed.json()["data"] if line["code"] == line_code]
    assert shown["units_per_hour"] == "45.00" and shown["active"] is False
    assert [row["action"] for row in await audited(world, "production_line", line_code)] == [
        "create",
        "update",
        "update",
    ]
    assert (await delete(world, f"/production-lines/{line_code}")).status_code == 204
    assert_error(
        await patch(world, f"/production-lines/{line_code}", {"active": True}), 404, "NotFound"
    )


async def test_nothing_an_open_order_refers_to_is_deleted(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")

    refused = await delete(world, f"/customers/{world.customer_id}")
    assert "open order" in assert_error(refused, 409, "Conflict")["detail"]
    assert "deactivate" in refused.json()["detail"]
    refused = await delete(world, f"/products/{world.sku}")
    assert "open order" in assert_error(refused, 409, "Conflict")["detail"]
    refused = await delete(world, f"/production-lines/{world.line}")
    assert_error(refused, 409, "Conflict")
    # Still there, and the order goes on.
    assert (await world.product(world.sku))["active"] is True
    assert (await world.order(order_no))["status"] == "UNDER_REVIEW"

    # What nothing refers to goes, audited.
    unused = code(world, "SKU")
    assert (await post(world, "/products", product_body(world, unused))).status_code == 201
    assert (await delete(world, f"/products/{unused}")).status_code == 204
    assert_error(await delete(world, f"/products/{unused}"), 404, "NotFound")
    assert [row["action"] for row in await audited(world, "product", unused)] == [
        "create",
        "delete",
    ]


async def test_an_order_is_priced_from_the_price_list_of_its_entry_day(world: World) -> None:
    sku = code(world, "SKU")
    assert (await post(world, "/products", product_body(world, sku))).status_code == 201
    today = datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)

    later = await post(
        world, f"/products/{sku}/prices", {"unit_price": "150.00", "effective_from": str(tomorrow)}
    )
    assert later.status_code == 201, later.text
    again = await post(
        world, f"/products/{sku}/prices", {"unit_price": "160.00", "effective_from": str(tomorrow)}
    )
    assert_error(again, 409, "Conflict")
    past = await post(
        world,
        f"/products/{sku}/prices",
        {"unit_price": "90.00", "effective_from": str(today - timedelta(days=1))},
    )
    assert_error(past, 422, "ValidationError")
    prices = await world.api.get(f"{API}/products/{sku}/prices", headers=world["ops"].headers)
    assert [(p["effective_from"], p["unit_price"]) for p in prices.json()["data"]] == [
        (str(tomorrow), "150.00"),
        (str(today), "100.00"),
    ]
    assert [row["changes"] for row in await audited(world, "price", sku)] == [
        {"unit_price": "150.00", "effective_from": str(tomorrow)}
    ]
    async with world.sessions.begin() as session:
        # The undated price is what a product without a dated price sells at; this one has.
        await session.execute(
            update(Product).where(Product.sku == sku).values(unit_price=Decimal("999.00"))
        )
        assert await prices_on(session, [sku], tomorrow) == {sku: Decimal("150.00")}

    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 3}])
    order = await world.wait_for(order_no, "UNDER_REVIEW")
    assert [(line["unit_price"], line["amount"]) for line in order["lines"]] == [
        ("100.00", "300.00")
    ]
    assert order["total"] == "300.00"
    assert (await world.product(sku))["unit_price"] == "100.00"


async def test_only_ops_and_admins_write_master_data(world: World) -> None:
    body = {"code": code(world, "CUST"), "name": "X", "credit_limit": "1.00"}
    for person in ("sales", "sup", "customer"):
        assert_error(await post(world, "/customers", body, as_=person), 403, "Forbidden")
    listed = await world.api.get(f"{API}/customers", headers=world["ops"].headers)
    assert body["code"] not in {c["code"] for c in listed.json()["data"]}
