"""The carrier simulator on its own: its HTTP API, the worker's adapter for it, and the
tracking events it posts to a stand-in for our API, all over real loopback HTTP."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from activities.carriers import SimulatedCarrier
from carrier_sim.app import create_app
from carrier_sim.settings import SimulatorSettings
from domain.signatures import timestamped_signature_refusal
from tests.live import serve

SECRET = "test-carrier-secret"
STEP = 0.1
WAIT_SECONDS = 5.0


@dataclass
class Received:
    body: bytes
    signature: str
    timestamp: str | None
    answered: int
    received_at: float = field(default_factory=time.time)

    @property
    def event(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.body)
        return payload


@dataclass
class Receiver:
    """Plays our API's carrier-events endpoint: records every post and answers as scripted.

    One serves the whole module; tests tell their posts apart by tracking number.
    """

    url: str = ""
    # Answers for a tracking number's next posts, in order; 202 once its script runs out.
    scripts: dict[str, list[int]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/v1/carrier-events")
        async def carrier_event(request: Request) -> Response:
            body = await request.body()
            script = self.scripts.get(json.loads(body)["tracking_no"], [])
            answer = script.pop(0) if script else 202
            signature = request.headers.get("X-Carrier-Signature", "")
            timestamp = request.headers.get("X-Carrier-Timestamp")
            self.received.append(Received(body, signature, timestamp, answer))
            return Response(status_code=answer)

        return app

    def posts(self, tracking_no: str) -> list[Received]:
        return [post for post in self.received if post.event["tracking_no"] == tracking_no]

    def accepted(self, tracking_no: str) -> list[Received]:
        return [post for post in self.posts(tracking_no) if post.answered == 202]

    def statuses(self, tracking_no: str) -> list[str]:
        return [post.event["status"] for post in self.accepted(tracking_no)]


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        receiver.url = url
        yield receiver


@asynccontextmanager
async def simulator(receiver: Receiver, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A simulator posting to ``receiver``, fast-paced; every behaviour knob set explicitly
    so that CARRIER_SIM_* variables in the developer's shell cannot change the outcome."""
    values: dict[str, Any] = {
        "api_url": receiver.url,
        "secret": SECRET,
        "step_seconds": STEP,
        "retry_backoff": 0.02,
        "exception_every": 0,
        "duplicates": False,
        "cancel_delay": 0.0,
        **overrides,
    }
    settings = SimulatorSettings(_env_file=None, **values)
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


