"""One error shape everywhere: ``{"error": "<Kind>", "detail": "<one sentence>"}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    error: str
    detail: Any


class AppError(Exception):
    """A refusal the caller can act on; carries its HTTP status and error kind."""

    status_code = 400
    kind = "BadRequest"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        # Seconds after which the same request may succeed (429, 503).
        self.retry_after = retry_after


class Unauthorized(AppError):
    status_code = 401
    kind = "Unauthorized"


class Forbidden(AppError):
    status_code = 403
    kind = "Forbidden"


class NotFound(AppError):
    status_code = 404
    kind = "NotFound"


class Conflict(AppError):
    status_code = 409
    kind = "Conflict"


class InvalidRequest(AppError):
    status_code = 422
    kind = "ValidationError"


class TooManyRequests(AppError):
    """Refused for now; ``Retry-After`` says in how many seconds to try again."""

    status_code = 429
    kind = "TooManyRequests"


class Unavailable(AppError):
    status_code = 503
    kind = "Unavailable"


_KIND_BY_STATUS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    422: "ValidationError",
    429: "TooManyRequests",
    503: "Unavailable",
}


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the refusals a route can answer with."""
    return {error.status_code: {"model": ErrorBody, "description": error.kind} for error in errors}


def install_error_handlers(app: FastAPI) -> None:
    async def app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, exc.retry_after))
        return JSONResponse(
            {"error": exc.kind, "detail": exc.detail}, status_code=exc.status_code, headers=headers
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            {"error": "ValidationError", "detail": jsonable_encoder(exc.errors())},
            status_code=422,
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        kind = _KIND_BY_STATUS.get(exc.status_code, "Error")
        return JSONResponse(
            {"error": kind, "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
