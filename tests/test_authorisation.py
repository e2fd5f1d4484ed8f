"""Who may call what: every endpoint with every role, with bad tokens, and customer isolation.

``MATRIX`` is the contract, written out here rather than imported from ``domain.roles`` so
that a change to the product's role sets shows up as a failing test. The walk calls every
endpoint as one person per role and works out the set of roles the API really admits; the
test compares the two sets endpoint by endpoint and reports every difference at once.

Targets are chosen so that calls stay cheap and leave nothing behind: order actions go to an
order that is already CANCELLED (an admitted caller gets 409, which proves it got past the
role check), and what an admitted call does create (a delegation, a webhook, a policy
version with the same rules) is undone or harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
from sqlalchemy import update
from temporalio.client import Client

from api.security import issue_token
from db.models import Notification, User
from domain.notifications import IN_APP
from tests.factories import TEST_PASSWORD, World
from tests.test_auth import assert_error

API = "/api/v1"
UNKNOWN_ORDER = "SO-1999-999999"
UNKNOWN_ID = 10**9
OTHER_SECRET = "another-secret-of-thirty-two-chars!!"

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
    "customer": "customer",
}
ROLES: tuple[str, ...] = tuple(PERSON)

ANY_USER = frozenset(ROLES)
STAFF = ANY_USER - {"customer"}
APPROVERS = frozenset({"supervisor", "manager", "director", "finance", "ops"})
# Ops decides escalated levels but has no approval rights of its own to lend.
LENDERS = APPROVERS - {"ops"}
OPS = frozenset({"ops"})

# The roles admitted by each endpoint ("METHOD path", as the OpenAPI document names it).
MATRIX: dict[str, frozenset[str]] = {
    "GET /healthz": ANY_USER,
    "GET /readyz": ANY_USER,
    f"GET {API}/healthz": ANY_USER,
    f"GET {API}/readyz": ANY_USER,
    f"POST {API}/auth/token": ANY_USER,
    f"GET {API}/me": ANY_USER,
    f"GET {API}/order-statuses": ANY_USER,
    f"GET {API}/products": ANY_USER,
    f"GET {API}/customers": ANY_USER,
    f"GET {API}/reminders": ANY_USER,
    f"GET {API}/production-lines": STAFF,
    f"GET {API}/alerts": STAFF,
    f"GET {API}/orders": ANY_USER,
    f"POST {API}/orders": frozenset({"sales"}),
    # A customer only for its own orders: see the isolation test.
    f"GET {API}/orders/{{order_no}}": ANY_USER,
    f"GET {API}/orders/{{order_no}}/history": ANY_USER,
    # The level's own role (or the one it escalated to) is then checked by the workflow.
    f"POST {API}/orders/{{order_no}}/decisions": APPROVERS,
    f"POST {API}/orders/{{order_no}}/cancel": frozenset({"sales", "ops"}),
    f"POST {API}/orders/{{order_no}}/hold": OPS,
    f"POST {API}/orders/{{order_no}}/resume": OPS,
    f"POST {API}/orders/{{order_no}}/production-events": frozenset({"production"}),
    f"POST {API}/orders/{{order_no}}/dispatch": frozenset({"logistics"}),
    f"POST {API}/orders/{{order_no}}/confirm-delivery": frozenset({"customer", "sales"}),
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
}

# Answered without a bearer token.
PUBLIC = frozenset(
    {
        "GET /healthz",
        "GET /readyz",
        f"GET {API}/healthz",
        f"GET {API}/readyz",
        f"POST {API}/auth/token",
    }
)

# What an admitted caller gets from the walk's targets; anything else is reported.
ADMITTED_STATUS: dict[str, int] = {
    f"POST {API}/orders": 201,
    f"POST {API}/orders/{{order_no}}/decisions": 409,
    f"POST {API}/orders/{{order_no}}/cancel": 409,
    f"POST {API}/orders/{{order_no}}/hold": 409,
    f"POST {API}/orders/{{order_no}}/resume": 409,
    f"POST {API}/orders/{{order_no}}/production-events": 409,
    f"POST {API}/orders/{{order_no}}/dispatch": 409,
    f"POST {API}/orders/{{order_no}}/confirm-delivery": 409,
    f"POST {API}/carrier-events": 404,  # an unknown tracking number
    f"POST {API}/delegations": 201,
    f"POST {API}/webhooks": 201,
    f"DELETE {API}/webhooks/{{subscription_id}}": 204,
}

# How a caller who may not is turned away: 403, or 404 where existence is hidden.
REFUSAL: dict[str, tuple[int, str]] = {
    f"DELETE {API}/delegations/{{delegation_id}}": (404, "NotFound"),
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def hours_from_now(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def openapi_endpoints(api: httpx.AsyncClient) -> set[str]:
    document = (await api.get("/openapi.json")).json()
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }


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


async def cancelled_order(world: World, temporal: Client) -> str:
    """An order cancelled in review whose workflow has closed: every action on it is 409."""
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    cancelled = await world.act(order_no, "cancel", as_="sales", json_body={"reason": "walk"})
    assert cancelled.status_code == 200, cancelled.text
    result = await asyncio.wait_for(
        temporal.get_workflow_handle(f"order-{order_no}").result(), timeout=30
    )
    assert result == "CANCELLED"
    return order_no


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

    async def start(self) -> None:
        world = self.world
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
            case "POST", "cancel" | "hold" | "resume":
                return {"reason": "authorisation walk"}
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
        return None

    def fill(self, endpoint: str, **ids: Any) -> str:
        path = endpoint.split(" ", 1)[1]
        values = {
            "order_no": UNKNOWN_ORDER,
            "delegation_id": UNKNOWN_ID,
            "notification_id": UNKNOWN_ID,
            "subscription_id": UNKNOWN_ID,
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


def refusal_problem(endpoint: str, response: httpx.Response) -> str | None:
    """Why the response is not the endpoint's one refusal in the one error shape, if it is not."""
    status, kind = REFUSAL.get(endpoint, (403, "Forbidden"))
    try:
        assert_error(response, status, kind)
    except AssertionError:
        return f"{response.status_code} {response.text[:200]}"
    return None


