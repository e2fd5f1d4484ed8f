"""Signed bearer tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"


def issue_token(username: str, secret: str, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": username, "iat": now, "exp": now + ttl}, secret, ALGORITHM)


def username_from_token(token: str, secret: str) -> str | None:
    """The token's subject, or None for a token that is forged, malformed or expired."""
    found = subject_and_issue_time(token, secret)
    return found[0] if found is not None else None


def subject_and_issue_time(token: str, secret: str) -> tuple[str, datetime | None] | None:
    """The token's subject and when it was issued (None for a token without ``iat``), or None
    for a token that is forged, malformed or expired."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str):
        return None
    issued = claims.get("iat")
    issued_at = datetime.fromtimestamp(issued, UTC) if isinstance(issued, int) else None
    return subject, issued_at
