"""The ops dashboard: one page with its scripts and style sheet, served from files in the repo.

The page itself holds no data and needs no sign-in to load; staff sign in on it, and its script
reads the analytics API with the bearer token it got. Nothing comes from another host, so it
works on a machine without internet: the charts are SVG drawn by the page's own script.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from api.deps import SettingsDep
from api.schemas.dashboard import DashboardConfig

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "dashboard"
ASSETS_PATH = "/dashboard/assets"

# Only this server's own files and API; no inline script, no framing by other sites. The
# bearer token lives in the page's sessionStorage, so nothing foreign may run beside it.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

router = APIRouter(tags=["dashboard"])


@router.get("/dashboard", response_class=HTMLResponse, summary="Ops dashboard (a web page)")
async def dashboard_page() -> FileResponse:
    """The ops dashboard page: staff sign in on it, then it shows the order book, waiting
    orders, stage durations and the bottleneck, throughput, approval turnaround and alerts."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/dashboard/config", response_model=DashboardConfig, summary="Dashboard settings")
async def dashboard_config(settings: SettingsDep) -> DashboardConfig:
    """Where the page links orders to: the Temporal Web UI (``TEMPORAL_UI_URL``) and the
    namespace of the order workflows; how often the page refreshes
    (``DASHBOARD_REFRESH_SECONDS``)."""
    return DashboardConfig(
        temporal_ui_url=settings.temporal_ui_url.rstrip("/"),
        namespace=settings.temporal_namespace,
        refresh_seconds=settings.dashboard_refresh_seconds,
    )


class _Revalidated(StaticFiles):
    """Static files a browser checks again (by ETag) before each use, so that after an upgrade
    the page never runs an old script beside a new one."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def dashboard_assets() -> StaticFiles:
    """The page's scripts and style sheet, mounted at :data:`ASSETS_PATH`."""
    return _Revalidated(directory=STATIC_DIR)
