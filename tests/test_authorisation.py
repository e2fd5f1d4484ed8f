"""Who may call what: every endpoint with every role, and with bad tokens.

The walk (see ``tests/authorisation_matrix.py``) calls every endpoint as one person per role
and works out the set of roles the API really admits; the test compares it with ``MATRIX``
endpoint by endpoint and reports every difference at once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from sqlalchemy import update
from temporalio.client import Client

from api.security import issue_token
from db.models import User
from tests.authorisation_matrix import (
    ADMITTED_STATUS,
    API,
    MATRIX,
    PERSON,
    PUBLIC,
    REFUSAL,
    ROLES,
    UNKNOWN_ORDER,
    Call,
    Walk,
)
from tests.factories import TEST_PASSWORD, World
from tests.test_auth import assert_error

OTHER_SECRET = "another-secret-of-thirty-two-chars!!"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def openapi_endpoints(api: httpx.AsyncClient) -> set[str]:
    document = (await api.get("/openapi.json")).json()
    return {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
    }


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
