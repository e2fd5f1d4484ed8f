"""Keyset paging: every list answers ``{"data": [...], "next_cursor": ...}``, and the cursor is
the id of the last row of a page, opaque to the caller."""

from __future__ import annotations

import base64
import binascii

from api.errors import InvalidRequest


def encode_cursor(row_id: int) -> str:
    """An opaque cursor for keyset paging: the id of the last row of a page."""
    return base64.urlsafe_b64encode(str(row_id).encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this API returned") from None
