"""Log lines of the API and the worker, in one shape so that one order can be followed across
both: ``LOG_FORMAT=json`` (the default) writes one JSON object per line, ``LOG_FORMAT=text``
a readable line for development.

Every line carries ``time``, ``level``, ``logger`` and ``message``; ``request_id`` when it was
written while the API answered a request; ``order_no`` when it concerns one order (the
request's path or the order it created, or the workflow an activity or workflow belongs to:
the workflow id is ``order-<order_no>``); fields passed as ``extra``; and the exception's
traceback under ``exception``. The context is read when the line is written, which for the
stream handler configured here is in the task that logged it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio import activity

LogFormat = Literal["json", "text"]

# The workflow id of an order, as ``workflows.messages.workflow_id_for`` builds it.
ORDER_WORKFLOW_PREFIX = "order-"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_order_no: ContextVar[str | None] = ContextVar("order_no", default=None)

# What every LogRecord has; anything else on a record came in through ``extra``.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", "request_id", "order_no"}
)
# Extras that only repeat the message in another form: uvicorn's coloured copy of it, and the
# Temporal core's own record of a forwarded line (its fields are already in the message).
_REPEATS = frozenset({"color_message", "temporal_log"})


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Lines written inside carry ``request_id`` and, once bound, the order's number."""
    request_token = _request_id.set(request_id)
    order_token = _order_no.set(None)
    try:
        yield
    finally:
        _order_no.reset(order_token)
        _request_id.reset(request_token)


def bind_order_no(order_no: str) -> None:
    """The order the current request is about, for every line it writes from now on."""
    _order_no.set(order_no)


def current_order_no() -> str | None:
    return _order_no.get()


def order_no_of_workflow(workflow_id: str | None) -> str | None:
    """The order number in an order workflow's id; None for any other workflow."""
    if workflow_id and workflow_id.startswith(ORDER_WORKFLOW_PREFIX):
        return workflow_id[len(ORDER_WORKFLOW_PREFIX) :]
    return None


def _temporal_workflow_id(record: logging.LogRecord) -> str | None:
    """The workflow id the Temporal SDK's activity and workflow loggers put in ``extra``; for
    any other logger used inside an activity, the running activity's own."""
    for key in ("temporal_activity", "temporal_workflow"):
        details = getattr(record, key, None)
        if isinstance(details, Mapping) and details.get("workflow_id"):
            return str(details["workflow_id"])
    if activity.in_activity():
        return activity.info().workflow_id
    return None


def line_context(record: logging.LogRecord) -> dict[str, str]:
    """``request_id`` and ``order_no`` of a line: given as ``extra``, else from the request
    being answered, else from the Temporal workflow the line was written for."""
    context: dict[str, str] = {}
    request_id = getattr(record, "request_id", None) or _request_id.get()
    if request_id:
        context["request_id"] = str(request_id)
    order_no = (
        getattr(record, "order_no", None)
        or _order_no.get()
        or order_no_of_workflow(_temporal_workflow_id(record))
    )
    if order_no:
        context["order_no"] = str(order_no)
    return context


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RECORD_ATTRIBUTES and key not in _REPEATS and not key.startswith("_")
    }


def _utc_time(created: float) -> str:
    """``2026-12-01T14:50:00.123Z``."""
    return datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values JSON cannot carry are written as their ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(line_context(record))
        for key, value in _extras(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``<time> <logger> <LEVEL> <message> [request_id=... order_no=...]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(f"{key}={value}" for key, value in line_context(record).items())
        if not context:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{context}]{newline}{rest}"


def formatter_for(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(log_format: LogFormat, level: str = "INFO") -> None:
    """Send every logger's lines to stderr in ``log_format``: the root logger gets the one
    handler, and uvicorn's loggers, which bring handlers of their own, pass theirs up to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


# The API's own line per request (method, route template, status, duration, request id and
# order) replaces uvicorn's access line, which knows neither the route nor the order.
ACCESS_LOGGER = "api.access"


def configure_api_logging(log_format: LogFormat, level: str = "INFO") -> None:
    """:func:`configure_logging` for the API under uvicorn, whose switches still govern the
    access line: ``--no-access-log`` turns it off and ``--log-level`` sets its level."""
    uvicorn_access = logging.getLogger("uvicorn.access")
    wanted = bool(uvicorn_access.handlers) or uvicorn_access.propagate
    access_level = uvicorn_access.level or logging.INFO
    configure_logging(log_format, level)
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    access = logging.getLogger(ACCESS_LOGGER)
    access.disabled = not wanted
    access.setLevel(access_level)
