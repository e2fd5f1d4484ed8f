"""A deployment that starts from an empty database: the first admin from the bootstrap
command, then everything else through the API alone (users, customer, line, product, the
goods received into stock), up to an order COMPLETED."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client

from activities.carriers import BuiltinCarrier
from config import Settings
from db.admin import create_admin
from db.session import create_session_factory
from tests.factories import Person, World
from tests.fresh_database import empty_database_url
from worker import build_worker, worker_activities, worker_engine

__all__ = ["empty_database_url"]  # a fixture, used by name

API = "/api/v1"
PASSWORD = "a-long-first-password"


async def sign_in_as(world: World, name: str, username: str) -> None:
    response = await world.api.post(
        f"{API}/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    me = await world.api.get(f"{API}/me", headers=headers)
    world.people[name] = Person(username, me.json()["roles"], headers)


async def created(world: World, path: str, body: dict[str, Any], *, as_: str) -> Any:
    response = await world.api.post(f"{API}{path}", json=body, headers=world[as_].headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_admin_brings_an_empty_database_to_a_completed_order(
    empty_database_url: str, settings: Settings, temporal_client: Client, api_with: Any
) -> None:
    fresh = settings.model_copy(
        update={
            "database_url": empty_database_url,
            "task_queue": f"orders-fresh-{uuid.uuid4().hex[:8]}",
        }
    )
    engine = worker_engine(fresh)
    sessions = create_session_factory(engine)
    async with sessions.begin() as session:
        assert await create_admin(session, "root", "Administrator", PASSWORD)
    worker = build_worker(
        temporal_client, fresh, worker_activities(sessions, BuiltinCarrier(), fresh)
    )
    try:
        async with (
            worker,
            api_with(**fresh.model_dump(include={"database_url", "task_queue"})) as api,
        ):
            world = World(api=api, sessions=sessions, settings=fresh, tag="fresh")
            await sign_in_as(world, "admin", "root")

            customer = await created(
                world,
                "/customers",
                {"code": "NORTHWIND", "name": "Northwind", "credit_limit": "100000.00"},
                as_="admin",
            )
            for name, roles, extra in [
                ("sales", ["sales"], {}),
                ("sup", ["supervisor"], {}),
                ("log", ["logistics"], {}),
                ("ops", ["ops"], {}),
                ("customer", ["customer"], {"customer_id": customer["id"]}),
            ]:
                body = {"username": f"{name}-1", "full_name": name, "password": PASSWORD}
                await created(world, "/users", {**body, "roles": roles, **extra}, as_="admin")
                await sign_in_as(world, name, f"{name}-1")

            line = await created(
                world,
                "/production-lines",
                {"code": "LINE-A", "name": "Line A", "units_per_hour": "60.00"},
                as_="ops",
            )
            product = await created(
                world,
                "/products",
                {
                    "sku": "VALVE-20",
                    "name": "Ball valve DN20",
                    "unit_price": "86.50",
                    "line_codes": [line["code"]],
                    "routing": [{"name": "assemble", "minutes_per_unit": "2.00"}],
                },
                as_="ops",
            )
            # A new product has nothing on the shelf: the warehouse books the goods received.
            receipt = await created(
                world,
                "/stock/receipts",
                {"sku": product["sku"], "quantity": 100, "reference": "DN-0001"},
                as_="log",
            )
            assert receipt["stock"]["stock_on_hand"] == 100, receipt

            world.customer_id = customer["id"]
            world.sku = product["sku"]
            order_no = await world.new_order(10)
            order = await world.wait_for(order_no, "UNDER_REVIEW")
            assert order["total"] == "865.00"
            await world.approve_levels(order_no, ["sup"])
            awaiting = await world.wait_for(order_no, "AWAITING_SHIPMENT")
            shipped = await world.act(order_no, "dispatch", as_="log")
            assert shipped.status_code == 200, shipped.text
            tracking_no = awaiting["shipment"]["tracking_no"]
            delivered = await world.carrier_event(tracking_no, "delivered")
            assert delivered.status_code in (200, 202), delivered.text
            await world.wait_for(order_no, "DELIVERED")
            confirmed = await world.act(order_no, "confirm-delivery", as_="customer")
            assert confirmed.status_code == 200, confirmed.text
            completed = await world.wait_for(order_no, "COMPLETED")
            assert [step["to_status"] for step in completed["history"]][-1] == "COMPLETED"
    finally:
        await engine.dispose()
