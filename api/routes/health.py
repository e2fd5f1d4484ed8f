"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Liveness: the API process answers",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
async def healthz() -> dict[str, str]:
    """Anyone, no sign-in. Answers 200 while the process serves requests; it checks nothing
    else, so a load balancer restarts only a process that is really stuck."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: PostgreSQL and Temporal reachable",
    responses={
        200: {
            "description": "Both answer.",
            "content": {
                "application/json": {
                    "example": {"status": "ready", "postgres": "ok", "temporal": "ok"}
                }
            },
        },
        503: {
            "description": "One of them does not; the answer says which.",
            "content": {
                "application/json": {
                    "example": {
                        "status": "not ready",
                        "postgres": "unreachable: OperationalError",
                        "temporal": "ok",
                    }
                }
            },
        },
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Anyone, no sign-in. Ready (200) when both PostgreSQL and Temporal answer; else 503
    with the one that does not, so traffic goes elsewhere until it is back."""
    checks: dict[str, str] = {}
    try:
        async with request.app.state.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except Exception as err:  # any failure means not ready; say which
        checks["postgres"] = f"unreachable: {type(err).__name__}"
    try:
        await request.app.state.temporal.service_client.check_health()
        checks["temporal"] = "ok"
    except Exception as err:
        checks["temporal"] = f"unreachable: {type(err).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", **checks}, 200 if ready else 503
    )
