"""Sign-in: as slow for an unknown user as for a wrong password, and limited per username and
per client address, through the real API and PostgreSQL.

Each test signs in from an address of its own (TEST-NET-3), so the per-address counts of one
test never reach another's, nor the address the rest of the suite signs in from.
"""

from __future__ import annotations

import itertools
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import SignInAttempt
from tests.factories import TEST_PASSWORD, World, eventually
from tests.test_auth import assert_error

TOKEN = "/api/v1/auth/token"


_next_host = itertools.count(1)


def an_address() -> tuple[str, int]:
    """An address no other sign-in of this run came from: a shared one would carry another
    test's failures into this one's per-address count (one run in a hundred, when drawn)."""
    host = next(_next_host)
    assert host <= 254, "TEST-NET-3 has 254 host addresses"
    return (f"203.0.113.{host}", 40000 + host)


async def sign_in(api: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await api.post(TOKEN, data={"username": username, "password": password})


def assert_too_many(response: httpx.Response, window_seconds: float) -> int:
    """429 in the one error shape, with a ``Retry-After`` of whole seconds within the window."""
    assert_error(response, 429, "TooManyRequests")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window_seconds, retry_after
    return retry_after


async def test_an_unknown_user_costs_as_much_as_a_wrong_password(
    world: World, api_with: Any
) -> None:
    known = world["sales"].username
    unknown_times, wrong_times = [], []
    async with api_with(client_address=an_address()) as api:
        # Alternating, so a busy moment of the machine slows both kinds alike.
        for attempt in range(5):
            started = time.perf_counter()
            unknown = await sign_in(api, f"nobody-{world.tag}-{attempt}", "guess")
            unknown_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            wrong = await sign_in(api, known, "guess")
            wrong_times.append(time.perf_counter() - started)
            assert_error(unknown, 401, "Unauthorized")
            assert_error(wrong, 401, "Unauthorized")
            assert unknown.json() == wrong.json()
    # Checking a password is the bulk of both (tens of milliseconds); looking up a user that
    # does not exist alone would take a fraction of it.
    assert statistics.median(unknown_times) > 0.6 * statistics.median(wrong_times), (
        unknown_times,
        wrong_times,
    )


async def test_failed_sign_ins_are_limited_per_username(world: World, api_with: Any) -> None:
    target = world["ops"].username
    limits = {"login_max_failures_per_user": 3, "login_max_failures_per_address": 100}
    async with api_with(client_address=an_address(), **limits) as api:
        for _ in range(3):
            assert_error(await sign_in(api, target, "guess"), 401, "Unauthorized")
        # The right password does not get past the limit either: guessing must stop.
        assert_too_many(await sign_in(api, target, TEST_PASSWORD), 15 * 60)
        # Another user from the same address is not held back.
        assert (await sign_in(api, world["sales"].username, TEST_PASSWORD)).status_code == 200
    # Nor does moving to another address help the guesser.
    async with api_with(client_address=an_address(), **limits) as elsewhere:
        assert_too_many(await sign_in(elsewhere, target, TEST_PASSWORD), 15 * 60)
    # Refused tries are not counted: they checked nothing.
    async with world.sessions() as session:
        counted = await session.scalar(select(func.count()).where(SignInAttempt.username == target))
    assert counted == 3


async def test_failed_sign_ins_are_limited_per_address(world: World, api_with: Any) -> None:
    limits = {"login_max_failures_per_user": 100, "login_max_failures_per_address": 3}
    address = an_address()
    async with api_with(client_address=address, **limits) as api:
        for attempt in range(3):
            response = await sign_in(api, f"nobody-{world.tag}-{attempt}", "guess")
            assert_error(response, 401, "Unauthorized")
        assert_too_many(await sign_in(api, world["sales"].username, TEST_PASSWORD), 15 * 60)
    async with api_with(client_address=an_address(), **limits) as elsewhere:
        assert (await sign_in(elsewhere, world["sales"].username, TEST_PASSWORD)).status_code == 200


async def test_a_success_clears_the_failures_and_the_limit_lifts_after_the_window(
    world: World, api_with: Any
) -> None:
    target = world["log"].username
    limits = {"login_max_failures_per_user": 2, "login_failure_window": timedelta(seconds=3)}
    async with api_with(client_address=an_address(), **limits) as api:
        assert_error(await sign_in(api, target, "guess"), 401, "Unauthorized")
        assert (await sign_in(api, target, TEST_PASSWORD)).status_code == 200
        # The failure before the success no longer counts: two more are tolerated.
        for _ in range(2):
            assert_error(await sign_in(api, target, "guess"), 401, "Unauthorized")
        assert_too_many(await sign_in(api, target, TEST_PASSWORD), 3)

        async def try_again() -> int:
            return (await sign_in(api, target, TEST_PASSWORD)).status_code

        await eventually(try_again, lambda status: status == 200, timeout=15)
