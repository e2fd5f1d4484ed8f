"""``GET /metrics``: the API's figures for Prometheus, in its text format.

* ``orderflow_http_requests_total`` and ``orderflow_http_request_duration_seconds`` by
  ``method``, ``route`` and ``status``: the route is the path template
  (``/api/v1/orders/{order_no}``), never the path itself, so that the number of series stays
  bounded however many orders there are; a path no route matches counts as ``unmatched``.
* ``orderflow_orders`` by ``status`` and ``orderflow_alerts`` by ``kind``, read from
  PostgreSQL when scraped (two GROUP BYs, bounded by :data:`DATABASE_READ_TIMEOUT`);
  ``orderflow_database_up`` is 0 when that read failed, and the two are then left out rather
  than shown stale, while the request figures are still served.

The figures belong to one process: each app has a registry of its own (several apps in one
test process never share counts), and each API process is scraped on its own.

The endpoint is open, as Prometheus scrapers expect (like ``/healthz``); a deployment keeps
the API port on an internal network, or sets ``METRICS_TOKEN`` so that it answers only
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

from api.errors import error_response
from db.models import Alert, Order
from domain.statuses import OrderStatus

UNMATCHED_ROUTE = "unmatched"
# A scrape waits this long for PostgreSQL before it answers without the order figures.
DATABASE_READ_TIMEOUT = 2.0
# Request durations from 5 ms to 30 s: reads answer in milliseconds, an update waits on its
# workflow for up to UPDATE_WAIT (10 s by default).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

logger = logging.getLogger(__name__)
router = APIRouter(tags=["monitoring"])


class ApiMetrics:
    """The registry of one app and the figures it keeps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "orderflow_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "orderflow_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.orders = Gauge(
            "orderflow_orders",
            "Orders in each status now, read from PostgreSQL at scrape time.",
            ("status",),
            registry=self.registry,
        )
        self.alerts = Gauge(
            "orderflow_alerts",
            "Alerts raised so far, by kind, read from PostgreSQL at scrape time.",
            ("kind",),
            registry=self.registry,
        )
        self.database_up = Gauge(
            "orderflow_database_up",
            "1 when this scrape read the order and alert figures from PostgreSQL, else 0.",
            registry=self.registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route, str(status)).observe(seconds)

    def show_database(
        self, orders: Mapping[str, int] | None, alerts: Mapping[str, int] | None
    ) -> None:
        """The figures of this scrape's database read; None when it failed."""
        self.orders.clear()
        self.alerts.clear()
        if orders is None or alerts is None:
            self.database_up.set(0)
            return
        self.database_up.set(1)
        # Every status appears, zero included, so that a series never vanishes.
        for status in OrderStatus:
            self.orders.labels(status.value).set(orders.get(status.value, 0))
        for kind, count in alerts.items():
            self.alerts.labels(kind).set(count)


def route_template(scope: Scope) -> str:
    """The route that answered the request as its full path template; ``unmatched`` for a
    request no route took (no route matched, or it was refused before routing).

    The route knows its own template without the prefix of the router that includes it, so
    the prefix is taken from the path: what precedes the template filled with the request's
    own parameters. Were that not found, the bare template would do (still bounded).
    """
    route = scope.get("route")
    # ``path_format`` is the template without converters (``{n}``, not ``{n:int}``).
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str) or not template:
        return UNMATCHED_ROUTE
    path = str(scope.get("path", ""))
    params = scope.get("path_params") or {}
    try:
        filled = template.format(**{name: str(value) for name, value in params.items()})
    except (KeyError, IndexError, ValueError):
        return template
    if filled and path.endswith(filled):
        return path[: len(path) - len(filled)] + template
    return template


async def read_database_figures(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[dict[str, int], dict[str, int]]:
    async with sessions() as session:
        orders = await session.execute(select(Order.status, func.count()).group_by(Order.status))
        alerts = await session.execute(select(Alert.kind, func.count()).group_by(Alert.kind))
        return (
            {status: count for status, count in orders.all()},
            {kind: count for kind, count in alerts.all()},
        )


def _authorised(request: Request) -> bool:
    token = request.app.state.settings.metrics_token
    expected = token.get_secret_value() if token is not None else ""
    if not expected:
        return True
    given = request.headers.get("authorization", "")
    scheme, _, credentials = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credentials.strip().encode(), expected.encode()
    )


@router.get(
    "/metrics",
    summary="Metrics for Prometheus",
    description=(
        "Requests and latency per route template and status, orders per status and alerts "
        "per kind, in the Prometheus text format. Open unless METRICS_TOKEN is set, then a "
        "bearer token equal to it is required."
    ),
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "The figures."}},
)
async def metrics(request: Request) -> Response:
    if not _authorised(request):
        return error_response(
            401,
            "Unauthorized",
            "send the metrics token as a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    figures: ApiMetrics = request.app.state.metrics
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DATABASE_READ_TIMEOUT):
            orders, alerts = await read_database_figures(request.app.state.sessions)
    except Exception as error:  # any failure: serve what the process knows, and say so
        logger.warning(
            "metrics: PostgreSQL not read after %.2f s: %s",
            time.perf_counter() - started,
            " ".join(str(error).split())[:300] or type(error).__name__,
        )
        figures.show_database(None, None)
    else:
        figures.show_database(orders, alerts)
    # No await between setting the figures and rendering them: two scrapes cannot interleave.
    return Response(generate_latest(figures.registry), media_type=CONTENT_TYPE_LATEST)
