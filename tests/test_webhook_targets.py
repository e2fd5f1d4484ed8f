"""Webhook targets: a URL whose host is, or resolves to, a private, loopback, link-local,
unspecified or multicast address is refused, when subscribing and again before each delivery,
unless the deployment allows private targets (the test session does: its receivers listen on
127.0.0.1)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from temporalio.exceptions import ApplicationError

from activities.notifications import NotificationActivities, _Attempt
from config import Settings
from domain.webhook_targets import refused_range
from tests.factories import World
from tests.live import serve
from tests.test_auth import assert_error

WEBHOOKS = "/api/v1/webhooks"

REFUSED_ADDRESSES = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "169.254.169.254": "link-local",
    "fe80::1": "link-local",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "10.1.2.3": "private",
    "172.16.0.9": "private",
    "192.168.1.1": "private",
    "fd00::5": "private",
    "100.64.0.1": "non-public",
}
PUBLIC_ADDRESSES = ("93.184.216.34", "8.8.8.8", "2606:4700:4700::1111")


def test_addresses_are_refused_by_their_range() -> None:
    for text, kind in REFUSED_ADDRESSES.items():
        assert refused_range(ipaddress.ip_address(text)) == kind, text
    for text in PUBLIC_ADDRESSES:
        assert refused_range(ipaddress.ip_address(text)) is None, text


async def test_subscribing_to_an_inside_address_is_refused(world: World, api_with: Any) -> None:
    ops = world["ops"].headers
    refused_urls = [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.7/hook",
        "http://192.168.0.10:9000/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://[::ffff:127.0.0.1]/hook",
        # Other spellings of loopback, and names that resolve to it.
        "http://2130706433/hook",
        "http://localhost:8080/hook",
        # A name that does not resolve cannot be checked.
        "https://no-such-host.invalid/hook",
    ]
    async with api_with(webhook_allow_private_targets=False) as api:
        for url in refused_urls:
            body = {"url": url, "events": ["shipped"]}
            response = await api.post(WEBHOOKS, json=body, headers=ops)
            refusal = assert_error(response, 422, "ValidationError")
            assert "WEBHOOK_ALLOW_PRIVATE_TARGETS" in refusal["detail"], url
        localhost = await api.post(
            WEBHOOKS, json={"url": "http://localhost/", "events": ["shipped"]}, headers=ops
        )
        assert "resolves to" in localhost.json()["detail"]
        listed = (await api.get(WEBHOOKS, headers=ops)).json()["data"]
        assert not {s["url"] for s in listed} & set(refused_urls)

        public = await api.post(
            WEBHOOKS,
            json={"url": "https://93.184.216.34/hooks/erp", "events": ["production_overdue"]},
            headers=ops,
        )
        assert public.status_code == 201, public.text
        assert (
            await api.delete(f"{WEBHOOKS}/{public.json()['id']}", headers=ops)
        ).status_code == 204

    # The session allows private targets: the same loopback URL is taken there.
    allowed = await world.api.post(
        WEBHOOKS, json={"url": refused_urls[0], "events": ["production_overdue"]}, headers=ops
    )
    assert allowed.status_code == 201, allowed.text
    await world.api.delete(f"{WEBHOOKS}/{allowed.json()['id']}", headers=ops)


async def test_a_delivery_to_an_inside_address_is_not_sent(
    world: World, settings: Settings
) -> None:
    """A subscription made while private targets were allowed (or whose name has since moved
    inside) is checked again before each post; the refusal is final, not retried."""
    received: list[bytes] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=202)

    async with serve(receiver) as url:
        attempt = _Attempt(
            key=f"target-check-{world.tag}",
            event="shipped",
            channel="webhook",
            target=f"{url}/hook",
            subject="shipped",
            body="shipped",
            payload={"event": "shipped"},
            created_at=datetime.now(UTC),
            secret="a-subscription-secret",
        )
        strict = settings.model_copy(update={"webhook_allow_private_targets": False})
        with pytest.raises(ApplicationError) as refusal:
            await NotificationActivities(world.sessions, strict)._post_webhook(attempt)
        assert refusal.value.non_retryable
        assert "127.0.0.1 is a loopback address" in refusal.value.message
        assert received == []

        # Where private targets are allowed, the very same delivery goes out.
        await NotificationActivities(world.sessions, settings)._post_webhook(attempt)
        assert len(received) == 1