@pytest.fixture
async def sim(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    async with simulator(receiver) as http:
        yield http


def new_order_no() -> str:
    return f"SO-SIM-{uuid.uuid4().hex[:8]}"


async def book(http: httpx.AsyncClient, order_no: str) -> str:
    response = await http.post("/shipments", json={"order_no": order_no})
    assert response.status_code in (200, 201), response.text
    tracking_no: str = response.json()["tracking_no"]
    return tracking_no


async def state(http: httpx.AsyncClient, tracking_no: str) -> dict[str, Any]:
    response = await http.get(f"/shipments/{tracking_no}")
    assert response.status_code == 200, response.text
    shipment: dict[str, Any] = response.json()
    return shipment


async def until(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    """Wait for ``condition`` rather than for a fixed time, so slow machines only run longer."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await _holds(condition):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def _holds(condition: Callable[[], bool | Awaitable[bool]]) -> bool:
    outcome = condition()
    return await outcome if inspect.isawaitable(outcome) else outcome


async def posted(http: httpx.AsyncClient, tracking_no: str, count: int) -> bool:
    """Whether the simulator has recorded ``count`` posted events (it records after the answer,
    so the receiver can see an event a moment before the simulator's state does)."""
    return len((await state(http, tracking_no))["events_posted"]) >= count


async def test_booking_is_idempotent_per_order(sim: httpx.AsyncClient) -> None:
    order_no = new_order_no()
    first = await sim.post("/shipments", json={"order_no": order_no})
    again = await sim.post("/shipments", json={"order_no": order_no})
    other = await book(sim, new_order_no())

    assert first.status_code == 201
    assert again.status_code == 200
    tracking_no = first.json()["tracking_no"]
    assert again.json()["tracking_no"] == tracking_no
    assert re.fullmatch(r"SIM[0-9A-F]{10}", tracking_no)
    assert other != tracking_no
    shipment = await state(sim, tracking_no)
    assert (shipment["order_no"], shipment["status"]) == (order_no, "booked")
    assert shipment["booked_calls"] == 2


async def test_an_idempotency_key_cannot_book_another_order(sim: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    first = await sim.post("/shipments", json={"order_no": new_order_no()}, headers=headers)
    reused = await sim.post("/shipments", json={"order_no": new_order_no()}, headers=headers)

    assert first.status_code == 201
    assert reused.status_code == 422


async def test_hand_over_posts_signed_events_in_order(
    sim: httpx.AsyncClient, receiver: Receiver
) -> None:
    tracking_no = await book(sim, new_order_no())
    assert (await sim.post(f"/shipments/{tracking_no}/hand-over")).status_code == 200
    # A retried hand-over must not start a second round of events.
    assert (await sim.post(f"/shipments/{tracking_no}/hand-over")).status_code == 200

    await until(lambda: posted(sim, tracking_no, 3), "three events")

    posts = receiver.accepted(tracking_no)
    assert [post.event["status"] for post in posts] == [
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    for post in posts:
        # Signed over the time of posting and the body, as the API verifies it.
        now = post.received_at
        assert (
            timestamped_signature_refusal(
                post.body, post.signature, post.timestamp, SECRET, now=now
            )
            is None
        )
        assert timestamped_signature_refusal(
            post.body, post.signature, post.timestamp, "another-secret", now=now
        )
        assert timestamped_signature_refusal(
            post.body, post.signature, post.timestamp, SECRET, now=now + 301
        )
        assert post.event["detail"] is None
        assert post.event["location"]
    times = [datetime.fromisoformat(post.event["occurred_at"]) for post in posts]
    assert all(moment.tzinfo is not None for moment in times)
    assert times == sorted(times) and len(set(times)) == len(times)
    shipment = await state(sim, tracking_no)
    assert shipment["status"] == "delivered"
    assert shipment["hand_over_calls"] == 2
    assert [event["response_status"] for event in shipment["events_posted"]] == [202] * 3


async def test_cancel_is_idempotent_and_bars_hand_over(sim: httpx.AsyncClient) -> None:
    tracking_no = await book(sim, new_order_no())

    first = await sim.post(f"/shipments/{tracking_no}/cancel")
    again = await sim.post(f"/shipments/{tracking_no}/cancel")
    hand_over = await sim.post(f"/shipments/{tracking_no}/hand-over")

    assert (first.status_code, again.status_code) == (200, 200)
    assert hand_over.status_code == 409
    shipment = await state(sim, tracking_no)
    assert (shipment["status"], shipment["cancelled"]) == ("cancelled", True)
    assert shipment["cancel_calls"] == 2
    assert shipment["hand_over_calls"] == 1


async def test_cancel_after_hand_over_is_refused(sim: httpx.AsyncClient) -> None:
    tracking_no = await book(sim, new_order_no())
    await sim.post(f"/shipments/{tracking_no}/hand-over")

    response = await sim.post(f"/shipments/{tracking_no}/cancel")

    assert response.status_code == 409
    assert (await state(sim, tracking_no))["cancelled"] is False


async def test_unknown_tracking_number_is_not_found(sim: httpx.AsyncClient) -> None:
    assert (await sim.get("/shipments/SIM0000000000")).status_code == 404
    assert (await sim.post("/shipments/SIM0000000000/hand-over")).status_code == 404
    assert (await sim.post("/shipments/SIM0000000000/cancel")).status_code == 404


async def test_cancel_delay_holds_the_answer_after_the_call_arrived(receiver: Receiver) -> None:
    async with simulator(receiver, cancel_delay=0.3) as sim:
        tracking_no = await book(sim, new_order_no())
        cancelling = asyncio.create_task(sim.post(f"/shipments/{tracking_no}/cancel"))

        # While the answer is pending the call is counted but has not taken effect yet, which
        # is the window a test uses to kill the worker in the middle of a cancellation.
        await until(
            lambda: cancelling.done() or _cancel_arrived(sim, tracking_no), "the cancel call"
        )
        midway = await state(sim, tracking_no)
        response = await cancelling

    assert (midway["cancel_calls"], midway["cancelled"]) == (1, False)
    assert response.status_code == 200
    assert response.json()["cancelled"] is True


async def _cancel_arrived(http: httpx.AsyncClient, tracking_no: str) -> bool:
    return bool((await state(http, tracking_no))["cancel_calls"])


async def test_adapter_round_trip(sim: httpx.AsyncClient, receiver: Receiver) -> None:
    carrier = SimulatedCarrier(str(sim.base_url), timeout=5.0)
    order_no = new_order_no()

    tracking_no = await carrier.book(order_no)
    assert await carrier.book(order_no) == tracking_no
    await carrier.hand_over(tracking_no)
    await carrier.hand_over(tracking_no)
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await carrier.cancel(tracking_no)
    assert refused.value.response.status_code == 409
    # Nothing is booked under this number, so there is nothing to call off: success.
    await carrier.cancel("SIM0000000000")

    called_off = await carrier.book(new_order_no())
    await carrier.cancel(called_off)
    await carrier.cancel(called_off)
    with pytest.raises(httpx.HTTPStatusError):
        await carrier.hand_over(called_off)

    handed = await state(sim, tracking_no)
    assert (handed["booked_calls"], handed["hand_over_calls"]) == (2, 2)
    assert handed["status"] in ("handed_over", "delivered")
    cancelled = await state(sim, called_off)
    assert (cancelled["status"], cancelled["cancel_calls"]) == ("cancelled", 2)
    await until(lambda: "delivered" in receiver.statuses(tracking_no), "delivered")


async def test_events_are_retried_while_the_api_answers_503(
    sim: httpx.AsyncClient, receiver: Receiver
) -> None:
    tracking_no = await book(sim, new_order_no())
    receiver.scripts[tracking_no] = [503, 503]
    await sim.post(f"/shipments/{tracking_no}/hand-over")

    await until(lambda: posted(sim, tracking_no, 1), "in_transit")

    assert [post.answered for post in receiver.posts(tracking_no)] == [503, 503, 202]
    assert len({post.body for post in receiver.posts(tracking_no)}) == 1
    first = (await state(sim, tracking_no))["events_posted"][0]
    assert (first["status"], first["attempts"], first["response_status"]) == ("in_transit", 3, 202)


async def test_a_refused_event_is_not_retried(sim: httpx.AsyncClient, receiver: Receiver) -> None:
    tracking_no = await book(sim, new_order_no())
    receiver.scripts[tracking_no] = [404]
    await sim.post(f"/shipments/{tracking_no}/hand-over")

    await until(lambda: "out_for_delivery" in receiver.statuses(tracking_no), "the next event")

    assert [post.event["status"] for post in receiver.posts(tracking_no)[:2]] == [
        "in_transit",
        "out_for_delivery",
    ]
    first = (await state(sim, tracking_no))["events_posted"][0]
    assert (first["status"], first["attempts"], first["response_status"]) == ("in_transit", 1, 404)


async def test_every_nth_shipment_meets_an_absent_recipient(receiver: Receiver) -> None:
    async with simulator(receiver, exception_every=2) as sim:
        plain, failed = await book(sim, new_order_no()), await book(sim, new_order_no())
        await sim.post(f"/shipments/{plain}/hand-over")
        await sim.post(f"/shipments/{failed}/hand-over")

        await until(
            lambda: (
                "delivered" in receiver.statuses(plain) and "delivered" in receiver.statuses(failed)
            ),
            "both deliveries",
        )

    assert receiver.statuses(plain) == ["in_transit", "out_for_delivery", "delivered"]
    assert receiver.statuses(failed) == ["in_transit", "out_for_delivery", "exception", "delivered"]
    exception = receiver.accepted(failed)[2].event
    assert exception["detail"] == "recipient not available"


async def test_duplicates_redeliver_events_and_report_in_transit_late(
    receiver: Receiver,
) -> None:
    async with simulator(receiver, duplicates=True) as sim:
        tracking_no = await book(sim, new_order_no())
        await sim.post(f"/shipments/{tracking_no}/hand-over")

        await until(lambda: receiver.statuses(tracking_no).count("delivered") == 2, "redelivery")

    posts = receiver.accepted(tracking_no)
    statuses = [post.event["status"] for post in posts]
    for status in ("in_transit", "out_for_delivery", "delivered"):
        bodies = [post.body for post in posts if post.event["status"] == status]
        assert len(bodies) == 2 and bodies[0] == bodies[1], status
    # The first shipment's in_transit arrives after out_for_delivery but keeps its own time.
    assert statuses.index("out_for_delivery") < statuses.index("in_transit")
    in_transit = datetime.fromisoformat(posts[statuses.index("in_transit")].event["occurred_at"])
    out = datetime.fromisoformat(posts[statuses.index("out_for_delivery")].event["occurred_at"])
    assert in_transit < out
