"""The people and machines around an order, played over the HTTP API with timed calls.

Every call goes through :class:`Api`, which times it under its kind (create, decide,
production report, dispatch, carrier event, confirm, GET order). A call the product refuses
fails the bench at once, naming the order; ``429``/``503`` answers are waited out as their
``Retry-After`` asks (the wait counts in the call's latency) and counted as retries.

Where a step must wait for the workflow (after create until UNDER_REVIEW, after the last
approval until IN_PRODUCTION or AWAITING_SHIPMENT, after production until AWAITING_SHIPMENT,
after the last carrier event until DELIVERED) the actor polls ``GET /orders/{no}`` at a light
interval; an order that does not move within ``stuck_after`` seconds fails the bench with its
number and status.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.setup_data import BENCH_PASSWORD, MADE_TO_ORDER_SKU, STOCK_SKU

API = "/api/v1"
CALL_KINDS = [
    "create",
    "decide",
    "production report",
    "dispatch",
    "carrier event",
    "confirm",
    "GET order",
]
APPROVER_ROLES = ["supervisor", "manager", "director"]
CARRIER_STATUSES = ["in_transit", "out_for_delivery", "delivered"]
# Quantities of a 100.00 CNY product whose totals need 1, 2 and 3 review levels under the
# default approval policy (< 10,000; 10,000–99,999.99; ≥ 100,000 CNY).
QUANTITY_FOR_LEVELS = {1: 10, 2: 200, 3: 1500}
# Statuses an order of the happy path never reaches: seeing one fails the bench at once.
_OFF_PATH = {"REJECTED", "CANCELLED", "ON_HOLD"}
_MAX_RETRIES = 30


class BenchFailure(RuntimeError):
    """An order left the happy path or got stuck; the message names it."""


@dataclass
class Latencies:
    """Seconds per call, by kind, and how many answers asked the bench to come back later."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    retries: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, seconds: float) -> None:
        self.samples[kind].append(seconds)


@dataclass(frozen=True)
class OrderPlan:
    """One order of the mix: how many review levels its total needs, and whether it is made
    to order (production) or served from stock."""

    index: int
    review_levels: int
    made_to_order: bool

    @property
    def sku(self) -> str:
        return MADE_TO_ORDER_SKU if self.made_to_order else STOCK_SKU

    @property
    def quantity(self) -> int:
        return QUANTITY_FOR_LEVELS[self.review_levels]


@dataclass(frozen=True)
class OrderOutcome:
    order_no: str
    plan: OrderPlan
    seconds: float
    polls: int


def carrier_headers(body: bytes, secret: str) -> dict[str, str]:
    """Signed as the carrier signs: ``X-Carrier-Timestamp`` (unix seconds, now) and
    ``X-Carrier-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``."""
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Carrier-Timestamp": timestamp,
        "X-Carrier-Signature": "sha256=" + digest.hexdigest(),
    }


