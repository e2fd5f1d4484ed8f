"""The interactive API documentation: Swagger UI at ``/docs``, ReDoc at ``/redoc``.

FastAPI's own pages load Swagger UI, ReDoc, a favicon and web fonts from other hosts, so on a
machine without internet they stay blank. These pages are FastAPI's, pointed at copies of the
same assets that the API serves itself (``api/static/docs/``, see its README for versions and
licences): nothing they load comes from another host.

Swagger UI's *Authorize* button signs in with the OAuth2 password flow at
``POST /api/v1/auth/token`` (the ``tokenUrl`` of ``api.deps.oauth2_scheme``); the redirect page
it expects is served too.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent / "static" / "docs"
ASSETS_URL = "/docs/assets"
SWAGGER_UI_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

SWAGGER_UI_PARAMETERS = {
    # Swagger UI would otherwise send the document to an online validator for a badge.
    "validatorUrl": None,
    "displayRequestDuration": True,
    "filter": True,
}


def install_docs(app: FastAPI) -> None:
    """Serve the assets and the three pages; build the app with ``docs_url=None`` and
    ``redoc_url=None`` so that FastAPI's CDN-backed pages are not served as well."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    title = app.title
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get(SWAGGER_UI_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title}: API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title}: API reference",
            redoc_js_url=f"{ASSETS_URL}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/swagger-ui/favicon-32x32.png",
            with_google_fonts=False,
        )
