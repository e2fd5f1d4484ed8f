"""One error shape everywhere: ``{"error": "<Kind>", "detail": "<one sentence>"}``.

Validation errors keep FastAPI's field list under ``detail``, but never echo more than a short
excerpt of what the caller sent: a 10 MB string, a lone surrogate or ``NaN`` sent back whole
would make the answer huge, or impossible to encode. A 500 carries the request id it was
logged under (see ``api/middleware.py``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

# How much of a value a 422 shows back, and of a location's key.
INPUT_EXCERPT_CHARS = 80
KEY_EXCERPT_CHARS = 40
MESSAGE_CHARS = 300
# Control characters and lone surrogates are shown as \uXXXX escapes, never sent raw.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class ErrorBody(BaseModel):
    error: str
    detail: Any
    request_id: str | None = Field(
        default=None, description="On a 500: the id the failure was logged under."
    )


class FieldError(BaseModel):
    """One entry of a 422's field list: where, what kind of problem, in words; ``input`` is
    at most a short excerpt of what was sent."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class ValidationErrorBody(BaseModel):
    """A 422: the field list when the request does not fit its schema, one sentence when the
    values fit but cannot be taken (an unknown customer, a total too large)."""

    error: Literal["ValidationError"]
    detail: list[FieldError] | str


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


# SQLSTATEs of a database that cannot be reached or went away: connection exceptions (class
# 08) and the server shutting down or starting up (57P01-57P03).
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")
# Seconds a client waits before trying again while PostgreSQL is away (a restart takes a few).
DATABASE_RETRY_AFTER = 2


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says PostgreSQL cannot be reached right now (it restarts, fails over,
    or dropped the connection): a condition that heals, so the answer is 503, not 500."""
    cause: BaseException | None = error
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    if not isinstance(cause, psycopg.OperationalError):
        return False
    state = cause.sqlstate
    # No SQLSTATE: the client library itself lost or never got the connection.
    return state is None or state.startswith(_UNREACHABLE_STATES)


_KIND_BY_STATUS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    422: "ValidationError",
    429: "TooManyRequests",
    500: "InternalError",
    503: "Unavailable",
}


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the refusals a route can answer with."""
    return {error.status_code: {"model": ErrorBody, "description": error.kind} for error in errors}


def printable(text: str) -> str:
    """``text`` with control characters and lone surrogates written as ``\\uXXXX``."""
    return _UNPRINTABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def shortened(text: str, limit: int) -> str:
    """The first ``limit`` characters of ``text``, printable, marked when cut."""
    return printable(text[:limit]) + ("…" if len(text) > limit else "")


def excerpt(value: object, limit: int = INPUT_EXCERPT_CHARS) -> object:
    """A short, JSON-safe stand-in for a value the caller sent."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) <= 2**53:
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str):
        return shortened(value, limit)
    try:
        text = json.dumps(value, default=str)
    except ValueError:  # e.g. an integer too long to write out
        text = f"<{type(value).__name__}>"
    return shortened(text, limit)


def error_response(
    status_code: int,
    kind: str,
    detail: Any,
    *,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    """The one error shape; ``request_id`` only on a 500, where it ties the answer to the log."""
    body: dict[str, Any] = {"error": kind, "detail": detail}
    if request_id is not None:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status_code, headers=headers)


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of FastAPI's field list with every part that echoes the caller cut short."""
    entry: dict[str, Any] = {
        "type": str(error.get("type", "value_error")),
        "loc": [
            part if isinstance(part, int) else shortened(str(part), KEY_EXCERPT_CHARS)
            for part in error.get("loc", ())
        ],
        "msg": shortened(str(error.get("msg", "")), MESSAGE_CHARS),
    }
    if "input" in error:
        entry["input"] = excerpt(error["input"])
    context = error.get("ctx")
    if isinstance(context, Mapping):
        entry["ctx"] = {str(key): excerpt(value) for key, value in context.items()}
    return entry


def body_unreadable(reason: str) -> JSONResponse:
    """A body that is not even JSON (or a form) is bad input like any other: a 422."""
    return error_response(
        422,
        "ValidationError",
        [
            {
                "type": "body_unreadable",
                "loc": ["body"],
                "msg": shortened(f"the body cannot be read: {reason}", MESSAGE_CHARS),
            }
        ],
    )


def install_error_handlers(app: FastAPI) -> None:
    async def app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, exc.retry_after))
        return error_response(exc.status_code, exc.kind, printable(exc.detail), headers=headers)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(
            422, "ValidationError", [_field_error(error) for error in exc.errors()]
        )

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # The only 400 the framework raises: a body it could not parse (bad UTF-8, a
            # broken form), after which it never looked at the fields.
            return body_unreadable(str(exc.detail))
        kind = _KIND_BY_STATUS.get(exc.status_code, "Error")
        return error_response(
            exc.status_code, kind, exc.detail, headers=getattr(exc, "headers", None)
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
