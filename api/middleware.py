"""What wraps every request before routing: a request id on every answer (and on every log
line written while answering), a bound on the body's size, the one error shape for anything
the app let escape, and the request's figures and access line.

Both are plain ASGI middleware rather than exception handlers: Starlette's handler for
``Exception`` answers and then raises again, so a test client or the server would log the
same failure twice; and a body limit must hold while the body streams in.
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import DATABASE_RETRY_AFTER, database_unreachable, error_response
from api.metrics import ApiMetrics, route_template
from logs import ACCESS_LOGGER, bind_order_no, current_order_no, request_context

REQUEST_ID_HEADER = "X-Request-ID"

logger = logging.getLogger(__name__)
access_logger = logging.getLogger(ACCESS_LOGGER)


class BodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in; FastAPI lets an HTTPException through its body
    parsing untouched, so it is answered as 413 in the one shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Refuse a body larger than ``max_bytes``: at once when Content-Length says so, else as
    soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = BodyTooLarge(self.max_bytes)
        if _declared_length(scope) > self.max_bytes:
            await error_response(413, "PayloadTooLarge", too_large.detail)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyTooLarge:
            # Read somewhere FastAPI's handlers do not reach; answer here unless it is late.
            if started:
                raise
            await error_response(413, "PayloadTooLarge", too_large.detail)(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    try:
        return int(Headers(scope=scope).get("content-length", "0"))
    except ValueError:
        return 0


class RequestContextMiddleware:
    """Give each request an id, sent back as ``X-Request-ID`` on every answer and carried by
    every log line written meanwhile; answer any exception that escaped the app with a 500 in
    the one shape, logged under that id; count and time the request per route template
    (``metrics``) and write its access line."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        with request_context(request_id):
            started_at = time.perf_counter()
            status = 500  # unless an answer starts: the server then closes the connection
            try:
                status = await self._answer(scope, receive, send, request_id)
            finally:
                self._account(scope, status, time.perf_counter() - started_at)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> int:
        """Run the app; the status it answered with."""
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
                _bind_path_order(scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            _bind_path_order(scope)
            started = status is not None
            if database_unreachable(error):
                await self._database_away(scope, receive, send_with_id, started, error)
                return status or 503
            logger.exception(
                "unhandled error answering %s %r [request_id=%s]",
                scope.get("method"),
                scope.get("path"),
                request_id,
            )
            if started:
                # Too late for an answer of its own: the server closes the connection.
                return 500
            response = error_response(
                500,
                "InternalError",
                "the server failed to answer this request; quote the request id when reporting it",
                request_id=request_id,
            )
            await response(scope, receive, send_with_id)
        return status or 500

    def _account(self, scope: Scope, status: int, seconds: float) -> None:
        method = str(scope.get("method", ""))
        route = route_template(scope)
        if self.metrics is not None:
            self.metrics.observe(method, route, status, seconds)
        duration_ms = round(seconds * 1000, 1)
        access_logger.info(
            "%s %s %d %.1f ms",
            method,
            scope.get("path"),
            status,
            duration_ms,
            extra={
                "method": method,
                "route": route,
                "path": scope.get("path"),
                "status": status,
                "duration_ms": duration_ms,
            },
        )

    @staticmethod
    async def _database_away(
        scope: Scope, receive: Receive, send: Send, started: bool, error: Exception
    ) -> None:
        """PostgreSQL is away (restarting, failing over): 503 with ``Retry-After``, as for a
        workflow that cannot answer; nothing was committed, so the same request may be sent
        again."""
        logger.warning(
            "PostgreSQL unreachable answering %s %r: %s",
            scope.get("method"),
            scope.get("path"),
            " ".join(str(error).split())[:300],
        )
        if started:
            return
        response = error_response(
            503,
            "Unavailable",
            "the database cannot be reached right now; try again shortly",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
        await response(scope, receive, send)


async def bind_path_order(request: Request) -> None:
    """An app-wide dependency, so that the lines a route writes carry the order it is about.
    Async on purpose: a plain function would run in a worker thread, whose context is lost."""
    _bind_path_order(request.scope)


def _bind_path_order(scope: Scope) -> None:
    """A request on one order (``/orders/{order_no}/...``) is about that order; a route that
    created one has bound it already."""
    order_no = scope.get("path_params", {}).get("order_no")
    if isinstance(order_no, str) and order_no and current_order_no() is None:
        bind_order_no(order_no)
