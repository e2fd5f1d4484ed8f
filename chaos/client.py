"""The people and the carrier around an order, as a client that outlives every kill.

Every request goes to one of the two API processes at random and, when the answer is lost (the
connection broke, a process died under it) or says "not now" (429, 503, any 5xx of a dying
process), it is sent again, the same request, to either process: an order is entered with
the same ``Idempotency-Key``, a decision or action is repeated as it was, a carrier event
carries the same ``occurred_at``. So a repeat may meet its own earlier effect: the answer is
then a refusal (409, or 403 for a person who already decided a level), and the client reads
the order to see whether what it asked for is there. A decision counts as *accepted by the
API* only when it was answered 200.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bench.actors import carrier_headers

API = "/api/v1"
FAULT_PREFIX = "system fault"
# Any one request keeps being retried this long (kills included) before it fails the order.
GIVE_UP_AFTER = 240.0
# An order waited for keeps being looked at this long before it counts as stuck.
STUCK_AFTER = 240.0
POLL_SECONDS = 0.3
# How long an action refused while the order's workflow catches up with it is tried again.
CATCH_UP = 90.0
TERMINAL = ("COMPLETED", "REJECTED", "CANCELLED")


class OrderFailure(RuntimeError):
    """An order did something its script did not intend; the message names it."""


@dataclass(frozen=True)
class AcceptedDecision:
    order_no: str
    username: str
    decision: str


@dataclass
class ClientRecord:
    """What the clients saw: answers by kind, decisions accepted, fault holds resumed."""

    answers: Counter[str] = field(default_factory=Counter)
    accepted: list[AcceptedDecision] = field(default_factory=list)
    fault_resumes: Counter[str] = field(default_factory=Counter)
    # Actions refused while the order showed a status that allowed them (tried again).
    behind: list[str] = field(default_factory=list)


class ChaosClient:
    """One shared HTTP client, the run's bearer tokens, both API addresses."""

    def __init__(self, http: httpx.AsyncClient, api_urls: list[str], carrier_secret: str) -> None:
        self.http = http
        self.api_urls = api_urls
        self.carrier_secret = carrier_secret
        self.headers: dict[str, dict[str, str]] = {}
        self.usernames: dict[str, str] = {}
        self.record = ClientRecord()
        # Which API process each request goes to; apart from the seeded one of the scripts
        # and the kills, whose draws must not depend on how many requests were sent.
        self.spread = random.Random(0)

    async def sign_in(self, usernames: dict[str, str], password: str) -> None:
        for role, username in usernames.items():
            response = await self.send(
                "sign-in",
                "POST",
                f"{API}/auth/token",
                data={"username": username, "password": password},
            )
            if response.status_code != 200:
                raise OrderFailure(f"sign-in of {username} answered {response.status_code}")
            token = response.json()["access_token"]
            self.headers[role] = {"Authorization": f"Bearer {token}"}
            self.usernames[role] = username

    async def send(
        self, kind: str, method: str, path: str, *, role: str | None = None, **request: Any
    ) -> httpx.Response:
        """The request, repeated as it was until an answer that is not "not now" arrives."""
        headers = dict(request.pop("headers", None) or {})
        if role is not None:
            headers.update(self.headers[role])
        carrier_body: bytes | None = request.pop("carrier_body", None)
        deadline = time.monotonic() + GIVE_UP_AFTER
        pause = 0.2
        while True:
            if carrier_body is not None:  # the signature is timestamped: fresh on each try
                headers.update(carrier_headers(carrier_body, self.carrier_secret))
                request["content"] = carrier_body
            url = self.spread.choice(self.api_urls) + path
            try:
                response = await self.http.request(method, url, headers=headers, **request)
            except httpx.TransportError as error:
                self.record.answers[f"{kind}: {type(error).__name__}"] += 1
            else:
                self.record.answers[f"{kind}: {response.status_code}"] += 1
                if response.status_code not in (429, 503) and response.status_code < 500:
                    return response
                pause = max(pause, _retry_after(response))
            if time.monotonic() > deadline:
                raise OrderFailure(f"{kind} {path} got no answer within {GIVE_UP_AFTER:g} s")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 2.0)

    async def get_order(self, order_no: str) -> dict[str, Any]:
        response = await self.send("GET order", "GET", f"{API}/orders/{order_no}", role="ops")
        if response.status_code != 200:
            raise OrderFailure(f"{order_no}: GET answered {response.status_code}")
        order: dict[str, Any] = response.json()
        return order

    async def create(self, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Enter the order; the same key again is the same order."""
        response = await self.send(
            "create",
            "POST",
            f"{API}/orders",
            role="sales",
            json=body,
            headers={"Idempotency-Key": key},
        )
        if response.status_code not in (200, 201):
            raise OrderFailure(f"entry {key} answered {response.status_code}: {response.text}")
        order: dict[str, Any] = response.json()
        return order

    async def wait_for(
        self, order_no: str, targets: set[str], *, resend_entry: Any = None
    ) -> dict[str, Any]:
        """Poll until the order reaches one of ``targets``. On the way, the client plays ops
        for holds the product put on by itself (a step failed for good: resume retries it),
        and re-sends an entry whose workflow did not start (``resend_entry``)."""
        deadline = time.monotonic() + STUCK_AFTER
        created_since = time.monotonic()
        while True:
            order = await self.get_order(order_no)
            status = order["status"]
            if status in targets:
                return order
            if status == "ON_HOLD" and _fault_held(order):
                await self._resume_fault(order)
                continue
            if status == "CREATED" and resend_entry is not None:
                if time.monotonic() - created_since > 5:
                    await resend_entry()
                    created_since = time.monotonic()
            elif status in TERMINAL:
                raise OrderFailure(f"{order_no} ended {status} while waiting for {sorted(targets)}")
            if time.monotonic() > deadline:
                raise OrderFailure(
                    f"{order_no} is stuck in {status}: not {'/'.join(sorted(targets))} after "
                    f"{STUCK_AFTER:g} s"
                )
            await asyncio.sleep(POLL_SECONDS)

    async def _resume_fault(self, order: dict[str, Any]) -> None:
        reason = order["history"][-1]["reason"]
        self.record.fault_resumes[reason.split(":", 2)[1].strip() if ":" in reason else reason] += 1
        await self.act(
            order["order_no"], "resume", "ops", {"reason": "chaos: retry the step"}, _not_held
        )

    async def act(
        self, order_no: str, action: str, role: str, body: Any, done: Any
    ) -> dict[str, Any]:
        """An action on the order: done when answered 200, or when a refusal finds
        ``done(order)`` true (a repeat met its own first try, whose answer was lost)."""
        path = f"{API}/orders/{order_no}/{action}"
        order, _ = await self._until_taken(order_no, action, path, role, body, done)
        return order

    async def decide(
        self, order_no: str, role: str, decision: str, comment: str | None = None
    ) -> dict[str, Any]:
        """A decision of the ``role``'s person on the level under review."""
        username = self.usernames[role]
        body = {"decision": decision, "comment": comment}
        path = f"{API}/orders/{order_no}/decisions"

        def done(order: dict[str, Any]) -> bool:
            return _decided(order, username, decision)

        order, accepted = await self._until_taken(order_no, "decision", path, role, body, done)
        if accepted:
            self.record.accepted.append(AcceptedDecision(order_no, username, decision))
        return order

    async def _until_taken(
        self, order_no: str, kind: str, path: str, role: str, body: Any, done: Any
    ) -> tuple[dict[str, Any], bool]:
        """Send until answered 200 (then the order as answered, True), or refused with
        ``done(order)`` true (the order as read, False).

        A refusal while ``done`` is false is tried again for up to ``CATCH_UP`` seconds: after
        a worker dies between writing a change to PostgreSQL and reporting it to Temporal, the
        order shows the new status while its workflow, the judge of every action, is still
        in the old one until another worker replays the write. Each such refusal is recorded.
        """
        deadline = time.monotonic() + CATCH_UP
        while True:
            response = await self.send(kind, "POST", path, role=role, json=body)
            if response.status_code == 200:
                answered: dict[str, Any] = response.json()
                return answered, True
            order = await self.get_order(order_no)
            if response.status_code not in (403, 409):
                break
            if done(order):
                return order, False
            if order["status"] in TERMINAL or time.monotonic() > deadline:
                break
            self.record.behind.append(
                f"{order_no}: {kind} answered {response.status_code} "
                f"{_detail(response)!r} while the order showed {order['status']}"
            )
            await asyncio.sleep(1.0)
        raise OrderFailure(
            f"{order_no}: {kind} as {role} answered {response.status_code}: "
            f"{response.text[:300]} (the order is {order['status']})"
        )

    async def carrier_event(self, tracking_no: str, status: str, occurred_at: datetime) -> None:
        """A tracking event, signed as the carrier signs; repeated with the same content."""
        body = json.dumps(
            {
                "tracking_no": tracking_no,
                "status": status,
                "location": "Chaos hub",
                "occurred_at": occurred_at.isoformat(),
            }
        ).encode()
        response = await self.send(
            "carrier event", "POST", f"{API}/carrier-events", carrier_body=body
        )
        if response.status_code != 202:
            raise OrderFailure(
                f"{tracking_no}: {status} event answered {response.status_code}: {response.text}"
            )


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(max(float(response.headers.get("Retry-After", "0.2")), 0.05), 2.0)
    except ValueError:
        return 0.2


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail"))
    except ValueError:
        return response.text[:200]


def _fault_held(order: dict[str, Any]) -> bool:
    last = order["history"][-1] if order.get("history") else {}
    return last.get("to_status") == "ON_HOLD" and str(last.get("reason") or "").startswith(
        FAULT_PREFIX
    )


def _not_held(order: dict[str, Any]) -> bool:
    return bool(order["status"] != "ON_HOLD")


def _decided(order: dict[str, Any], username: str, decision: str) -> bool:
    levels = (order.get("review") or {}).get("levels") or []
    return any(
        d["by"] == username and d["decision"] == decision
        for level in levels
        for d in level.get("decisions") or []
    )
