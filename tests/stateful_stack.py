"""The running product as the stateful property test reaches it from Hypothesis's thread.

Hypothesis drives a state machine synchronously, while the app, the worker and the Temporal
client live on the test session's event loop. So the machine runs in a thread of its own and
reaches the product the way outsiders do: over real loopback HTTP (the app served by
``tests.live``), through PostgreSQL on a connection of its own, and through the Temporal
client by handing each query to the session's loop. Every HTTP call is timed and checked
against the bound every call on an order must answer within, and against answering 5xx.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import psycopg
from temporalio.client import Client

from chaos.invariants import HistoryRow
from config import Settings
from domain.signatures import sign_timestamped
from tests.factories import World
from tests.hostile import json_body
from tests.order_oracle import settled
from workflows.messages import OrderState, workflow_id_for
from workflows.order import OrderWorkflow

T = TypeVar("T")

# Beyond UPDATE_WAIT, what an answer may take to be rendered and to travel.
ANSWER_SLACK_SECONDS = 2.0
# An order settles (PostgreSQL and the workflow agree, nothing of its own left to do) within
# this long after a request, or it counts as stuck.
SETTLE_SECONDS = 20.0


@dataclass
class Settled:
    """An order once it settled: the workflow's state and the order as ``GET`` shows it."""

    state: OrderState
    order: dict[str, Any]


