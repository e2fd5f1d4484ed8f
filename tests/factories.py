"""Typed factories for test data, and a ``World`` that plays every role through the HTTP API."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security import issue_token
from config import Settings
from db.models import Customer, Order, Product, ProductionLine, RoutingStep, User
from domain.passwords import hash_password
from domain.signatures import sign_timestamped

# Hashing is deliberately slow; every test user shares one hash of this password.
TEST_PASSWORD = "test-pass"
_PASSWORD_HASH = hash_password(TEST_PASSWORD)

UNIT_PRICE = Decimal("100.00")
DEFAULT_ROUTING = ["prepare", "assemble", "inspect"]
# Quantities of the test product (100.00 CNY each) that need one, two and three review levels.
ONE_LEVEL_QTY, TWO_LEVEL_QTY, THREE_LEVEL_QTY = 10, 200, 1500


T = TypeVar("T")


async def eventually(
    read: Callable[[], Awaitable[T]], check: Callable[[T], bool], timeout: float = 30
) -> T:
    """Poll ``read`` until ``check`` holds for what it returns: for effects that reach the
    record asynchronously (signals, notifications, timers). Fails naming what was last seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if check(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened; last seen: {value}")
        await asyncio.sleep(0.2)


@dataclass
class Person:
    username: str
    roles: list[str]
    headers: dict[str, str]


@dataclass
class World:
    api: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    tag: str
    customer_id: int = 0
    sku: str = ""
    line: str = ""
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Person:
        return self.people[name]

    # ------------------------------------------------------------------ rows

    async def add_customer(self, *, credit_limit: str = "10000000", active: bool = True) -> int:
        async with self.sessions.begin() as session:
            customer = Customer(
                code=f"C-{self.tag}-{uuid.uuid4().hex[:8]}".upper(),
                name=f"Customer {self.tag}",
                credit_limit=Decimal(credit_limit),
                active=active,
            )
            session.add(customer)
            await session.flush()
            return customer.id

    async def add_product(
        self,
        *,
        price: Decimal = UNIT_PRICE,
        routing: list[str] | None = None,
        active: bool = True,
        stock: int = 0,
        reorder_point: int = 0,
        lines: list[str] | None = None,
        category: str = "general",
    ) -> str:
        """A product made only on ``lines`` (by default this test's own line), so that tests
        never compete for the same line calendar."""
        sku = f"SKU-{self.tag}-{uuid.uuid4().hex[:8]}".upper()
        async with self.sessions.begin() as session:
            session.add(
                Product(
                    sku=sku,
                    name=f"Test product {sku}",
                    unit_price=price,
                    stock_on_hand=stock,
                    reorder_point=reorder_point,
                    category=category,
                    line_codes=lines if lines is not None else [self.line],
                    active=active,
                    routing=[
                        RoutingStep(seq=i, name=name, minutes_per_unit=Decimal(10))
                        for i, name in enumerate(routing or DEFAULT_ROUTING, start=1)
                    ],
                )
            )
        return sku

    async def add_line(self, units_per_hour: str | Decimal = "60", *, name: str = "") -> str:
        code = f"L-{self.tag}-{uuid.uuid4().hex[:8]}".upper()
        async with self.sessions.begin() as session:
            session.add(
                ProductionLine(
                    code=code,
                    name=name or f"Test line {code}",
                    units_per_hour=Decimal(units_per_hour),
                    active=True,
                )
            )
        return code

    async def product(self, sku: str) -> dict[str, Any]:
        """The product as ``GET /products`` shows it."""
        response = await self.api.get("/api/v1/products", headers=self["ops"].headers)
        assert response.status_code == 200, response.text
        return next(p for p in response.json()["data"] if p["sku"] == sku)

    async def add_person(
        self, name: str, roles: list[str], *, customer_id: int | None = None
    ) -> Person:
        username = f"{name}-{self.tag}"
        async with self.sessions.begin() as session:
            session.add(
                User(
                    username=username,
                    full_name=name,
                    password_hash=_PASSWORD_HASH,
                    roles=roles,
                    customer_id=customer_id,
                    active=True,
                )
            )
        token = issue_token(username, self.settings.jwt_secret, self.settings.access_token_ttl)
        person = Person(username, roles, {"Authorization": f"Bearer {token}"})
        self.people[name] = person
        return person

    async def rows_for(self, model: Any, order_no: str) -> int:
        """How many rows of ``model`` (a table with an ``order_id``) belong to the order."""
        async with self.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(model)
                .join(Order, Order.id == model.order_id)
                .where(Order.order_no == order_no)
            )
        return int(count or 0)

    # ------------------------------------------------------------------ orders through the API

    async def order_nos(self, customer_id: int) -> list[str]:
        """Order numbers of the customer's orders as ops lists them, newest first."""
        response = await self.api.get(
            "/api/v1/orders",
            params={"customer_id": customer_id, "limit": 200},
            headers=self["ops"].headers,
        )
        assert response.status_code == 200, response.text
        return [order["order_no"] for order in response.json()["data"]]

    async def create_order(
        self,
        quantity: int = ONE_LEVEL_QTY,
        *,
        by: str = "sales",
        lines: list[dict[str, Any]] | None = None,
        customer_id: int | None = None,
        idempotency_key: str | None = None,
        api: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        headers = dict(self[by].headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = {
            "customer_id": customer_id or self.customer_id,
            "lines": lines or [{"sku": self.sku, "quantity": quantity}],
        }
        return await (api or self.api).post("/api/v1/orders", json=body, headers=headers)

    async def new_order(self, quantity: int = ONE_LEVEL_QTY, **kwargs: Any) -> str:
        response = await self.create_order(quantity, **kwargs)
        assert response.status_code == 201, response.text
        order_no: str = response.json()["order_no"]
        return order_no

    async def order(self, order_no: str, *, as_: str = "ops") -> dict[str, Any]:
        response = await self.api.get(f"/api/v1/orders/{order_no}", headers=self[as_].headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_for(self, order_no: str, status: str, *, timeout: float = 30) -> dict[str, Any]:
        """Poll the order until it reaches ``status``; fail with where it is stuck otherwise."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            order = await self.order(order_no)
            if order["status"] == status:
                return order
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{order_no} is {order['status']}, never became {status}")
            await asyncio.sleep(0.2)

    async def act(
        self, order_no: str, action: str, *, as_: str, json_body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.api.post(
            f"/api/v1/orders/{order_no}/{action}", json=json_body, headers=self[as_].headers
        )

    async def decide(
        self, order_no: str, *, as_: str, decision: str = "approve", comment: str | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"decision": decision}
        if comment is not None:
            body["comment"] = comment
        return await self.act(order_no, "decisions", as_=as_, json_body=body)

    async def approve_levels(self, order_no: str, approvers: list[str]) -> dict[str, Any]:
        await self.wait_for(order_no, "UNDER_REVIEW")
        body: dict[str, Any] = {}
        for approver in approvers:
            response = await self.decide(order_no, as_=approver)
            assert response.status_code == 200, response.text
            body = response.json()
        return body

    async def report(self, order_no: str, step: str, event: str, **extra: Any) -> httpx.Response:
        return await self.act(
            order_no,
            "production-events",
            as_="prod",
            json_body={"step": step, "event": event, **extra},
        )

    async def finish_production(self, order_no: str) -> dict[str, Any]:
        """Every step not yet done, of every open work order, started and completed with no
        scrap."""
        order = await self.wait_for(order_no, "IN_PRODUCTION")
        for work_order in order["production"]["work_orders"]:
            if work_order["status"] != "open":
                continue
            extra = {"work_order_no": work_order["work_order_no"]}
            for step in work_order["steps"]:
                if step["status"] == "pending":
                    response = await self.report(order_no, step["name"], "started", **extra)
                    assert response.status_code == 200, response.text
                if step["status"] in ("pending", "started"):
                    response = await self.report(order_no, step["name"], "completed", **extra)
                    assert response.status_code == 200, response.text
        return await self.wait_for(order_no, "AWAITING_SHIPMENT")

    async def shipped_order(self, quantity: int = ONE_LEVEL_QTY) -> tuple[str, str]:
        """An order approved, made and handed to the carrier: its number and tracking number."""
        order_no = await self.new_order(quantity)
        await self.approve_levels(order_no, ["sup"])
        order = await self.finish_production(order_no)
        shipped = await self.act(order_no, "dispatch", as_="log")
        assert shipped.status_code == 200, shipped.text
        return order_no, order["shipment"]["tracking_no"]

    async def carrier_event(
        self,
        tracking_no: str,
        status: str,
        *,
        location: str | None = "Shanghai hub",
        occurred_at: datetime | None = None,
        detail: str | None = None,
        secret: str | None = None,
        signed_at: datetime | None = None,
    ) -> httpx.Response:
        """Post a tracking event signed the way the carrier signs it: over the time of signing
        (``signed_at``, by default now) and the body."""
        body = json.dumps(
            {
                "tracking_no": tracking_no,
                "status": status,
                "location": location,
                "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
                "detail": detail,
            }
        ).encode()
        timestamp = int((signed_at or datetime.now(UTC)).timestamp())
        signature = sign_timestamped(
            body, timestamp, secret or self.settings.carrier_webhook_secret
        )
        return await self.api.post(
            "/api/v1/carrier-events",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Carrier-Timestamp": str(timestamp),
                "X-Carrier-Signature": signature,
            },
        )


async def make_world(
    sessions: async_sessionmaker[AsyncSession], api: httpx.AsyncClient, settings: Settings
) -> World:
    world = World(api=api, sessions=sessions, settings=settings, tag=uuid.uuid4().hex[:6])
    world.customer_id = await world.add_customer()
    world.line = await world.add_line("60")
    world.sku = await world.add_product()
    for name, roles in [
        ("sales", ["sales"]),
        ("sup", ["supervisor"]),
        ("sup2", ["supervisor"]),
        ("mgr", ["manager"]),
        ("mgr2", ["manager"]),
        ("dir", ["director"]),
        ("fin", ["finance"]),
        ("ops", ["ops"]),
        ("prod", ["production"]),
        ("log", ["logistics"]),
        ("admin", ["admin"]),
    ]:
        await world.add_person(name, roles)
    await world.add_person("customer", ["customer"], customer_id=world.customer_id)
    other = await world.add_customer()
    await world.add_person("stranger", ["customer"], customer_id=other)
    return world
