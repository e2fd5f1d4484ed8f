"""The FastAPI application: ``uvicorn api.app:app``."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from temporalio.client import Client

from api import metrics
from api.docs import install_docs
from api.errors import install_error_handlers
from api.metrics import ApiMetrics
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware, bind_path_order
from api.openapi import install_openapi
from api.routes import (
    amendment_requests,
    amendments,
    analytics,
    archiving,
    audit,
    auth,
    carrier,
    dashboard,
    delegations,
    feedback,
    health,
    master_data,
    notifications,
    order_export,
    order_templates,
    orders,
    policy,
    reference,
    shipping,
    stock,
    users,
)
from config import InsecureSettings, Settings, get_settings
from db.session import create_engine, create_session_factory
from logs import configure_api_logging

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and Temporal client. Outside development,
    weak secrets raise :class:`InsecureSettings` before anything starts."""
    settings = settings or get_settings()
    settings.refuse_default_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.sqlalchemy_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        app.state.settings = settings
        app.state.sessions = create_session_factory(engine)
        app.state.temporal = temporal or await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Order flow",
        summary="Every sales order is a durable workflow: review, production, shipping, receipt.",
        version="1.0.0",
        lifespan=lifespan,
        dependencies=[Depends(bind_path_order)],
        # Served from the API's own assets instead (api/docs.py): no CDN, so they work offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.metrics = ApiMetrics()
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)
    # The last added runs first: every answer, a 413 included, carries its request id.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(dashboard.router)
    app.mount(dashboard.ASSETS_PATH, dashboard.dashboard_assets(), name="dashboard-assets")
    for module in (
        health,
        auth,
        reference,
        orders,
        shipping,
        amendments,
        amendment_requests,
        feedback,
        order_export,
        order_templates,
        carrier,
        policy,
        delegations,
        notifications,
        audit,
        analytics,
        users,
        master_data,
        stock,
        archiving,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def _app_or_exit() -> FastAPI:
    """The app ``uvicorn api.app:app`` serves; unsafe settings end the process with the one
    sentence that says what to fix, rather than a traceback. Uvicorn loads it before it logs
    anything, so every line of the process is in LOG_FORMAT."""
    settings = get_settings()
    try:
        served = create_app(settings)
    except InsecureSettings as refusal:
        print(f"orderflow api: {refusal}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    configure_api_logging(settings.log_format, settings.log_level)
    return served


def __getattr__(name: str) -> FastAPI:
    """``api.app.app`` is built when first asked for (by uvicorn), not on import: importing
    ``create_app`` (as the tests do) then configures no process-wide logging."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    served = globals()["app"] = _app_or_exit()
    return served
