"""Which activity failures can heal, and which cannot.

A failure that retrying cannot heal (the database refusing the data, a constraint broken, a
carrier answering 4xx, a bug) is raised again as a non-retryable ``ApplicationError`` whose
type says which, so the workflow hears of it at once and puts the order on hold for ops
instead of retrying for ever. Everything else (a dropped connection, a timeout, a 5xx) stays
retryable, within the bounded retry policy the workflow gives each activity.

It is one worker interceptor, so every activity is classified the same way and none has to
remember to.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import exc as sa_exc
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

DATA_FAULT = "DataFault"  # the database refused what was written
REFUSED_BY_PARTNER = "RefusedByPartner"  # an outside service answered 4xx
BUG = "Bug"  # the code itself failed; retrying runs the same code again

# Statuses an outside service may answer again with a different result.
_TRANSIENT_HTTP = {408, 425, 429}
_EXCERPT = 200


def classify(error: BaseException) -> str | None:
    """The fault type of a failure that cannot heal, or None when a retry may help."""
    if isinstance(error, sa_exc.DBAPIError):
        if isinstance(error, sa_exc.DataError | sa_exc.IntegrityError | sa_exc.ProgrammingError):
            return DATA_FAULT
        return None
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        if 400 <= status < 500 and status not in _TRANSIENT_HTTP:
            return REFUSED_BY_PARTNER
        return None
    if isinstance(error, ValueError | TypeError | LookupError | AssertionError | OverflowError):
        return BUG
    return None


def one_line(error: BaseException) -> str:
    """The error in one short line, for a hold reason and an alert: the driver's own message
    for a database error (not the statement and its parameters)."""
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig else error
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text[:_EXCERPT]


class _ClassifyingActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except ApplicationError:
            raise
        except Exception as error:
            fault = classify(error)
            if fault is None:
                raise
            activity.logger.warning("%s cannot heal: %s", fault, one_line(error))
            raise ApplicationError(
                f"{type(error).__name__}: {one_line(error)}", type=fault, non_retryable=True
            ) from error


class FailureClassifier(Interceptor):
    """Worker interceptor: every activity's failures classified as above."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ClassifyingActivityInbound(next)