class OrderStack:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        base_url: str,
        temporal: Client,
        world: World,
        settings: Settings,
    ) -> None:
        self.loop = loop
        self.temporal = temporal
        self.world = world
        self.settings = settings
        self.bound = settings.update_wait.total_seconds() + ANSWER_SLACK_SECONDS
        self.http = httpx.Client(base_url=base_url, timeout=self.bound + 30)
        url = settings.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.db = psycopg.connect(url, autocommit=True)
        self.slowest = 0.0
        # What was asked and answered ("POST decisions 403"), and the statuses orders reached.
        self.answers: Counter[str] = Counter()
        self.reached: Counter[str] = Counter()

    def close(self) -> None:
        self.http.close()
        self.db.close()

    def on_loop(self, work: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``work`` on the session's event loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    # ------------------------------------------------------------------ HTTP

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request as ``as_``; fails the test on a 5xx or an answer slower than the bound."""
        sent = dict(headers or {})
        if as_ is not None:
            sent.update(self.world[as_].headers)
        content = None
        if body is not None:
            content = json_body(body)
            sent["Content-Type"] = "application/json"
        started = time.monotonic()
        response = self.http.request(method, path, content=content, headers=sent)
        took = time.monotonic() - started
        self._count(f"{method} {_route(path)}", response.status_code, took)
        assert response.status_code < 500, (
            f"{method} {path} answered {response.status_code}: {response.text[:500]}"
        )
        assert took <= self.bound, f"{method} {path} took {took:.1f} s, over {self.bound:.0f} s"
        return response

    def act(self, order_no: str, action: str, *, as_: str, body: Any = None) -> httpx.Response:
        return self.call("POST", f"/api/v1/orders/{order_no}/{action}", as_=as_, body=body)

    def carrier_event(self, body: dict[str, Any]) -> httpx.Response:
        """A tracking event signed the way the carrier signs it."""
        raw = json_body(body)
        stamp = int(time.time())
        signature = sign_timestamped(raw, stamp, self.settings.carrier_webhook_secret)
        started = time.monotonic()
        response = self.http.post(
            "/api/v1/carrier-events",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Carrier-Timestamp": str(stamp),
                "X-Carrier-Signature": signature,
            },
        )
        took = time.monotonic() - started
        self._count(f"POST carrier-events {body['status']}", response.status_code, took)
        assert response.status_code < 500, f"carrier event answered {response.status_code}"
        assert took <= self.bound, f"a carrier event took {took:.1f} s"
        return response

    def _count(self, what: str, status: int, took: float) -> None:
        self.answers[f"{what} {status}"] += 1
        self.slowest = max(self.slowest, took)

    def summary(self) -> str:
        """What the walks did: requests by kind and answer, statuses reached, the slowest."""
        asked = "\n".join(f"  {count:5d}  {what}" for what, count in sorted(self.answers.items()))
        reached = ", ".join(f"{status} {n}" for status, n in self.reached.most_common())
        total = sum(self.answers.values())
        return (
            f"{total} requests, the slowest {self.slowest:.2f} s\n{asked}\n"
            f"statuses reached (order-steps): {reached}"
        )

    def order(self, order_no: str) -> dict[str, Any]:
        response = self.call("GET", f"/api/v1/orders/{order_no}", as_="ops")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    # ------------------------------------------------------------------ the workflow

    def workflow_state(self, order_no: str) -> OrderState:
        handle = self.temporal.get_workflow_handle(workflow_id_for(order_no))
        state: OrderState = self.on_loop(handle.query(OrderWorkflow.state))
        return state

    def settle(self, order_no: str) -> Settled:
        """Wait until the order has nothing of its own left to do and PostgreSQL shows what
        the workflow holds (status and where a hold returns to); fail naming both if it never
        does within ``SETTLE_SECONDS``."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            state = self.workflow_state(order_no)
            order = self.order(order_no)
            agree = (order["status"], order["held_from"]) == (
                state.status.value,
                state.held_from.value if state.held_from else None,
            )
            if agree and settled(state):
                self.reached[order["status"]] += 1
                return Settled(state, order)
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{order_no} never settled in {SETTLE_SECONDS:.0f} s: PostgreSQL says "
                    f"{order['status']} (held from {order['held_from']}), the workflow "
                    f"{state.status.value} (held from {state.held_from}), waiting on "
                    f"{state.waiting_on!r}, fault {state.fault!r}"
                )
            time.sleep(0.1)

    def wait_for_tracking(self, order_no: str, status: str, occurred_at: datetime) -> None:
        """Wait until the workflow took in a tracking event (a signal, so it lands later than
        the API's 202): seen, kept for a resume after a fault, or the order closed."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            state = self.workflow_state(order_no)
            seen = any(_is_event(key, status, occurred_at) for key in state.carrier_seen)
            kept = any(
                e.status == status and e.occurred_at == occurred_at for e in state.unrecorded_events
            )
            if seen or kept or state.status in ("COMPLETED", "CANCELLED"):
                return
            time.sleep(0.05)
        raise AssertionError(f"{order_no} never took in its {status} event of {occurred_at}")

    # ------------------------------------------------------------------ PostgreSQL

    def history(self, order_no: str) -> list[HistoryRow]:
        rows = self.db.execute(
            "SELECT h.seq, h.from_status, h.to_status, h.actor, h.reason "
            "FROM status_history h JOIN orders o ON o.id = h.order_id "
            "WHERE o.order_no = %s ORDER BY h.seq, h.id",
            (order_no,),
        ).fetchall()
        return [HistoryRow(*row) for row in rows]

    def stock(self, sku: str) -> tuple[int, int, dict[str, int]]:
        """On hand, reserved and the sum of each kind of movement of the product."""
        on_hand, reserved = self.db.execute(
            "SELECT stock_on_hand, stock_reserved FROM products WHERE sku = %s", (sku,)
        ).fetchone() or (0, 0)
        moved: dict[str, int] = dict(
            self.db.execute(
                "SELECT kind, sum(quantity)::int FROM stock_movements WHERE sku = %s GROUP BY kind",
                (sku,),
            ).fetchall()
        )
        return on_hand, reserved, moved

    def orders_with_key(self, key: str) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM orders WHERE idempotency_key = %s", (key,)
        ).fetchone()
        return int(row[0]) if row else 0

    def new_product(self, stock: int) -> str:
        return self.on_loop(self.world.add_product(stock=stock))


def _route(path: str) -> str:
    """``/api/v1/orders/SO-2026-000001/hold`` as ``orders/hold``."""
    return re.sub(r"^/api/v1/orders(/[^/]+)?", lambda m: "orders" + ("/*" if m[1] else ""), path)


def _is_event(key: str, status: str, occurred_at: datetime) -> bool:
    """``status@occurred_at``; a per-line order's keys name the shipment first
    (``tracking_no:status@occurred_at``)."""
    seen_status, _, at = key.partition("@")
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return False
    return seen_status.rpartition(":")[2] == status and moment.astimezone(UTC) == occurred_at
