"""``GET /metrics`` of the API and the Temporal SDK's metrics of the worker, as Prometheus
scrapes them."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr
from sqlalchemy import func, select

from db.models import Order
from tests.conftest import PROJECT_ROOT, WorkerProcesses
from tests.factories import World, eventually
from tests.mail import free_port

ORDER_ROUTE = "/api/v1/orders/{order_no}"
UNREACHABLE_DATABASE = "postgresql+psycopg://orderflow:orderflow@127.0.0.1:9/orderflow"


async def scrape(api: httpx.AsyncClient, **headers: str) -> list[Sample]:
    response = await api.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sample ``name`` with exactly these labels (0 when it is not there yet)."""
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


def requests_of(samples: list[Sample], method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return value(samples, "orderflow_http_requests_total", **labels)


async def test_requests_are_counted_and_timed_per_route_template(world: World) -> None:
    first, second = await world.new_order(), await world.new_order()
    before = await scrape(world.api)

    for order_no in (first, second):
        await world.order(order_no, as_="sales")
    missing = await world.api.get("/api/v1/orders/SO-1999-999999", headers=world["ops"].headers)
    assert missing.status_code == 404
    assert (await world.api.get(f"/nowhere/{first}")).status_code == 404
    after = await scrape(world.api)

    # Two orders read: one series for the route, never one per order number.
    assert (
        requests_of(after, "GET", ORDER_ROUTE, "200")
        - requests_of(before, "GET", ORDER_ROUTE, "200")
        == 2
    )
    assert (
        requests_of(after, "GET", ORDER_ROUTE, "404")
        - requests_of(before, "GET", ORDER_ROUTE, "404")
        == 1
    )
    assert (
        requests_of(after, "GET", "unmatched", "404")
        - requests_of(before, "GET", "unmatched", "404")
        == 1
    )
    labels = {"method": "GET", "route": ORDER_ROUTE, "status": "200"}
    timed = "orderflow_http_request_duration_seconds"
    assert value(after, f"{timed}_count", **labels) - value(before, f"{timed}_count", **labels) == 2
    assert value(after, f"{timed}_bucket", **labels, le="+Inf") == value(
        after, f"{timed}_count", **labels
    )
    assert value(after, f"{timed}_sum", **labels) > value(before, f"{timed}_sum", **labels)
    routes = {s.labels["route"] for s in after if "route" in s.labels}
    assert not [route for route in routes if first in route or second in route]
    # The entry itself counts under its own route, with the status it answered.
    assert requests_of(after, "POST", "/api/v1/orders", "201") >= 2


async def test_orders_by_status_are_what_postgresql_holds(world: World) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")

    async def under_review_in_database() -> int:
        async with world.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(Order).where(Order.status == "UNDER_REVIEW")
            )
        return int(count or 0)

    async def scrape_between_counts() -> tuple[int, float, int]:
        before = await under_review_in_database()
        samples = await scrape(world.api)
        return (
            before,
            value(samples, "orderflow_orders", status="UNDER_REVIEW"),
            (await under_review_in_database()),
        )

    # Orders of other tests may move meanwhile: compare a scrape whose count did not change.
    before, shown, _ = await eventually(scrape_between_counts, lambda r: r[0] == r[2])
    assert shown == before >= 1
    samples = await scrape(world.api)
    assert value(samples, "orderflow_database_up") == 1
    # Every status has its series, zero included.
    statuses = {s.labels["status"] for s in samples if s.name == "orderflow_orders"}
    assert {"CREATED", "COMPLETED", "ON_HOLD"} <= statuses


async def test_a_scrape_without_the_database_still_serves_the_request_figures(
    api_with: Any,
) -> None:
    async with api_with(database_url=UNREACHABLE_DATABASE) as api:
        assert (await api.get("/healthz")).status_code == 200
        samples = await scrape(api)
    assert value(samples, "orderflow_database_up") == 0
    assert not [s for s in samples if s.name in ("orderflow_orders", "orderflow_alerts")]
    assert requests_of(samples, "GET", "/healthz", "200") == 1


async def test_a_metrics_token_keeps_the_figures_to_its_holder(api_with: Any) -> None:
    token = "metrics-token-of-thirty-two-characters"
    async with api_with(metrics_token=SecretStr(token)) as api:
        refused = await api.get("/metrics")
        wrong = await api.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        samples = await scrape(api, Authorization=f"Bearer {token}")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["error"] == "Unauthorized"
    assert requests_of(samples, "GET", "/metrics", "401") == 2


async def test_the_worker_serves_the_sdk_metrics_on_its_own_port(
    world: World, api_with: Any, worker_process: WorkerProcesses
) -> None:
    port = free_port()
    worker_process.start(WORKER_METRICS_ADDRESS=f"127.0.0.1:{port}")
    async with api_with(task_queue=worker_process.task_queue) as api:
        world.api = api
        order_no = await world.new_order()
        await world.wait_for(order_no, "UNDER_REVIEW")

    async def worker_metrics() -> Mapping[str, float]:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert response.status_code == 200
        families = text_string_to_metric_families(response.text)
        return {
            s.name: s.value
            for family in families
            for s in family.samples
            if s.labels.get("task_queue") == worker_process.task_queue
        }

    # The worker's figures of this task queue: its workflow tasks and its local activities.
    seen = await eventually(
        worker_metrics,
        lambda m: (
            m.get("temporal_workflow_task_execution_latency_count", 0) > 0
            and m.get("temporal_local_activity_execution_latency_count", 0) > 0
        ),
    )
    assert all(name.startswith("temporal_") for name in seen)


def test_a_worker_whose_metrics_address_is_taken_says_so_and_stops(
    worker_process: WorkerProcesses,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        worker = subprocess.run(
            [sys.executable, "worker.py"],
            cwd=PROJECT_ROOT,
            env={**worker_process.env, "WORKER_METRICS_ADDRESS": address},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert worker.returncode == 1, worker.stderr
    [sentence] = worker.stderr.strip().splitlines()
    assert sentence.startswith(
        f"orderflow worker: cannot serve metrics on WORKER_METRICS_ADDRESS={address} "
    )
    assert "Address already in use" in sentence