def matrix_table(observed: dict[str, dict[str, int]]) -> str:
    """The observed statuses, one row per endpoint, for the failure message."""
    lines = [" | ".join(["endpoint", *ROLES])]
    for endpoint, statuses in observed.items():
        lines.append(" | ".join([endpoint, *(str(statuses[role]) for role in ROLES)]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the walk


async def test_the_matrix_names_every_endpoint(api: httpx.AsyncClient) -> None:
    assert set(MATRIX) == await openapi_endpoints(api)
    assert set(ADMITTED_STATUS) <= set(MATRIX)
    assert set(REFUSAL) <= set(MATRIX)


async def test_every_endpoint_admits_exactly_the_roles_of_the_matrix(
    world: World, temporal_client: Client
) -> None:
    order_no = await cancelled_order(world, temporal_client)
    walk = Walk(world, order_no)
    await walk.start()

    problems: list[str] = []
    observed: dict[str, dict[str, int]] = {}
    for endpoint, expected in MATRIX.items():
        statuses: dict[str, int] = {}
        admitted: set[str] = set()
        for role in ROLES:
            response = await walk.as_role(endpoint, role)
            statuses[role] = response.status_code
            refused_with = REFUSAL.get(endpoint, (403, ""))[0]
            if response.status_code in (401, 403, refused_with):
                if role in expected:
                    problems.append(
                        f"{endpoint} refuses {role}: {response.status_code} {response.text[:200]}"
                    )
                elif problem := refusal_problem(endpoint, response):
                    problems.append(f"{endpoint} refuses {role} wrongly: {problem}")
                continue
            admitted.add(role)
            want = ADMITTED_STATUS.get(endpoint, 200)
            if role not in expected:
                problems.append(f"{endpoint} admits {role}: {response.status_code}")
            elif response.status_code != want:
                problems.append(
                    f"{endpoint} as {role}: {response.status_code}, expected {want}: "
                    f"{response.text[:200]}"
                )
        observed[endpoint] = statuses
        if admitted != expected:
            problems.append(
                f"{endpoint}: admits {sorted(admitted)}, the matrix says {sorted(expected)}"
            )
    await walk.finish()

    assert not problems, "\n".join(problems) + "\n\n" + matrix_table(observed)

    # Refused calls changed nothing: only sales entered an order beside the cancelled one.
    orders = await world.order_nos(world.customer_id)
    assert len(orders) == 2 and orders[1] == order_no, orders
    entered = await world.order(orders[0])
    assert entered["created_by"] == world["sales"].username
    policy = await world.api.get(f"{API}/approval-policy", headers=world["ops"].headers)
    assert policy.json()["rules"] == walk.policy_rules
    # Each caller marked its own notification read.
    for person in PERSON.values():
        inbox = await world.api.get(f"{API}/notifications", headers=world[person].headers)
        [mine] = [n for n in inbox.json()["data"] if n["id"] == walk.notification_ids[person]]
        assert mine["read_at"] is not None, mine


# ---------------------------------------------------------------------------- bad tokens


async def bad_credentials(world: World) -> dict[str, dict[str, str]]:
    """Ways of failing to sign in, each tried with the identity of ops, who may do most."""
    ops = world["ops"].username
    secret = world.settings.jwt_secret
    leaver = await world.add_person("leaver", ["ops"])
    async with world.sessions.begin() as session:
        await session.execute(
            update(User).where(User.username == leaver.username).values(active=False)
        )
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    return {
        "no token": {},
        "expired token": bearer(issue_token(ops, secret, timedelta(minutes=-5))),
        "forged token": bearer(issue_token(ops, OTHER_SECRET, timedelta(hours=1))),
        "unsigned token": bearer(jwt.encode({"sub": ops, "exp": in_an_hour}, "", algorithm="none")),
        "token of a deactivated user": leaver.headers,
    }


async def test_every_private_endpoint_refuses_a_missing_or_bad_token(world: World) -> None:
    walk = Walk(world, UNKNOWN_ORDER)
    problems: list[str] = []
    for credential, headers in (await bad_credentials(world)).items():
        for endpoint in MATRIX:
            call = Call(walk.fill(endpoint), json=walk.body(endpoint))
            if endpoint == f"POST {API}/auth/token":
                call.data = {"username": world["sales"].username, "password": TEST_PASSWORD}
            response = await walk.send(endpoint, call, headers)
            if endpoint in PUBLIC:
                if response.status_code != 200:
                    problems.append(f"{endpoint} with {credential}: {response.status_code}")
                continue
            try:
                assert_error(response, 401, "Unauthorized")
                assert response.headers.get("WWW-Authenticate") == "Bearer"
            except AssertionError:
                problems.append(
                    f"{endpoint} with {credential}: {response.status_code} {response.text[:200]}"
                )
    assert not problems, "\n".join(problems)
    # Nothing was entered on the strength of a bad token.
    assert await world.order_nos(world.customer_id) == []


# ---------------------------------------------------------------------------- isolation


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
    reads = ["", "/history"]
    actions = [
        "/decisions",
        "/cancel",
        "/hold",
        "/resume",
        "/production-events",
        "/dispatch",
        "/confirm-delivery",
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
