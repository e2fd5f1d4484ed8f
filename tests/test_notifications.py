"""Notifications on every channel, through the real worker, database and network.

In-app notices are read through the API; e-mail goes to a local SMTP server started here;
webhooks go over loopback HTTP to receivers served here, which check the signature the way a
subscriber would. The notification workflow is started directly, as the order workflow does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select, update
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from activities import all_activities
from activities.carriers import BuiltinCarrier
from activities.notifications import NoticeRequest
from config import Settings
from db.models import Notification, User
from tests.factories import World
from tests.live import serve
from worker import build_worker
from workflows.notifications import (
    NotificationInput,
    NotificationWorkflow,
    notification_workflow_id,
    send_notification,
)

# Deliveries in these tests: three tries, 0.2 s then 0.4 s apart.
MAX_ATTEMPTS = 3
RETRY_INITIAL = 0.2


async def send(
    client: Client, notice: NoticeRequest, task_queue: str, *, max_attempts: int = MAX_ATTEMPTS
) -> str:
    """Run the notification to the end: every delivery sent or given up on."""
    result: str = await client.execute_workflow(
        NotificationWorkflow.run,
        NotificationInput(notice, max_attempts, RETRY_INITIAL),
        # A run of its own each time, so a test may send the same notice twice.
        id=f"{notification_workflow_id(notice.key)}-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
        execution_timeout=timedelta(seconds=60),
    )
    return result


def order_notice(order_no: str, event: str = "shipped", **fields: Any) -> NoticeRequest:
    return NoticeRequest(
        key=f"{order_no}:{event}",
        event=event,
        order_no=order_no,
        subject=f"{order_no}: {event}",
        body=f"Your order {order_no} is {event}.",
        **fields,
    )


async def inbox(world: World, who: str, **params: Any) -> dict[str, Any]:
    response = await world.api.get(
        "/api/v1/notifications", params=params, headers=world[who].headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def notices_about(world: World, who: str, order_no: str) -> list[dict[str, Any]]:
    page = await inbox(world, who, limit=200)
    return [n for n in page["data"] if n["order_no"] == order_no]


async def rows_with_key(world: World, prefix: str) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.key.startswith(prefix))
        )
    return int(count or 0)


@pytest.fixture
async def queue(world: World, settings: Settings, temporal_client: Client) -> AsyncIterator[str]:
    """A task queue with a worker of the test's own. Notification runs stay off the session's
    queue, whose every history the replay test reads back as an order."""
    task_queue = f"notify-{uuid.uuid4().hex[:8]}"
    activities = all_activities(world.sessions, BuiltinCarrier(), settings)
    async with build_worker(temporal_client, settings, activities, task_queue=task_queue):
        yield task_queue


# ------------------------------------------------------------------ in-app


async def test_in_app_notices_reach_named_users_roles_and_the_orders_customer(
    world: World, queue: str, temporal_client: Client
) -> None:
    order_no = await world.new_order()
    notice = order_notice(
        order_no,
        data={"tracking_no": "BC0001", "carrier": "builtin"},
        recipients=[world["sales"].username, world["sup"].username],
        roles=["manager"],
        order_customer=True,
        exclude=[world["sup"].username],
    )
    await send(temporal_client, notice, queue)

    for who in ("sales", "mgr", "mgr2", "customer"):
        [seen] = await notices_about(world, who, order_no)
        assert seen["event"] == "shipped"
        assert seen["subject"] == f"{order_no}: shipped"
        assert seen["body"] == f"Your order {order_no} is shipped."
        assert seen["data"] == {"tracking_no": "BC0001", "carrier": "builtin"}
        assert seen["read_at"] is None
    # Excluded, not addressed, or the customer of another order.
    for who in ("sup", "sup2", "ops", "log", "stranger"):
        assert await notices_about(world, who, order_no) == []

    # The same event again (a retried activity, a replayed order) adds nothing anywhere.
    rows = await rows_with_key(world, notice.key)
    await send(temporal_client, notice, queue)
    assert await rows_with_key(world, notice.key) == rows
    assert len(await notices_about(world, "customer", order_no)) == 1


async def test_users_page_through_and_mark_read_only_their_own_notices(
    world: World, queue: str, temporal_client: Client
) -> None:
    order_no = await world.new_order()
    customer = [world["customer"].username]
    await send(
        temporal_client,
        order_notice(order_no, "approved", recipients=customer),
        queue,
    )
    await send(temporal_client, order_notice(order_no, "shipped", recipients=customer), queue)

    first = await inbox(world, "customer", limit=1)
    [newest] = first["data"]
    assert newest["event"] == "shipped"
    assert first["next_cursor"]
    second = await inbox(world, "customer", limit=1, cursor=first["next_cursor"])
    [older] = second["data"]
    assert older["event"] == "approved"
    assert second["next_cursor"] is None

    read = await world.api.post(
        f"/api/v1/notifications/{older['id']}/read", headers=world["customer"].headers
    )
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at
    again = await world.api.post(
        f"/api/v1/notifications/{older['id']}/read", headers=world["customer"].headers
    )
    assert again.status_code == 200
    assert again.json()["read_at"] == read_at
    unread = await inbox(world, "customer", unread="true")
    assert [n["id"] for n in unread["data"]] == [newest["id"]]

    # Someone else's notice is not there to read, and stays unread.
    theirs = await world.api.post(
        f"/api/v1/notifications/{newest['id']}/read", headers=world["stranger"].headers
    )
    assert theirs.status_code == 404
    assert theirs.json()["error"] == "NotFound"
    assert (await inbox(world, "customer", unread="true"))["data"][0]["id"] == newest["id"]
    assert (await inbox(world, "stranger"))["data"] == []


# ------------------------------------------------------------------ e-mail


class Mailbox:
    """The SMTP server's side: every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_email_goes_to_each_recipient_with_an_address(
    world: World, settings: Settings, temporal_client: Client
) -> None:
    emails = {
        "sales": f"sales-{world.tag}@example.test",
        "customer": f"buyer-{world.tag}@example.test",
    }
    async with world.sessions.begin() as session:
        for who, email in emails.items():
            await session.execute(
                update(User).where(User.username == world[who].username).values(email=email)
            )
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    mail_settings = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_from": "orders@orderflow.example.test",
        }
    )
    task_queue = f"notify-mail-{uuid.uuid4().hex[:8]}"
    activities = all_activities(world.sessions, BuiltinCarrier(), mail_settings)
    order_no = await world.new_order()
    # The manager has no address: an in-app notice only.
    notice = order_notice(
        order_no,
        "delivered",
        order_customer=True,
        recipients=[world["sales"].username, world["mgr"].username],
    )
    try:
        async with build_worker(temporal_client, mail_settings, activities, task_queue=task_queue):
            await send(temporal_client, notice, task_queue)
    finally:
        smtp.stop()

    by_address = {message["To"]: message for message in mailbox.messages}
    assert sorted(by_address) == sorted(emails.values())
    for message in by_address.values():
        assert message["From"] == "orders@orderflow.example.test"
        assert message["Subject"] == f"{order_no}: delivered"
        assert message["X-Orderflow-Event"] == "delivered"
        assert message.get_content().strip() == f"Your order {order_no} is delivered."
        assert message["Message-ID"].endswith("@orderflow.example.test>")
    assert len({m["Message-ID"] for m in mailbox.messages}) == 2
    assert len(await notices_about(world, "mgr", order_no)) == 1

    async with world.sessions() as session:
        rows = list(
            await session.scalars(
                select(Notification).where(
                    Notification.key.startswith(notice.key), Notification.channel == "email"
                )
            )
        )
    assert sorted((r.target, r.status, r.attempts) for r in rows) == sorted(
        (email, "sent", 1) for email in emails.values()
    )


