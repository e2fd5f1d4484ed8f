"""The FastAPI application: ``uvicorn api.app:app``."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from temporalio.client import Client

from api.errors import install_error_handlers
from api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from api.openapi import install_openapi
from api.routes import (
    analytics,
    audit,
    auth,
    carrier,
    dashboard,
    delegations,
    health,
    notifications,
    orders,
    policy,
    reference,
)
from config import InsecureSettings, Settings, get_settings
from db.session import create_engine, create_session_factory

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
    )
    install_error_handlers(app)
    install_openapi(app)
    # The last added runs first: every answer, a 413 included, carries its request id.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(dashboard.router)
    app.mount(dashboard.ASSETS_PATH, dashboard.dashboard_assets(), name="dashboard-assets")
    for module in (
        health,
        auth,
        reference,
        orders,
        carrier,
        policy,
        delegations,
        notifications,
        audit,
        analytics,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    return app


def _app_or_exit() -> FastAPI:
    """The app ``uvicorn api.app:app`` serves; unsafe settings end the process with the one
    sentence that says what to fix, rather than a traceback."""
    try:
        return create_app()
    except InsecureSettings as refusal:
        print(f"orderflow api: {refusal}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


app = _app_or_exit()
