"""Keyset paging: every list answers ``{"data": [...], "next_cursor": ...}``, and the cursor is
the last row of a page, opaque to the caller: its id, and for a sorted list also the sort it
belongs to and the row's sort key."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from api.errors import InvalidRequest
from api.schemas.types import EARLIEST, INT32_MAX, LATEST

_NOT_OURS = "cursor is not one this API returned"


def encode_cursor(row_id: int) -> str:
    """An opaque cursor for keyset paging: the id of the last row of a page."""
    return base64.urlsafe_b64encode(str(row_id).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The row id a cursor stands for; 422 for anything this API could not have returned,
    an id outside the ``integer`` ids included."""
    try:
        row_id = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeError):
        row_id = 0
    if not 1 <= row_id <= INT32_MAX:
        raise InvalidRequest(_NOT_OURS)
    return row_id


def encode_sorted_cursor(sort: str, key: str | None, row_id: int) -> str:
    """A cursor for a list sorted by ``sort``: the last row's sort key (as text) and its id,
    the tie-breaker."""
    return base64.urlsafe_b64encode(json.dumps([sort, key, row_id]).encode()).decode()


def decode_sorted_cursor(cursor: str, sort: str) -> tuple[str | None, int]:
    """The sort key (as text, for the caller to parse) and row id a cursor of ``sort`` stands
    for; 422 for a cursor of another sort, or anything this API could not have returned."""
    try:
        payload: Any = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeError):
        payload = None
    if not (
        isinstance(payload, list)
        and len(payload) == 3
        and isinstance(payload[0], str)
        and (payload[1] is None or isinstance(payload[1], str))
        and type(payload[2]) is int
        and 1 <= payload[2] <= INT32_MAX
    ):
        raise InvalidRequest(_NOT_OURS)
    if payload[0] != sort:
        raise InvalidRequest("the cursor belongs to another sort: start again without a cursor")
    return payload[1], payload[2]


def cursor_moment(text: str | None) -> datetime:
    """A cursor's sort key that is a moment: timezone-aware and within the window; 422 else."""
    try:
        moment = datetime.fromisoformat(text) if text is not None else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not EARLIEST <= moment < LATEST:
        raise InvalidRequest(_NOT_OURS)
    return moment
