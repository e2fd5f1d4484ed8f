"""The ops dashboard, driven in real headless Chromium against the real API on a real port.

Playwright for Python drives Debian's Chromium (``devstack.chromium`` installs it when
missing; Playwright's own browser download needs the internet): its locators wait for what
the page shows, which keeps the test free of sleeps, and it takes the screenshot.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect
from temporalio.client import Client

from api.app import create_app
from config import Settings
from devstack.chromium import ChromiumUnavailable, ensure_chromium
from tests.factories import TEST_PASSWORD, World, eventually
from tests.live import serve

OUTPUT_DIR = Path(__file__).resolve().parent / "output"
SCREENSHOT = OUTPUT_DIR / "dashboard.png"
TEMPORAL_UI = "http://temporal-ui.example.test:8233"
# The one absolute URL the page's script holds: the SVG namespace, a name that is never fetched.
XML_NAMESPACES = ("http://www.w3.org/2000/svg",)
# How long a check waits for the page to show something (it waits on the real stack).
PAGE_WAIT_MS = 15_000


@pytest.fixture(scope="session")
def chromium() -> Path:
    try:
        return ensure_chromium()
    except ChromiumUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def dashboard_served(
    settings: Settings, temporal_client: Client, refresh_seconds: int
) -> AsyncIterator[str]:
    """The real app on a free loopback port, linking orders to a Temporal UI of its own."""
    overrides = {"temporal_ui_url": TEMPORAL_UI, "dashboard_refresh_seconds": refresh_seconds}
    app = create_app(settings.model_copy(update=overrides), temporal_client)
    async with serve(app) as base_url:
        yield f"{base_url}/dashboard"


@pytest.fixture
async def dashboard_url(
    settings: Settings, temporal_client: Client, worker: Any
) -> AsyncIterator[str]:
    """A dashboard that refreshes only when asked to (within the test's span)."""
    async with dashboard_served(settings, temporal_client, refresh_seconds=600) as url:
        yield url


@pytest.fixture
async def lively_dashboard_url(
    settings: Settings, temporal_client: Client, worker: Any
) -> AsyncIterator[str]:
    """A dashboard that refreshes itself every second."""
    async with dashboard_served(settings, temporal_client, refresh_seconds=1) as url:
        yield url


async def sign_in(page: Page, url: str, username: str, password: str = TEST_PASSWORD) -> None:
    await page.goto(url)
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#sign-in-form button[type=submit]")


async def shown_counts(page: Page) -> dict[str, int]:
    """The count each status tile shows, as a person reads it."""
    tiles = page.locator("#statuses .tile")
    counts = {}
    for index in range(await tiles.count()):
        tile = tiles.nth(index)
        status = await tile.get_attribute("data-status")
        text = await tile.locator(".count").inner_text()
        counts[str(status)] = int(text.replace(",", ""))
    return counts


async def refreshed(page: Page) -> None:
    """Ask the page to reload its figures and wait until it says it did."""
    updated = page.locator("#updated")
    before = await updated.get_attribute("data-at")
    await page.click("#refresh")
    await expect(updated).not_to_have_attribute("data-at", before or "", timeout=PAGE_WAIT_MS)


async def orders_in_several_statuses(world: World) -> dict[str, str]:
    """One order under review, one in production, one held, one rejected, one completed."""
    under_review = await world.new_order()
    await world.wait_for(under_review, "UNDER_REVIEW")

    in_production = await world.new_order()
    await world.approve_levels(in_production, ["sup"])
    await world.wait_for(in_production, "IN_PRODUCTION")

    held = await world.new_order()
    await world.approve_levels(held, ["sup"])
    await world.wait_for(held, "IN_PRODUCTION")
    hold = await world.act(held, "hold", as_="ops", json_body={"reason": "customer audit"})
    assert hold.status_code == 200, hold.text

    rejected = await world.new_order()
    await world.wait_for(rejected, "UNDER_REVIEW")
    refusal = await world.decide(rejected, as_="sup", decision="reject", comment="Price expired")
    assert refusal.status_code == 200, refusal.text

    completed, tracking_no = await world.shipped_order()
    now = datetime.now(UTC)
    delivered = await world.carrier_event(tracking_no, "delivered", occurred_at=now)
    assert delivered.status_code == 202, delivered.text
    await world.wait_for(completed, "DELIVERED")
    confirmed = await world.act(completed, "confirm-delivery", as_="customer")
    assert confirmed.status_code == 200, confirmed.text
    return {
        "UNDER_REVIEW": under_review,
        "IN_PRODUCTION": in_production,
        "ON_HOLD": held,
        "REJECTED": rejected,
        "COMPLETED": completed,
    }


async def test_staff_see_the_order_book_as_the_analytics_api_counts_it(
    world: World, browser: Browser, dashboard_url: str
) -> None:
    ours = await orders_in_several_statuses(world)
    ops = world["ops"]

    async def api_counts() -> dict[str, int]:
        response = await world.api.get("/api/v1/analytics/overview", headers=ops.headers)
        assert response.status_code == 200, response.text
        return {entry["status"]: entry["count"] for entry in response.json()["statuses"]}

    page = await browser.new_page(viewport={"width": 1440, "height": 900})
    # A script error, a refused load or a content security policy violation shows here.
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", on_console)
    await sign_in(page, dashboard_url, ops.username)
    await page.wait_for_selector("#updated[data-at]", timeout=PAGE_WAIT_MS)
    assert await page.is_visible("#board")
    assert not await page.is_visible("#sign-in")

    # Orders of other tests may move between two reads; compare a page load that fell between
    # two identical answers of the API, reloading the page until one does.
    async def page_and_api() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        before = await api_counts()
        await refreshed(page)
        return before, await shown_counts(page), await api_counts()

    _, shown, after = await eventually(
        page_and_api, lambda seen: seen[0] == seen[2] and seen[1] == seen[0]
    )
    assert shown == after
    for status in ours:
        assert shown[status] >= 1, f"{status} shows no order"

    # The stage chart drew a bar per finished stage and marked the API's bottleneck.
    stages_response = await world.api.get(
        "/api/v1/analytics/stage-durations",
        params={
            "from": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
            "to": datetime.now(UTC).isoformat(),
        },
        headers=ops.headers,
    )
    assert stages_response.status_code == 200, stages_response.text
    bottleneck = stages_response.json()["bottleneck"]
    assert bottleneck is not None
    stage_chart = page.locator("#stages-chart svg")
    box = await stage_chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    marked = page.locator("#stages-chart .stage.bottleneck")
    assert await marked.count() == 1
    assert await marked.get_attribute("data-status") == bottleneck["status"]
    assert await page.locator("#stages-chart .stage").count() >= 2
    assert "Bottleneck" in await page.inner_text("#stages-chart .chart-caption")

    # The throughput chart has fourteen days: the day our orders were entered has a bar of
    # created orders, the day one completed a bar of completed ones.
    throughput_chart = page.locator("#throughput-chart svg")
    box = await throughput_chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    days = page.locator("#throughput-chart g.day")
    assert await days.count() == 14
    entered_on = (await world.order(ours["UNDER_REVIEW"]))["created_at"][:10]
    completed_on = (await world.order(ours["COMPLETED"]))["history"][-1]["at"][:10]
    entered_day = page.locator(f'#throughput-chart g.day[data-start="{entered_on}"]')
    completed_day = page.locator(f'#throughput-chart g.day[data-start="{completed_on}"]')
    assert await entered_day.locator("rect.created").count() == 1
    assert await completed_day.locator("rect.completed").count() == 1

    # Approval turnaround lists the supervisor level that decided the orders above.
    levels = page.locator("#approvals tbody tr[data-level]")
    assert await levels.count() >= 1

    # Every order links to its own workflow in the Temporal UI and to its API detail.
    temporal_links = page.locator("a.temporal-link")
    assert await temporal_links.count() >= 1
    for index in range(await temporal_links.count()):
        link = temporal_links.nth(index)
        order_no = await link.get_attribute("data-order-no")
        assert await link.get_attribute("href") == (
            f"{TEMPORAL_UI}/namespaces/default/workflows/order-{order_no}"
        )
    held_link = page.locator(f'#alert-lists a.order-link[data-order-no="{ours["ON_HOLD"]}"]')
    if await held_link.count() == 0:
        # Many held orders from other tests: the list shows the first few only.
        held_link = page.locator("#alert-lists a.order-link").first
    held_no = await held_link.get_attribute("data-order-no")
    assert await held_link.get_attribute("href") == f"/api/v1/orders/{held_no}"
    await held_link.click()
    await expect(page.locator("#detail-body")).to_contain_text(
        f'"order_no": "{held_no}"', timeout=PAGE_WAIT_MS
    )
    await page.click("#detail button[type=submit]")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert errors == []


async def test_a_customer_is_refused_and_a_wrong_password_told(
    world: World, browser: Browser, dashboard_url: str
) -> None:
    page = await browser.new_page()
    await sign_in(page, dashboard_url, world["customer"].username)
    error = page.locator("#sign-in-error")
    await error.wait_for(state="visible")
    assert "staff only" in await error.inner_text()
    assert not await page.is_visible("#board")
    assert await page.evaluate("sessionStorage.length") == 0

    await sign_in(page, dashboard_url, world["ops"].username, password="not-the-password")
    await expect(error).to_contain_text("Wrong username or password", timeout=PAGE_WAIT_MS)
    assert not await page.is_visible("#board")


async def test_the_page_refreshes_itself_and_says_when(
    world: World, browser: Browser, lively_dashboard_url: str
) -> None:
    ops = world["ops"]
    page = await browser.new_page()
    await sign_in(page, lively_dashboard_url, ops.username)
    updated = page.locator("#updated")
    await expect(updated).to_have_attribute("data-at", re.compile("."), timeout=PAGE_WAIT_MS)
    first_text = await updated.inner_text()
    assert re.fullmatch(r"Updated at \d\d:\d\d:\d\d · every 1 s", first_text), first_text

    # An order entered now is counted on the board by a refresh of the page's own.
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")
    entered = datetime.now(UTC)

    async def page_and_api() -> tuple[datetime, int, int]:
        at = datetime.fromisoformat(str(await updated.get_attribute("data-at")))
        shown = await page.inner_text('#statuses [data-status="UNDER_REVIEW"] .count')
        response = await world.api.get("/api/v1/analytics/overview", headers=ops.headers)
        under_review = next(
            entry["count"]
            for entry in response.json()["statuses"]
            if entry["status"] == "UNDER_REVIEW"
        )
        return at, int(shown.replace(",", "")), under_review

    await eventually(page_and_api, lambda seen: seen[0] > entered and seen[1] == seen[2])


async def test_the_page_and_its_assets_come_from_this_server_only(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    page = await api.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy

    # Every file the page loads, and every module those files import, from this server.
    to_fetch = re.findall(r'(?:src|href)="(/dashboard/[^"]+)"', page.text)
    assert {"/dashboard/assets/dashboard.js", "/dashboard/assets/dashboard.css"} <= set(to_fetch)
    bodies = {"/dashboard": page.text}
    while to_fetch:
        path = to_fetch.pop()
        if path in bodies:
            continue
        asset = await api.get(path)
        assert asset.status_code == 200, path
        expected = "text/css" if path.endswith(".css") else "javascript"
        assert expected in asset.headers["content-type"], path
        assert asset.headers["cache-control"] == "no-cache", path
        bodies[path] = asset.text
        imports = re.findall(r'from "\./([\w.-]+\.js)"', asset.text)
        to_fetch += [f"/dashboard/assets/{name}" for name in imports]
    assert len(bodies) >= 5

    for path, body in bodies.items():
        for namespace in XML_NAMESPACES:
            body = body.replace(namespace, "")
        assert not re.search(r"https?://", body), f"{path} names another host"
        assert "//cdn" not in body and "@import" not in body, path

    config = await api.get("/dashboard/config")
    assert config.status_code == 200
    assert config.json() == {
        "temporal_ui_url": settings.temporal_ui_url,
        "namespace": settings.temporal_namespace,
        "refresh_seconds": 15,
    }
    missing = await api.get("/dashboard/assets/nothing-here.js")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NotFound"


def test_a_wrong_chromium_path_is_named_in_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(ChromiumUnavailable, match=r"CHROMIUM=.*no-such-browser is not an exec"):
        ensure_chromium()
