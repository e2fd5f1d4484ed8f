"""Low stock: an alert is raised once each time availability falls below the reorder point and
names the order that caused it; staff see it on the product, customers only that stock is low."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from db.models import Alert, Product
from tests.factories import World
from tests.stock_helpers import approved, cancel


async def low_stock_alerts(world: World, sku: str) -> list[dict[str, Any]]:
    """The product's low-stock alerts as staff list them, newest first."""
    response = await world.api.get(
        "/api/v1/alerts",
        params={"kind": "low_stock", "limit": 500},
        headers=world["ops"].headers,
    )
    assert response.status_code == 200, response.text
    return [alert for alert in response.json()["data"] if alert["sku"] == sku]


async def counted_as_open(world: World, sku: str) -> int:
    """The product's alerts the order book counts as open (``open_alerts`` of
    ``GET /analytics/overview``): those raised since its current dip began."""
    async with world.sessions() as session:
        counted = await session.scalar(
            select(func.count())
            .select_from(Alert)
            .join(Product, Product.sku == Alert.sku)
            .where(Alert.sku == sku, Alert.at >= Product.low_stock_since)
        )
    return counted or 0


def without_order(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert without its order number, which only the alert list carries."""
    return {key: value for key, value in alert.items() if key != "order_no"}


async def test_low_stock_alert_is_raised_once_per_dip(world: World) -> None:
    sku = await world.add_product(stock=10, reorder_point=5)

    async def order_of(quantity: int) -> str:
        order_no = await world.new_order(lines=[{"sku": sku, "quantity": quantity}])
        await approved(world, order_no)
        await world.wait_for(order_no, "AWAITING_SHIPMENT")
        return order_no

    # Down to the reorder point itself: not below it yet.
    await order_of(5)
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (5, False)
    assert product["low_stock_alert"] is None
    assert await low_stock_alerts(world, sku) == []

    dip = await order_of(2)
    [alert] = await low_stock_alerts(world, sku)
    assert (alert["kind"], alert["order_no"]) == ("low_stock", dip)
    assert "3 available, below the reorder point of 5" in alert["message"]
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (3, True)
    assert without_order(product["low_stock_alert"]) == without_order(alert)
    assert await counted_as_open(world, sku) == 1

    # A second order deeper into the same dip raises nothing new.
    deeper = await order_of(1)
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (2, True)
    assert without_order(product["low_stock_alert"]) == without_order(alert)
    assert await low_stock_alerts(world, sku) == [alert]

    # Cancelling both brings availability back to the point: the dip is over.
    for order_no in (dip, deeper):
        assert (await cancel(world, order_no)).status_code == 200
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (5, False)
    assert product["low_stock_alert"] is None
    assert await low_stock_alerts(world, sku) == [alert]
    assert await counted_as_open(world, sku) == 0

    # The next dip is a new alert, listed first and shown on the product.
    again = await order_of(1)
    latest, earlier = await low_stock_alerts(world, sku)
    assert (latest["order_no"], earlier) == (again, alert)
    assert "4 available" in latest["message"]
    assert await counted_as_open(world, sku) == 1
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (4, True)
    assert without_order(product["low_stock_alert"]) == without_order(latest)


async def test_product_low_stock_alert_names_the_order_that_caused_it(world: World) -> None:
    sku = await world.add_product(stock=3, reorder_point=2)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 2}])
    await approved(world, order_no)
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    [listed] = await low_stock_alerts(world, sku)
    assert listed["order_no"] == order_no
    assert (await world.product(sku))["low_stock_alert"] == listed


async def test_units_made_for_an_order_in_a_dip_raise_no_second_alert(world: World) -> None:
    sku = await world.add_product(stock=10, reorder_point=5)
    first = await world.new_order(lines=[{"sku": sku, "quantity": 7}])
    await approved(world, first)
    await world.wait_for(first, "AWAITING_SHIPMENT")
    [alert] = await low_stock_alerts(world, sku)

    # The rest of the stock goes to a bigger order; what it lacks is made for it.
    second = await world.new_order(lines=[{"sku": sku, "quantity": 20}])
    await approved(world, second)
    await world.finish_production(second)

    # The made units went straight into the order's reservation: availability never came
    # back up to the reorder point, so this is still the same dip with the same alert.
    product = await world.product(sku)
    assert (product["stock_on_hand"], product["stock_reserved"]) == (27, 27)
    assert product["low_stock"] is True
    assert await low_stock_alerts(world, sku) == [alert]


async def test_stock_that_starts_below_the_reorder_point_shows_as_low(world: World) -> None:
    """No movement happened yet, so no alert; the product still reads as low on stock."""
    sku = await world.add_product(stock=2, reorder_point=5)
    product = await world.product(sku)
    assert (product["stock_available"], product["low_stock"]) == (2, True)
    assert product["low_stock_alert"] is None


async def test_customers_see_stock_but_not_whose_order_caused_an_alert(world: World) -> None:
    sku = await world.add_product(stock=10, reorder_point=5)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 8}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    assert (await world.product(sku))["low_stock_alert"]["order_no"] == order_no

    response = await world.api.get("/api/v1/products", headers=world["stranger"].headers)
    assert response.status_code == 200
    seen = next(p for p in response.json()["data"] if p["sku"] == sku)
    assert (seen["stock_available"], seen["low_stock"]) == (2, True)
    assert seen["low_stock_alert"] is None