class Api:
    """One shared HTTP client, the bench users' bearer tokens, and the latency record."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        carrier_secret: str,
        *,
        poll_interval: float = 0.075,
        stuck_after: float = 120.0,
    ) -> None:
        self.client = client
        self.carrier_secret = carrier_secret
        self.poll_interval = poll_interval
        self.stuck_after = stuck_after
        self.headers: dict[str, dict[str, str]] = {}
        self.latencies = Latencies()

    def reset_latencies(self) -> Latencies:
        """Start a new record (a new phase); returns the previous one."""
        previous, self.latencies = self.latencies, Latencies()
        return previous

    async def sign_in(self, usernames: dict[str, str]) -> None:
        """Sign every bench user in once (``POST /auth/token``) and keep its bearer token."""
        for role, username in usernames.items():
            response = await self.client.post(
                f"{API}/auth/token", data={"username": username, "password": BENCH_PASSWORD}
            )
            if response.status_code != 200:
                raise BenchFailure(f"sign-in of {username} answered {response.status_code}")
            token = response.json()["access_token"]
            self.headers[role] = {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        order_no: str,
        role: str | None = None,
        expect: int = 200,
        **request: Any,
    ) -> Any:
        """One timed request; the JSON answer, or :class:`BenchFailure` for any other status."""
        headers = dict(request.pop("headers", None) or {})
        if role is not None:
            headers.update(self.headers[role])
        started = time.perf_counter()
        for _attempt in range(_MAX_RETRIES):
            response = await self.client.request(method, path, headers=headers, **request)
            if response.status_code not in (429, 503):
                break
            self.latencies.retries[kind] += 1
            await asyncio.sleep(_retry_after(response))
        self.latencies.add(kind, time.perf_counter() - started)
        if response.status_code != expect:
            raise BenchFailure(
                f"{order_no}: {kind} ({method} {path}) answered {response.status_code}: "
                f"{response.text[:300]}"
            )
        return response.json()

    async def get_order(self, order_no: str) -> dict[str, Any]:
        order: dict[str, Any] = await self.call(
            "GET order", "GET", f"{API}/orders/{order_no}", order_no=order_no, role="sales"
        )
        return order

    async def wait_for(
        self, order: dict[str, Any], targets: set[str], polls: list[int]
    ) -> dict[str, Any]:
        """Poll until the order (last seen as ``order``) reaches one of ``targets``."""
        order_no = order["order_no"]
        deadline = time.monotonic() + self.stuck_after
        while order["status"] not in targets:
            if order["status"] in _OFF_PATH:
                raise BenchFailure(
                    f"{order_no} went {order['status']} while waiting for {sorted(targets)}"
                )
            if time.monotonic() > deadline:
                raise BenchFailure(
                    f"{order_no} is stuck in {order['status']}: not {'/'.join(sorted(targets))} "
                    f"after {self.stuck_after:g}s"
                )
            await asyncio.sleep(self.poll_interval)
            order = await self.get_order(order_no)
            polls[0] += 1
        return order

    async def act(
        self, kind: str, order_no: str, action: str, role: str, body: Any = None
    ) -> dict[str, Any]:
        order: dict[str, Any] = await self.call(
            kind,
            "POST",
            f"{API}/orders/{order_no}/{action}",
            order_no=order_no,
            role=role,
            json=body,
        )
        return order

    async def carrier_event(self, order_no: str, tracking_no: str, status: str) -> None:
        """A tracking event signed the way the carrier signs it."""
        body = json.dumps(
            {
                "tracking_no": tracking_no,
                "status": status,
                "location": "Bench hub",
                "occurred_at": datetime.now(UTC).isoformat(),
            }
        ).encode()
        await self.call(
            "carrier event",
            "POST",
            f"{API}/carrier-events",
            order_no=order_no,
            expect=202,
            content=body,
            headers=carrier_headers(body, self.carrier_secret),
        )


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "0.2")), 0.05), 5.0)
    except ValueError:
        return 0.2


async def create_order(api: Api, plan: OrderPlan, customer_id: int, key: str) -> dict[str, Any]:
    """Sales enters the order (``Idempotency-Key``: ``key``); the order as answered."""
    order: dict[str, Any] = await api.call(
        "create",
        "POST",
        f"{API}/orders",
        order_no=f"order #{plan.index}",
        role="sales",
        expect=201,
        json={"customer_id": customer_id, "lines": [{"sku": plan.sku, "quantity": plan.quantity}]},
        headers={"Idempotency-Key": key},
    )
    return order


async def run_order(api: Api, plan: OrderPlan, customer_id: int, key: str) -> OrderOutcome:
    """Walk one order from entry to COMPLETED, each role acting as soon as it may."""
    started = time.perf_counter()
    polls = [0]
    order = await create_order(api, plan, customer_id, key)
    order_no = order["order_no"]
    order = await api.wait_for(order, {"UNDER_REVIEW"}, polls)
    for role in APPROVER_ROLES[: plan.review_levels]:
        order = await api.act("decide", order_no, "decisions", role, {"decision": "approve"})
    order = await api.wait_for(order, {"IN_PRODUCTION", "AWAITING_SHIPMENT"}, polls)
    if order["status"] == "IN_PRODUCTION":
        order = await _report_production(api, order)
        order = await api.wait_for(order, {"AWAITING_SHIPMENT"}, polls)
    order = await api.act("dispatch", order_no, "dispatch", "logistics")
    tracking_no = (order.get("shipment") or {}).get("tracking_no")
    if not tracking_no:
        raise BenchFailure(f"{order_no} is {order['status']} with no tracking number")
    for status in CARRIER_STATUSES:
        await api.carrier_event(order_no, tracking_no, status)
    order = await api.wait_for(order, {"DELIVERED"}, polls)
    order = await api.act("confirm", order_no, "confirm-delivery", "customer")
    order = await api.wait_for(order, {"COMPLETED"}, polls)
    return OrderOutcome(order_no, plan, time.perf_counter() - started, polls[0])


async def _report_production(api: Api, order: dict[str, Any]) -> dict[str, Any]:
    """``completed`` for every open step of every work order, in routing order."""
    order_no = order["order_no"]
    work_orders = (order.get("production") or {}).get("work_orders") or []
    if not work_orders:
        raise BenchFailure(f"{order_no} is IN_PRODUCTION without work orders")
    for work_order in work_orders:
        for step in work_order["steps"]:
            if step["status"] in ("completed", "skipped"):
                continue
            order = await api.act(
                "production report",
                order_no,
                "production-events",
                "production",
                {
                    "step": step["name"],
                    "event": "completed",
                    "work_order_no": work_order["work_order_no"],
                },
            )
    return order
