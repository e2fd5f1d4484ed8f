"""Keyset paging: every list answers ``{"data": [...], "next_cursor": ...}``, and the cursor is
the id of the last row of a page, opaque to the caller."""

from __future__ import annotations

import base64
import binascii

from api.errors import InvalidRequest
from api.schemas.types import INT32_MAX


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
        raise InvalidRequest("cursor is not one this API returned")
    return row_id
