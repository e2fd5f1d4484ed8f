"""The authorisation contract and a walk that checks it, shared by the authorisation tests.

``MATRIX`` is the contract, written out here rather than imported from ``domain.roles`` so
that a change to the product's role sets shows up as a failing test. The walk calls every
endpoint as one person per role and works out the set of roles the API really admits.

Targets are chosen so that calls stay cheap and leave nothing behind: order actions go to an
order that is already CANCELLED (an admitted caller gets 409, which proves it got past the
role check), and what an admitted call does create (a delegation, a webhook, a policy
version with the same rules) is undone or harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from db.models import Customer, Notification
from domain.notifications import IN_APP
from tests.factories import TEST_PASSWORD, World

API = "/api/v1"
UNKNOWN_ORDER = "SO-1999-999999"
UNKNOWN_ID = 10**9
UNKNOWN_SKU = "NO-SUCH-SKU"

# One World person per role.
PERSON: dict[str, str] = {
    "sales": "sales",
    "supervisor": "sup",
    "manager": "mgr",
    "director": "dir",
    "finance": "fin",
    "production": "prod",
    "logistics": "log",
    "ops": "ops",
    "admin": "admin",
    "customer": "customer",
}
ROLES: tuple[str, ...] = tuple(PERSON)

ANY_USER = frozenset(ROLES)
STAFF = ANY_USER - {"customer"}
APPROVERS = frozenset({"supervisor", "manager", "director", "finance", "ops"})
# Ops decides escalated levels but has no approval rights of its own to lend.
LENDERS = APPROVERS - {"ops"}
OPS = frozenset({"ops"})
ADMIN = frozenset({"admin"})
# Master data: ops keeps the rights it had, an admin has them too.
MASTER_DATA = frozenset({"ops", "admin"})

# The roles admitted by each endpoint ("METHOD path", as the OpenAPI document names it).
MATRIX: dict[str, frozenset[str]] = {
    "GET /healthz": ANY_USER,
    "GET /readyz": ANY_USER,
    # Open like the health probes (METRICS_TOKEN closes it; see test_metrics.py).
    "GET /metrics": ANY_USER,
    f"GET {API}/healthz": ANY_USER,
    f"GET {API}/readyz": ANY_USER,
    # The page and its settings; staff sign in on the page (test_dashboard.py).
    "GET /dashboard": ANY_USER,
    "GET /dashboard/config": ANY_USER,
    f"POST {API}/auth/token": ANY_USER,
    f"GET {API}/me": ANY_USER,
    f"GET {API}/order-statuses": ANY_USER,
    f"GET {API}/products": ANY_USER,
    f"GET {API}/customers": ANY_USER,
    f"GET {API}/reminders": ANY_USER,
    f"GET {API}/production-lines": STAFF,
    f"GET {API}/alerts": STAFF,
    f"GET {API}/orders": ANY_USER,
    f"GET {API}/orders.csv": ANY_USER,
    f"POST {API}/orders": frozenset({"sales"}),
    # A customer only for its own orders: see the isolation test.
    f"GET {API}/orders/{{order_no}}": ANY_USER,
    f"GET {API}/orders/{{order_no}}/history": ANY_USER,
    f"GET {API}/orders/{{order_no}}/versions": ANY_USER,
    f"POST {API}/orders/{{order_no}}/amendments": frozenset({"sales"}),
    # The order's own customer asks; sales decide; its customer may withdraw
    # (test_amendment_requests.py).
    f"POST {API}/orders/{{order_no}}/amendment-requests": frozenset({"customer"}),
    f"GET {API}/orders/{{order_no}}/amendment-requests": ANY_USER,
    f"POST {API}/orders/{{order_no}}/amendment-requests/{{request_id}}/accept": frozenset(
        {"sales"}
    ),
    f"POST {API}/orders/{{order_no}}/amendment-requests/{{request_id}}/refuse": frozenset(
        {"sales"}
    ),
    f"POST {API}/orders/{{order_no}}/amendment-requests/{{request_id}}/withdraw": frozenset(
        {"customer"}
    ),
    # The level's own role (or the one it escalated to) is then checked by the workflow.
    f"POST {API}/orders/{{order_no}}/decisions": APPROVERS,
    f"POST {API}/orders/{{order_no}}/cancel": frozenset({"sales", "ops"}),
    f"POST {API}/orders/{{order_no}}/hold": OPS,
    f"POST {API}/orders/{{order_no}}/resume": OPS,
    f"POST {API}/orders/{{order_no}}/production-events": frozenset({"production"}),
    f"POST {API}/orders/{{order_no}}/dispatch": frozenset({"logistics"}),
    f"POST {API}/orders/{{order_no}}/confirm-delivery": frozenset({"customer", "sales"}),
    # The order's own customer, once it is COMPLETED (test_feedback.py).
    f"POST {API}/orders/{{order_no}}/feedback": frozenset({"customer"}),
    f"GET {API}/orders/{{order_no}}/feedback": ANY_USER,
    # With a bearer token; the carrier's HMAC signature is tested with the carrier.
    f"POST {API}/carrier-events": frozenset({"logistics"}),
    f"GET {API}/approval-policy": STAFF,
    f"PUT {API}/approval-policy": OPS,
    f"GET {API}/delegations": ANY_USER,
    f"POST {API}/delegations": LENDERS,
    # Someone else's delegation; its own delegator may revoke it too (test_delegations.py).
    f"DELETE {API}/delegations/{{delegation_id}}": OPS,
    f"GET {API}/approvals/pending": APPROVERS,
    f"GET {API}/notifications": ANY_USER,
    # The caller's own notification; anyone else's is not found (isolation test).
    f"POST {API}/notifications/{{notification_id}}/read": ANY_USER,
    f"GET {API}/webhooks": OPS,
    f"POST {API}/webhooks": OPS,
    f"DELETE {API}/webhooks/{{subscription_id}}": OPS,
    f"GET {API}/webhooks/{{subscription_id}}/deliveries": OPS,
    f"GET {API}/audit": OPS,
    f"GET {API}/audit/verify": OPS,
    f"GET {API}/archiving": OPS,
    f"POST {API}/archiving/run": OPS,
    f"GET {API}/analytics/stage-durations": STAFF,
    f"GET {API}/analytics/throughput": STAFF,
    f"GET {API}/analytics/approvals": STAFF,
    f"GET {API}/analytics/delivery": STAFF,
    f"GET {API}/analytics/overview": STAFF,
    f"GET {API}/users": ADMIN,
    f"POST {API}/users": ADMIN,
    f"PATCH {API}/users/{{username}}": ADMIN,
    f"POST {API}/customers": MASTER_DATA,
    f"PATCH {API}/customers/{{customer_id}}": MASTER_DATA,
    f"DELETE {API}/customers/{{customer_id}}": MASTER_DATA,
    f"POST {API}/products": MASTER_DATA,
    f"PATCH {API}/products/{{sku}}": MASTER_DATA,
    f"DELETE {API}/products/{{sku}}": MASTER_DATA,
    f"GET {API}/products/{{sku}}/prices": MASTER_DATA,
    f"POST {API}/products/{{sku}}/prices": MASTER_DATA,
    f"POST {API}/production-lines": MASTER_DATA,
    f"PATCH {API}/production-lines/{{code}}": MASTER_DATA,
    f"DELETE {API}/production-lines/{{code}}": MASTER_DATA,
    # An admin manages people and master data; it moves no goods, keeps no templates and runs
    # no archiving (domain/roles.py), though it reads what other staff read.
    f"POST {API}/stock/receipts": frozenset({"logistics", "ops"}),
    f"POST {API}/stock/adjustments": OPS,
    f"GET {API}/stock/movements": STAFF,
    f"GET {API}/stock/ledger-check": OPS,
    f"GET {API}/order-templates": STAFF,
    f"POST {API}/order-templates": frozenset({"sales"}),
    f"GET {API}/order-templates/{{template_id}}": STAFF,
    f"PUT {API}/order-templates/{{template_id}}": frozenset({"sales"}),
    f"DELETE {API}/order-templates/{{template_id}}": frozenset({"sales"}),
    f"POST {API}/order-templates/{{template_id}}/schedule/{{action}}": frozenset({"sales", "ops"}),
    f"GET {API}/order-templates/{{template_id}}/runs": STAFF,
    f"GET {API}/analytics/feedback": STAFF,
}

# Answered without a bearer token.
PUBLIC = frozenset(
    {
        "GET /metrics",
        "GET /healthz",
        "GET /readyz",
        f"GET {API}/healthz",
        f"GET {API}/readyz",
        "GET /dashboard",
        "GET /dashboard/config",
        f"POST {API}/auth/token",
    }
)

# What an admitted caller gets from the walk's targets; anything else is reported.
ADMITTED_STATUS: dict[str, int] = {
    f"POST {API}/orders": 201,
    f"POST {API}/orders/{{order_no}}/decisions": 409,
    f"POST {API}/orders/{{order_no}}/amendments": 409,
    f"POST {API}/orders/{{order_no}}/amendment-requests": 409,
    # An unknown request of the order: nothing is decided.
    f"POST {API}/orders/{{order_no}}/amendment-requests/{{request_id}}/accept": 404,
    f"POST {API}/orders/{{order_no}}/amendment-requests/{{request_id}}/refuse": 404,
    f"POST {API}/orders/{{order_no}}/amendment-requests/{{request_id}}/withdraw": 404,
    f"POST {API}/orders/{{order_no}}/cancel": 409,
    f"POST {API}/orders/{{order_no}}/hold": 409,
    f"POST {API}/orders/{{order_no}}/resume": 409,
    f"POST {API}/orders/{{order_no}}/production-events": 409,
    f"POST {API}/orders/{{order_no}}/dispatch": 409,
    f"POST {API}/orders/{{order_no}}/confirm-delivery": 409,
    f"POST {API}/orders/{{order_no}}/feedback": 409,
    f"POST {API}/carrier-events": 404,  # an unknown tracking number
    f"POST {API}/delegations": 201,
    f"POST {API}/webhooks": 201,
    f"DELETE {API}/webhooks/{{subscription_id}}": 204,
    # Creating what exists already (409) or changing what does not (404) writes nothing.
    f"POST {API}/users": 409,
    f"PATCH {API}/users/{{username}}": 404,
    f"POST {API}/customers": 409,
    f"PATCH {API}/customers/{{customer_id}}": 404,
    f"DELETE {API}/customers/{{customer_id}}": 404,
    f"POST {API}/products": 409,
    f"PATCH {API}/products/{{sku}}": 404,
    f"DELETE {API}/products/{{sku}}": 404,
    f"GET {API}/products/{{sku}}/prices": 404,
    f"POST {API}/products/{{sku}}/prices": 404,
    f"POST {API}/production-lines": 409,
    f"PATCH {API}/production-lines/{{code}}": 404,
    f"DELETE {API}/production-lines/{{code}}": 404,
    # An unknown product: nothing is booked.
    f"POST {API}/stock/receipts": 404,
    f"POST {API}/stock/adjustments": 404,
    # Templates: one is made (and deleted again); the others name an unknown template.
    f"POST {API}/order-templates": 201,
    f"GET {API}/order-templates/{{template_id}}": 404,
    f"PUT {API}/order-templates/{{template_id}}": 404,
    f"DELETE {API}/order-templates/{{template_id}}": 404,
    f"POST {API}/order-templates/{{template_id}}/schedule/{{action}}": 404,
    f"GET {API}/order-templates/{{template_id}}/runs": 404,
    f"POST {API}/archiving/run": 202,
}

# How a caller who may not is turned away: 403, or 404 where existence is hidden.
REFUSAL: dict[str, tuple[int, str]] = {
    f"DELETE {API}/delegations/{{delegation_id}}": (404, "NotFound"),
}


def hours_from_now(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def add_notification(world: World, person: str, *, subject: str) -> int:
    """An in-app notification addressed to ``person``, as the notification activity writes it."""
    username = world[person].username
    async with world.sessions.begin() as session:
        row = Notification(
            key=f"authorisation:{username}:{subject}",
            event="approved",
            channel=IN_APP,
            recipient=username,
            subject=subject,
            body=subject,
            payload={},
            status="sent",
        )
        session.add(row)
        await session.flush()
        return row.id


@dataclass
class Call:
    path: str
    json: Any = None
    data: dict[str, str] | None = None
    # Runs after the call with its response, to undo what an admitted call made.
    tidy: Callable[[httpx.Response], Awaitable[None]] | None = None


class Walk:
    """Fills in each endpoint's path and body for one caller, and tidies up after calls that
    made something, so no call trips over what an earlier one left."""

    def __init__(self, world: World, order_no: str) -> None:
        self.world = world
        self.order_no = order_no
        self.policy_rules: list[dict[str, Any]] = []
        self.subscription_id = UNKNOWN_ID
        self.notification_ids: dict[str, int] = {}
        self.customer_code = ""

    async def start(self) -> None:
        world = self.world
        async with world.sessions() as session:
            customer = await session.get_one(Customer, world.customer_id)
            self.customer_code = customer.code
        policy = await world.api.get(f"{API}/approval-policy", headers=world["ops"].headers)
        assert policy.status_code == 200, policy.text
        # PUT sends the policy in force back, so no other order sees a different policy.
        self.policy_rules = policy.json()["rules"]
        self.subscription_id = await self.subscribe()
        for role, person in PERSON.items():
            self.notification_ids[person] = await add_notification(
                world, person, subject=f"for the {role}"
            )

    async def finish(self) -> None:
        await self.unsubscribe(self.subscription_id)

    async def subscribe(self) -> int:
        response = await self.world.api.post(
            f"{API}/webhooks", json=self.webhook_body(), headers=self.world["ops"].headers
        )
        assert response.status_code == 201, response.text
        subscription_id: int = response.json()["id"]
        return subscription_id

    async def unsubscribe(self, subscription_id: int) -> None:
        response = await self.world.api.delete(
            f"{API}/webhooks/{subscription_id}", headers=self.world["ops"].headers
        )
        assert response.status_code == 204, response.text

    async def delegation_of_others(self) -> int:
        """A running delegation between two people none of the walkers is."""
        response = await self.world.api.post(
            f"{API}/delegations",
            json=self.delegation_body("mgr2"),
            headers=self.world["sup2"].headers,
        )
        assert response.status_code == 201, response.text
        delegation_id: int = response.json()["id"]
        return delegation_id

    async def revoke(self, delegation_id: int, *, as_: str) -> None:
        response = await self.world.api.delete(
            f"{API}/delegations/{delegation_id}", headers=self.world[as_].headers
        )
        assert response.status_code == 200, response.text

    def webhook_body(self) -> dict[str, Any]:
        # An event no order of this walk raises, so nothing is ever sent to it.
        return {"url": "https://erp.example.test/authorisation", "events": ["production_overdue"]}

    def delegation_body(self, to: str) -> dict[str, Any]:
        return {
            "delegate": self.world[to].username,
            "ends_at": hours_from_now(0.25),
            "reason": "authorisation walk",
        }

    def body(self, endpoint: str) -> Any:
        """A well-formed body, so that a 422 would be about the target, never the request."""
        action = endpoint.rsplit("/", 1)[-1]
        match endpoint.split(" ", 1)[0], action:
            case "POST", "orders":
                line = {"sku": self.world.sku, "quantity": 10}
                return {"customer_id": self.world.customer_id, "lines": [line]}
            case "POST", "decisions":
                return {"decision": "approve"}
            case "POST", "amendments" | "amendment-requests":
                return {"reason": "authorisation walk", "notes": "authorisation walk"}
            case "POST", "accept" | "refuse" | "withdraw":
                return {"reason": "authorisation walk"}
            case "POST", "cancel" | "hold" | "resume":
                return {"reason": "authorisation walk"}
            case "POST", "feedback":
                return {"rating": 5, "comment": "authorisation walk"}
            case "POST", "production-events":
                return {"step": "prepare", "event": "started"}
            case "POST", "carrier-events":
                return {
                    "tracking_no": f"TRK-UNKNOWN-{self.world.tag}",
                    "status": "in_transit",
                    "occurred_at": datetime.now(UTC).isoformat(),
                }
            case "PUT", "approval-policy":
                return {"rules": self.policy_rules}
            case "POST", "delegations":
                return self.delegation_body("ops")
            case "POST", "webhooks":
                return self.webhook_body()
            # Master data that exists already, so an admitted caller gets 409.
            case "POST", "users":
                return {
                    "username": self.world["sales"].username,
                    "full_name": "Duplicate",
                    "password": "a-long-first-password",
                    "roles": ["sales"],
                }
            case "POST", "customers":
                return {"code": self.customer_code, "name": "Duplicate", "credit_limit": "1.00"}
            case "POST", "products":
                return {
                    "sku": self.world.sku,
                    "name": "Duplicate",
                    "unit_price": "1.00",
                    "routing": [{"name": "step", "minutes_per_unit": "1.00"}],
                }
            case "POST", "production-lines":
                return {"code": self.world.line, "name": "Duplicate", "units_per_hour": "1.00"}
            case "POST", "prices":
                return {"unit_price": "1.00", "effective_from": "2099-01-01"}
            case "PATCH", _:
                return {"active": True}
            case "POST", "receipts":
                return {"sku": UNKNOWN_SKU, "quantity": 1, "reference": "authorisation walk"}
            case "POST", "adjustments":
                return {"sku": UNKNOWN_SKU, "counted_quantity": 0, "reason": "authorisation walk"}
            case "POST" | "PUT", "order-templates" | "{template_id}":
                line = {"sku": self.world.sku, "quantity": 1}
                return {"name": "walk", "customer_id": self.world.customer_id, "lines": [line]}
        return None

    def fill(self, endpoint: str, **ids: Any) -> str:
        path = endpoint.split(" ", 1)[1]
        values = {
            "order_no": UNKNOWN_ORDER,
            "delegation_id": UNKNOWN_ID,
            "notification_id": UNKNOWN_ID,
            "subscription_id": UNKNOWN_ID,
            "username": "nobody-by-that-name",
            "customer_id": UNKNOWN_ID,
            "sku": "NO-SUCH-SKU",
            "code": "NO-SUCH-LINE",
            "template_id": UNKNOWN_ID,
            "request_id": UNKNOWN_ID,
            "action": "pause",
        }
        return path.format_map({**values, **ids})

    async def prepare(self, endpoint: str, person: str) -> Call:
        """The call ``person`` makes to ``endpoint`` in the walk, with its target set up."""
        world = self.world
        call = Call(self.fill(endpoint, order_no=self.order_no), json=self.body(endpoint))
        if endpoint == f"POST {API}/auth/token":
            call.data = {"username": world[person].username, "password": TEST_PASSWORD}
        elif endpoint == f"POST {API}/notifications/{{notification_id}}/read":
            call.path = self.fill(endpoint, notification_id=self.notification_ids[person])
        elif endpoint == f"GET {API}/webhooks/{{subscription_id}}/deliveries":
            call.path = self.fill(endpoint, subscription_id=self.subscription_id)
        elif endpoint == f"PUT {API}/approval-policy":

            async def same_rules(response: httpx.Response) -> None:
                if response.status_code == 200:
                    assert response.json()["rules"] == self.policy_rules, response.text

            call.tidy = same_rules
        elif endpoint == f"POST {API}/delegations":

            async def revoke_made(response: httpx.Response) -> None:
                if response.status_code == 201:
                    await self.revoke(response.json()["id"], as_=person)

            call.tidy = revoke_made
        elif endpoint == f"DELETE {API}/delegations/{{delegation_id}}":
            delegation_id = await self.delegation_of_others()
            call.path = self.fill(endpoint, delegation_id=delegation_id)

            async def revoke_left(response: httpx.Response) -> None:
                if response.status_code != 200:
                    await self.revoke(delegation_id, as_="sup2")

            call.tidy = revoke_left
        elif endpoint == f"POST {API}/order-templates":

            async def delete_template(response: httpx.Response) -> None:
                if response.status_code == 201:
                    deleted = await world.api.delete(
                        f"{API}/order-templates/{response.json()['id']}",
                        headers=world["sales"].headers,
                    )
                    assert deleted.status_code == 204, deleted.text

            call.tidy = delete_template
        elif endpoint == f"POST {API}/webhooks":

            async def unsubscribe_made(response: httpx.Response) -> None:
                if response.status_code == 201:
                    await self.unsubscribe(response.json()["id"])

            call.tidy = unsubscribe_made
        elif endpoint == f"DELETE {API}/webhooks/{{subscription_id}}":
            subscription_id = await self.subscribe()
            call.path = self.fill(endpoint, subscription_id=subscription_id)

            async def unsubscribe_left(response: httpx.Response) -> None:
                if response.status_code != 204:
                    await self.unsubscribe(subscription_id)

            call.tidy = unsubscribe_left
        return call

    async def send(self, endpoint: str, call: Call, headers: dict[str, str]) -> httpx.Response:
        method = endpoint.split(" ", 1)[0]
        return await self.world.api.request(
            method, call.path, json=call.json, data=call.data, headers=headers
        )

    async def as_role(self, endpoint: str, role: str) -> httpx.Response:
        person = PERSON[role]
        call = await self.prepare(endpoint, person)
        # The password form is the credential of the token endpoint; it takes no bearer.
        headers = {} if endpoint in PUBLIC else self.world[person].headers
        response = await self.send(endpoint, call, headers)
        if call.tidy is not None:
            await call.tidy(response)
        return response
