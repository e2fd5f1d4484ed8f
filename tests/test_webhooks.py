"""Webhooks, through the real worker, database and network.

Notices are written to the outbox the way every activity writes them, inside a transaction;
the session's delivery workflows send webhooks over loopback HTTP to receivers served here,
which check the signature the way a subscriber would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from domain.notifications import NoticeRequest
from tests.factories import World
from tests.live import serve
from tests.mail import free_port
from tests.notification_helpers import emit, order_notice, settled_rows

# As the session's settings have it (tests/conftest.py).
MAX_ATTEMPTS = 3


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    signed: bool
    answered: int

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Endpoint:
    """One subscriber: checks signatures with its secret, answers as scripted per delivery."""

    # Answers to one delivery's successive attempts; the last one repeats.
    answers: list[int]
    secret: str = ""
    # What it says when it fails.
    says: str = "receiver under maintenance"
    received: list[Delivery] = field(default_factory=list)

    def about(self, key: str) -> list[Delivery]:
        """What arrived for one event (other tests' orders may post to the same events)."""
        return [d for d in self.received if d.headers.get("idempotency-key", "").startswith(key)]


class Receivers:
    """Subscribers' endpoints on one real server, at ``/hooks/<name>``."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.url = ""

    def add(self, name: str, *answers: int) -> Endpoint:
        self.endpoints[name] = Endpoint(list(answers) or [202])
        return self.endpoints[name]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hooks/{name}")
        async def hook(name: str, request: Request) -> Response:
            endpoint = self.endpoints[name]
            body = await request.body()
            expected = (
                "sha256=" + hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
            )
            signed = hmac.compare_digest(expected, request.headers.get("x-orderflow-signature", ""))
            key = request.headers.get("idempotency-key", "")
            earlier = len([d for d in endpoint.received if d.headers.get("idempotency-key") == key])
            answer = endpoint.answers[min(earlier, len(endpoint.answers) - 1)] if signed else 401
            endpoint.received.append(Delivery(body, dict(request.headers), signed, answer))
            return Response(endpoint.says if answer >= 500 else "", answer)

        return app


class Webhooks:
    """Subscriptions made through the API as ops; all switched off when the test ends, so no
    later test's events go to receivers that are gone."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.made: list[int] = []

    async def subscribe(self, url: str, events: list[str]) -> dict[str, Any]:
        response = await self.world.api.post(
            "/api/v1/webhooks",
            json={"url": url, "events": events},
            headers=self.world["ops"].headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        self.made.append(body["id"])
        return body

    async def connect(self, receivers: Receivers, name: str, events: list[str]) -> dict[str, Any]:
        subscription = await self.subscribe(f"{receivers.url}/hooks/{name}", events)
        receivers.endpoints[name].secret = subscription["secret"]
        return subscription

    async def deactivate(self, subscription_id: int) -> httpx.Response:
        return await self.world.api.delete(
            f"/api/v1/webhooks/{subscription_id}", headers=self.world["ops"].headers
        )

    async def deliveries(self, subscription_id: int) -> list[dict[str, Any]]:
        response = await self.world.api.get(
            f"/api/v1/webhooks/{subscription_id}/deliveries", headers=self.world["ops"].headers
        )
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


@pytest.fixture
async def webhooks(world: World) -> AsyncIterator[Webhooks]:
    hooks = Webhooks(world)
    yield hooks
    for subscription_id in hooks.made:
        await hooks.deactivate(subscription_id)


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    found = Receivers()
    async with serve(found.app()) as url:
        found.url = url
        yield found


async def test_a_webhook_is_signed_and_goes_only_to_active_subscriptions_to_its_event(
    world: World,
    webhooks: Webhooks,
    receivers: Receivers,
) -> None:
    subscriber = receivers.add("erp")
    elsewhere = receivers.add("other-events")
    switched_off = receivers.add("switched-off")
    subscription = await webhooks.connect(receivers, "erp", ["shipped", "delivered"])
    await webhooks.connect(receivers, "other-events", ["completed", "low_stock"])
    off = await webhooks.connect(receivers, "switched-off", ["shipped"])
    deleted = await webhooks.deactivate(off["id"])
    assert deleted.status_code == 204

    order_no = await world.new_order()
    notice = order_notice(order_no, data={"tracking_no": "BC0002"})
    await emit(world, notice)
    await settled_rows(world, notice.key, "webhook")

    [delivery] = subscriber.about(notice.key)
    assert delivery.signed
    assert delivery.answered == 202
    assert delivery.headers["x-orderflow-event"] == "shipped"
    assert delivery.headers["content-type"] == "application/json"
    payload = delivery.payload
    assert payload["key"] == delivery.headers["idempotency-key"]
    assert payload["created_at"]
    assert {k: v for k, v in payload.items() if k not in ("key", "created_at")} == {
        "event": "shipped",
        "order_no": order_no,
        "subject": f"{order_no}: shipped",
        "body": f"Your order {order_no} is shipped.",
        "data": {"tracking_no": "BC0002"},
    }
    assert elsewhere.about(notice.key) == []
    assert switched_off.about(notice.key) == []

    [record] = await webhooks.deliveries(subscription["id"])
    assert record["key"] == payload["key"]
    assert record["order_no"] == order_no
    assert (record["status"], record["attempts"], record["last_error"]) == ("sent", 1, None)
    assert record["sent_at"]
    assert await webhooks.deliveries(off["id"]) == []


async def test_a_failing_receiver_gets_the_same_delivery_again_until_it_accepts(
    world: World,
    webhooks: Webhooks,
    receivers: Receivers,
) -> None:
    flaky = receivers.add("flaky", 503, 503, 202)
    subscription = await webhooks.connect(receivers, "flaky", ["low_stock"])
    notice = NoticeRequest(
        key=f"low-stock-{uuid.uuid4().hex[:8]}",
        event="low_stock",
        order_no=None,
        subject="SKU-1 is below its reorder point",
        body="3 available, reorder point 10.",
    )
    await emit(world, notice)
    await settled_rows(world, notice.key, "webhook")

    attempts = flaky.about(notice.key)
    assert [a.answered for a in attempts] == [503, 503, 202]
    assert all(a.signed for a in attempts)
    assert len({a.headers["idempotency-key"] for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    [record] = await webhooks.deliveries(subscription["id"])
    assert (record["status"], record["attempts"]) == ("sent", 3)
    assert record["order_no"] is None


async def test_a_receiver_that_never_accepts_is_given_up_on_with_the_failure_recorded(
    world: World,
    webhooks: Webhooks,
    receivers: Receivers,
) -> None:
    down = receivers.add("down", 500)
    failing = await webhooks.connect(receivers, "down", ["carrier_exception"])
    # Nothing listens here: every attempt is refused before any HTTP is spoken.
    unreachable = await webhooks.subscribe(
        f"http://127.0.0.1:{free_port()}/hooks", ["carrier_exception"]
    )
    order_no = await world.new_order()
    notice = order_notice(order_no, "carrier_exception", data={"detail": "address not found"})
    await emit(world, notice)
    await settled_rows(world, notice.key, "webhook")

    assert [a.answered for a in down.about(notice.key)] == [500] * MAX_ATTEMPTS
    [record] = await webhooks.deliveries(failing["id"])
    assert (record["status"], record["attempts"], record["sent_at"]) == ("failed", 3, None)
    assert "answered 500" in record["last_error"]
    assert "receiver under maintenance" in record["last_error"]
    [record] = await webhooks.deliveries(unreachable["id"])
    assert (record["status"], record["attempts"]) == ("failed", 3)
    assert "could not reach" in record["last_error"]


async def test_a_receiver_answering_what_the_database_cannot_store_is_still_given_up_on(
    world: World, webhooks: Webhooks, receivers: Receivers
) -> None:
    """Its answer is quoted in the failure, made storable: a NUL byte in it must not keep the
    row pending (and delivered again) for ever."""
    hostile = receivers.add("hostile", 500)
    hostile.says = "down\x00for\x1bgood"
    subscription = await webhooks.connect(receivers, "hostile", ["carrier_exception"])
    order_no = await world.new_order()
    notice = order_notice(order_no, "carrier_exception", data={"detail": "address not found"})
    await emit(world, notice)
    await settled_rows(world, notice.key, "webhook")

    assert [a.answered for a in hostile.about(notice.key)] == [500] * MAX_ATTEMPTS
    [record] = await webhooks.deliveries(subscription["id"])
    assert (record["status"], record["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "down\ufffdfor\ufffdgood" in record["last_error"]


async def test_only_ops_manage_webhooks(world: World, webhooks: Webhooks) -> None:
    made = await webhooks.subscribe("https://erp.example.test/orderflow", ["shipped", "shipped"])
    assert made["events"] == ["shipped"]
    assert made["active"] is True
    assert len(made["secret"]) >= 32

    listed = await world.api.get("/api/v1/webhooks", headers=world["ops"].headers)
    assert listed.status_code == 200
    [mine] = [s for s in listed.json()["data"] if s["id"] == made["id"]]
    assert "secret" not in mine
    assert mine["url"] == "https://erp.example.test/orderflow"
    assert mine["created_by"] == world["ops"].username

    ops = world["ops"].headers
    for body in (
        {"url": "https://erp.example.test/hook", "events": ["teleported"]},
        {"url": "https://erp.example.test/hook", "events": []},
        {"url": "ftp://erp.example.test/hook", "events": ["shipped"]},
        {"url": "not a url", "events": ["shipped"]},
    ):
        refused = await world.api.post("/api/v1/webhooks", json=body, headers=ops)
        assert refused.status_code == 422, body
        assert refused.json()["error"] == "ValidationError"
    missing = 10**9
    assert (await world.api.delete(f"/api/v1/webhooks/{missing}", headers=ops)).status_code == 404
    answer = await world.api.get(f"/api/v1/webhooks/{missing}/deliveries", headers=ops)
    assert answer.status_code == 404

    body = {"url": "https://erp.example.test/hook", "events": ["shipped"]}
    for who in ("sales", "sup", "log", "customer"):
        headers = world[who].headers
        assert (
            await world.api.post("/api/v1/webhooks", json=body, headers=headers)
        ).status_code == 403
        assert (await world.api.get("/api/v1/webhooks", headers=headers)).status_code == 403
        assert (
            await world.api.delete(f"/api/v1/webhooks/{made['id']}", headers=headers)
        ).status_code == 403
    for method, path in (
        ("GET", "/api/v1/webhooks"),
        ("POST", "/api/v1/webhooks"),
        ("GET", f"/api/v1/webhooks/{made['id']}/deliveries"),
        ("GET", "/api/v1/notifications"),
        ("POST", "/api/v1/notifications/1/read"),
    ):
        response = await world.api.request(method, path)
        assert response.status_code == 401, (method, path)
    still = await world.api.get("/api/v1/webhooks", headers=ops)
    assert [s["active"] for s in still.json()["data"] if s["id"] == made["id"]] == [True]