# ------------------------------------------------------------------ webhooks


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
            return Response("receiver under maintenance" if answer >= 500 else "", answer)

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
    queue: str,
    temporal_client: Client,
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
    await send(temporal_client, notice, queue)

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
    queue: str,
    temporal_client: Client,
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
    await send(temporal_client, notice, queue)

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
    queue: str,
    temporal_client: Client,
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
    await send(temporal_client, notice, queue)

    assert [a.answered for a in down.about(notice.key)] == [500] * MAX_ATTEMPTS
    [record] = await webhooks.deliveries(failing["id"])
    assert (record["status"], record["attempts"], record["sent_at"]) == ("failed", 3, None)
    assert "answered 500" in record["last_error"]
    assert "receiver under maintenance" in record["last_error"]
    [record] = await webhooks.deliveries(unreachable["id"])
    assert (record["status"], record["attempts"]) == ("failed", 3)
    assert "could not reach" in record["last_error"]


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


# ------------------------------------------------------------------ from another workflow


@workflow.defn(sandboxed=False)
class AnnouncesTwice:
    """Stands in for the order workflow: announces one event twice and finishes at once."""

    @workflow.run
    async def run(self, notice: NoticeRequest) -> None:
        for _ in range(2):
            await send_notification(
                notice, max_attempts=MAX_ATTEMPTS, initial_interval_seconds=RETRY_INITIAL
            )


async def test_a_workflow_sends_a_notification_without_waiting_for_it(
    world: World, settings: Settings, temporal_client: Client
) -> None:
    task_queue = f"notify-child-{uuid.uuid4().hex[:8]}"
    order_no = await world.new_order()
    notice = order_notice(order_no, "completed", order_customer=True)
    activities = all_activities(world.sessions, BuiltinCarrier(), settings)
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[AnnouncesTwice, NotificationWorkflow],
        activities=activities,
    ):
        await temporal_client.execute_workflow(
            AnnouncesTwice.run, notice, id=f"announce-{order_no}", task_queue=task_queue
        )
        child = temporal_client.get_workflow_handle(notification_workflow_id(notice.key))
        await child.result()

    [seen] = await notices_about(world, "customer", order_no)
    assert seen["event"] == "completed"
