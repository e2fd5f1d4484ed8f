"""Helpers of the stock tests: approving and cancelling an order, stock as ``GET /products``
shows it, an order's movements, the check that the movement ledger adds up to the stock, and
stock booked by hand (receipts, counts) with the ledger's endpoints."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from db.models import Product, StockMovement
from tests.factories import World


async def approved(world: World, order_no: str) -> None:
    """One supervisor approval: every order here stays below the two-level threshold."""
    await world.approve_levels(order_no, ["sup"])


async def cancel(
    world: World, order_no: str, *, as_: str = "sales", reason: str = "customer withdrew"
) -> httpx.Response:
    return await world.act(order_no, "cancel", as_=as_, json_body={"reason": reason})


async def stock_of(world: World, sku: str) -> tuple[int, int, int]:
    """(on hand, reserved, available) as ``GET /products`` shows them."""
    product = await world.product(sku)
    return product["stock_on_hand"], product["stock_reserved"], product["stock_available"]


def moved(order: dict[str, Any], kind: str, sku: str | None = None) -> list[tuple[str, int]]:
    """The order's movements of one kind, as (sku, quantity) in the order they happened."""
    return [
        (m["sku"], m["quantity"])
        for m in order["stock_movements"]
        if m["kind"] == kind and sku in (None, m["sku"])
    ]


async def movement_rows(world: World, sku: str) -> list[StockMovement]:
    """Every stock movement of the product, straight from the table."""
    async with world.sessions() as session:
        rows = await session.scalars(
            select(StockMovement).where(StockMovement.sku == sku).order_by(StockMovement.id)
        )
        return list(rows)


async def product_row(world: World, sku: str) -> Product:
    async with world.sessions() as session:
        return await session.get_one(Product, sku)


async def assert_rebuilt_from_movements(world: World, sku: str, initial_on_hand: int) -> None:
    """On-hand and reserved are exactly what the movement ledger adds up to."""
    rows = await movement_rows(world, sku)
    total = {
        kind: sum(r.quantity for r in rows if r.kind == kind) for kind in {r.kind for r in rows}
    }
    product = await product_row(world, sku)
    assert initial_on_hand + total.get("produce", 0) - total.get("ship", 0) == product.stock_on_hand
    assert (
        total.get("reserve", 0) - total.get("release", 0) - total.get("ship", 0)
        == product.stock_reserved
    )


# ---------------------------------------------------------------------------- booked by hand

STOCK = "/api/v1/stock"


async def receive(
    world: World,
    sku: str,
    quantity: int,
    *,
    reference: str = "DN-1",
    key: str | None = None,
    as_: str = "log",
) -> httpx.Response:
    headers = dict(world[as_].headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"sku": sku, "quantity": quantity, "reference": reference}
    return await world.api.post(f"{STOCK}/receipts", json=body, headers=headers)


async def count(
    world: World, sku: str, counted: int, *, reason: str = "cycle count", as_: str = "ops"
) -> httpx.Response:
    body = {"sku": sku, "counted_quantity": counted, "reason": reason}
    return await world.api.post(f"{STOCK}/adjustments", json=body, headers=world[as_].headers)


async def movements(world: World, *, as_: str = "ops", **params: Any) -> httpx.Response:
    return await world.api.get(f"{STOCK}/movements", params=params, headers=world[as_].headers)


async def ledger(world: World, sku: str | None = None) -> dict[str, Any]:
    params = {"sku": sku} if sku else {}
    response = await world.api.get(
        f"{STOCK}/ledger-check", params=params, headers=world["ops"].headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def audited(world: World, kind: str, sku: str) -> list[dict[str, Any]]:
    response = await world.api.get(
        "/api/v1/audit", params={"kind": kind, "limit": 200}, headers=world["ops"].headers
    )
    assert response.status_code == 200, response.text
    return [row for row in response.json()["data"] if row["payload"]["sku"] == sku]
