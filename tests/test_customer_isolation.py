"""Customer isolation: to another customer an order, its shipment and its notifications
answer exactly as things that do not exist, and a customer user tied to no customer sees no
orders at all."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.authorisation_matrix import API, MATRIX, UNKNOWN_ORDER, Call, Walk
from tests.factories import World
from tests.test_auth import assert_error


async def shipped_notification(world: World, order_no: str) -> dict[str, Any]:
    """The in-app "shipped" notification of the order in the customer's inbox, once written."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        inbox = await world.api.get(f"{API}/notifications", headers=world["customer"].headers)
        assert inbox.status_code == 200, inbox.text
        for notification in inbox.json()["data"]:
            if notification["order_no"] == order_no and notification["event"] == "shipped":
                found: dict[str, Any] = notification
                return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no shipped notification for {order_no}: {inbox.text}")
        await asyncio.sleep(0.2)


async def test_a_customer_never_sees_another_customers_orders_or_notifications(
    world: World,
) -> None:
    # Made from stock that then falls below its reorder point: a low-stock alert names the order.
    sku = await world.add_product(stock=10, reorder_point=5)
    order_no = await world.new_order(lines=[{"sku": sku, "quantity": 10}])
    await world.approve_levels(order_no, ["sup"])
    await world.wait_for(order_no, "AWAITING_SHIPMENT")
    shipped = await world.act(order_no, "dispatch", as_="log")
    assert shipped.status_code == 200, shipped.text
    tracking_no = shipped.json()["shipment"]["tracking_no"]
    notification = await shipped_notification(world, order_no)
    customer, stranger = world["customer"].headers, world["stranger"].headers

    # The order's own customer sees all of it: the hidden things below do exist.
    for path in (f"{API}/orders/{order_no}", f"{API}/orders/{order_no}/history"):
        assert (await world.api.get(path, headers=customer)).status_code == 200
    own = await world.api.get(f"{API}/orders", headers=customer)
    assert [o["order_no"] for o in own.json()["data"]] == [order_no]

    # Staff see a low-stock alert naming the order, so the scan of /products below can fail.
    staff_products = await world.api.get(f"{API}/products", headers=world["ops"].headers)
    assert order_no in staff_products.text

    # To the other customer the order answers exactly as one that does not exist.
    walk = Walk(world, order_no)
    reads = ["", "/history", "/feedback", "/amendment-requests"]
    actions = [
        "/decisions",
        "/cancel",
        "/hold",
        "/resume",
        "/production-events",
        "/dispatch",
        "/confirm-delivery",
        "/feedback",
        "/amendment-requests",
    ]
    for method, suffixes in (("GET", reads), ("POST", actions)):
        for suffix in suffixes:
            endpoint = f"{method} {API}/orders/{{order_no}}{suffix}"
            answers = []
            for target in (order_no, UNKNOWN_ORDER):
                call = Call(walk.fill(endpoint, order_no=target), json=walk.body(endpoint))
                response = await walk.send(endpoint, call, stranger)
                answers.append((response.status_code, response.json()["error"]))
            assert answers[0] == answers[1], (endpoint, answers)
    for path in (f"{API}/orders/{order_no}", f"{API}/orders/{order_no}/history"):
        assert_error(await world.api.get(path, headers=stranger), 404, "NotFound")
    confirm = await world.act(order_no, "confirm-delivery", as_="stranger")
    assert_error(confirm, 404, "NotFound")

    # No list shows it, whatever the filter.
    for params in (
        {},
        {"customer_id": world.customer_id},
        {"q": order_no},
        {"status": "SHIPPED"},
    ):
        listed = await world.api.get(f"{API}/orders", params=params, headers=stranger)
        assert listed.status_code == 200, listed.text
        assert listed.json()["data"] == [], (params, listed.text)
    [only] = (await world.api.get(f"{API}/customers", headers=stranger)).json()["data"]
    assert only["id"] != world.customer_id
    assert only["id"] == (await world.api.get(f"{API}/me", headers=stranger)).json()["customer_id"]

    # Nor does anything else it may read mention the order or its shipment.
    for endpoint, roles in MATRIX.items():
        method, path = endpoint.split(" ", 1)
        if method != "GET" or "customer" not in roles or "{" in path:
            continue
        answer = await world.api.get(path, headers=stranger)
        assert answer.status_code == 200, (endpoint, answer.text)
        assert order_no not in answer.text and tracking_no not in answer.text, endpoint
    inbox = await world.api.get(f"{API}/notifications", headers=stranger)
    assert inbox.json()["data"] == []

    # The customer's notification is the customer's alone: anyone else finds no such thing.
    for who in ("stranger", "sales", "ops"):
        read = await world.api.post(
            f"{API}/notifications/{notification['id']}/read", headers=world[who].headers
        )
        assert_error(read, 404, "NotFound")
    unread = await world.api.get(
        f"{API}/notifications", params={"unread": "true"}, headers=customer
    )
    assert notification["id"] in [n["id"] for n in unread.json()["data"]]
    read = await world.api.post(f"{API}/notifications/{notification['id']}/read", headers=customer)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None


async def test_a_customer_user_tied_to_no_customer_sees_no_orders(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    orphan = await world.add_person("orphan", ["customer"], customer_id=None)

    # Staff-only reads already treat it as a customer ...
    lines = await world.api.get(f"{API}/production-lines", headers=orphan.headers)
    assert_error(lines, 403, "Forbidden")
    # ... so must the reads of orders and customers: it has no orders of its own to see.
    listed = await world.api.get(
        f"{API}/orders", params={"customer_id": world.customer_id}, headers=orphan.headers
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == [], listed.text
    detail = await world.api.get(f"{API}/orders/{order_no}", headers=orphan.headers)
    assert_error(detail, 404, "NotFound")
    customers = await world.api.get(f"{API}/customers", headers=orphan.headers)
    assert customers.json()["data"] == [], customers.text
