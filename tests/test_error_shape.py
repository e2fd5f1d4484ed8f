"""The one error shape for every refusal and fault: out-of-range integers, characters no
column holds, bodies that do not parse or are too large, unknown paths and methods, and
an unhandled exception, which answers 500 with the request id it was logged under."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from api.middleware import REQUEST_ID_HEADER
from config import Settings
from tests.factories import TEST_PASSWORD, World
from tests.test_auth import assert_error, assert_validation_error

API = "/api/v1"
TOO_BIG = 2**31  # one past PostgreSQL's integer


def cursor_for(row_id: int) -> str:
    return base64.urlsafe_b64encode(str(row_id).encode()).decode()


def assert_refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    """Any refusal: the one shape, as JSON, with the request id header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers[REQUEST_ID_HEADER]
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail"}, body
    return body


async def test_integers_beyond_an_integer_column_are_refused(world: World) -> None:
    calls = [
        ("GET", f"{API}/orders?customer_id={TOO_BIG}", "ops"),
        ("GET", f"{API}/orders?customer_id={10**30}", "ops"),
        ("GET", f"{API}/approvals/pending?customer_id={TOO_BIG}", "sup"),
        ("GET", f"{API}/approval-policy?version={TOO_BIG}", "ops"),
        ("DELETE", f"{API}/delegations/{TOO_BIG}", "ops"),
        ("POST", f"{API}/notifications/{TOO_BIG}/read", "sales"),
        ("DELETE", f"{API}/webhooks/{TOO_BIG}", "ops"),
        ("GET", f"{API}/webhooks/{TOO_BIG}/deliveries", "ops"),
        ("DELETE", f"{API}/delegations/0", "ops"),
    ]
    for page in ("orders", "delegations", "notifications", "audit"):
        for row_id in (TOO_BIG, 0, -1):
            calls.append(("GET", f"{API}/{page}?cursor={cursor_for(row_id)}", "ops"))
    for method, url, person in calls:
        response = await world.api.request(method, url, headers=world[person].headers)
        assert assert_refused(response)["error"] == "ValidationError", (method, url)


async def test_nul_bytes_and_lone_surrogates_are_refused_everywhere(world: World) -> None:
    ops = world["ops"].headers
    for url in (
        f"{API}/orders?q=%00",
        f"{API}/audit?kind=a%00b",
        f"{API}/audit?order_no=SO-2026-000001%00",
        f"{API}/orders/SO-2026-000001%00",
        f"{API}/orders/SO-2026-000001%00/history",
    ):
        assert_validation_error(await world.api.get(url, headers=ops))

    # Nobody needs to sign in to send the sign-in form.
    for form in ({"username": "a\x00b", "password": "x"}, {"username": "a", "password": "\x00"}):
        assert_validation_error(await world.api.post(f"{API}/auth/token", data=form))
    signed_in = await world.api.post(
        f"{API}/auth/token", data={"username": world["ops"].username, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text

    # A lone surrogate escaped in JSON is refused, and shown back escaped, not raw.
    body = {"customer_id": world.customer_id, "lines": [{"sku": "\ud800", "quantity": 1}]}
    response = await world.api.post(
        f"{API}/orders",
        content=json.dumps(body).encode(),
        headers={**world["sales"].headers, "Content-Type": "application/json"},
    )
    [entry] = assert_validation_error(response)
    assert entry["input"] == "\\ud800"


async def test_bodies_that_do_not_parse_answer_422(world: World) -> None:
    sales = {**world["sales"].headers, "Content-Type": "application/json"}
    for raw in (b'{"customer_id": ', b'{"customer_id": 1, "lines": "\xff\xfe"}', b"[1, 2"):
        response = await world.api.post(f"{API}/orders", content=raw, headers=sales)
        assert assert_validation_error(response)[0]["loc"][0] == "body"
    broken_form = await world.api.post(
        f"{API}/auth/token",
        content=b"--x\r\nContent-Disposition: form-data; name=\r\n\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert_validation_error(broken_form)


async def test_the_role_check_comes_before_the_fields(world: World) -> None:
    """A caller without the role learns nothing about the body's fields: 403. A body that is
    not JSON at all is refused before anything else, as FastAPI reads it first: 422."""
    customer = {**world["customer"].headers, "Content-Type": "application/json"}
    wrong_fields = await world.api.post(
        f"{API}/orders", content=b'{"lines": "many", "quantity": true}', headers=customer
    )
    assert_error(wrong_fields, 403, "Forbidden")
    not_json = await world.api.post(f"{API}/orders", content=b"{", headers=customer)
    assert_validation_error(not_json)


async def test_a_body_over_the_limit_answers_413_and_422s_echo_only_an_excerpt(
    world: World,
) -> None:
    sales = {**world["sales"].headers, "Content-Type": "application/json"}
    ten_megabytes = b'{"customer_id": 1, "lines": [{"sku": "' + b"x" * 10_000_000 + b'"}]}'
    declared = await world.api.post(f"{API}/orders", content=ten_megabytes, headers=sales)
    assert assert_refused(declared, 413)["error"] == "PayloadTooLarge"

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(ten_megabytes), 65_536):
            yield ten_megabytes[start : start + 65_536]

    chunked = await world.api.post(f"{API}/orders", content=streamed(), headers=sales)
    assert assert_refused(chunked, 413)["error"] == "PayloadTooLarge"

    long_sku = "x" * 500_000
    body = {"customer_id": world.customer_id, "lines": [{"sku": long_sku, "quantity": 1}]}
    response = await world.api.post(f"{API}/orders", json=body, headers=sales)
    [entry] = assert_validation_error(response)
    assert len(response.content) < 1_000
    assert entry["input"].startswith("xxx") and entry["input"].endswith("…")
    extra_key = {"customer_id": world.customer_id, "lines": [], "k" * 100_000: 1}
    response = await world.api.post(f"{API}/orders", json=extra_key, headers=sales)
    assert_validation_error(response)
    assert len(response.content) < 2_000


async def test_unknown_paths_and_methods_answer_in_the_one_shape(world: World) -> None:
    ops = world["ops"].headers
    missing = await world.api.get(f"{API}/nowhere", headers=ops)
    assert assert_refused(missing, 404)["error"] == "NotFound"
    wrong_method = await world.api.delete(f"{API}/orders", headers=ops)
    assert assert_refused(wrong_method, 405)["error"] == "MethodNotAllowed"
    fine = await world.api.get(f"{API}/me", headers=ops)
    assert fine.status_code == 200 and fine.headers[REQUEST_ID_HEADER]


async def test_an_unhandled_error_answers_500_in_the_one_shape_with_its_request_id(
    settings: Settings, temporal_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, temporal_client)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a fault no handler knows")

    async with app.router.lifespan_context(app):
        # raise_app_exceptions (the default) would surface any exception that escaped.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            with caplog.at_level(logging.ERROR, logger="api.middleware"):
                response = await http.get("/broken")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "detail", "request_id"}, body
    assert body["error"] == "InternalError"
    assert "a fault no handler knows" not in body["detail"]
    assert body["request_id"] == response.headers[REQUEST_ID_HEADER]
    [record] = [r for r in caplog.records if body["request_id"] in r.getMessage()]
    assert record.exc_info is not None and "a fault no handler knows" in str(record.exc_info[1])
