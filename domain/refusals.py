"""Refusals: why a request does not fit the order, in words the caller can act on.

Rules in ``domain/`` raise :class:`Refusal`; the workflow turns it into a non-retryable
Temporal error of the same kind, and the API into 403, 409 or 422 with the same sentence.
"""

from __future__ import annotations

from enum import StrEnum


class RefusalKind(StrEnum):
    FORBIDDEN = "Forbidden"  # 403: this caller may not
    CONFLICT = "Conflict"  # 409: not in the order's present state
    INVALID = "Invalid"  # 422: the request itself is wrong


class Refusal(Exception):
    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def forbidden(message: str) -> Refusal:
    return Refusal(RefusalKind.FORBIDDEN, message)


def conflict(message: str) -> Refusal:
    return Refusal(RefusalKind.CONFLICT, message)


def invalid(message: str) -> Refusal:
    return Refusal(RefusalKind.INVALID, message)


# Not a refusal: the request fitted, but its write failed for good (the database refused it
# or stayed away). Nothing of it was kept; the API answers 503 and the caller may try again.
UNRECORDED = "Unrecorded"
