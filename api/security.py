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
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) else None
