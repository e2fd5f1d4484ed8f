"""HMAC-SHA256 signatures: how we sign webhooks to subscribers (``sha256=<hex digest of the raw
body>``), and how the carrier signs tracking events to us, over a timestamp and the body, so
that a captured event cannot be replayed once it is a few minutes old."""

from __future__ import annotations

import hashlib
import hmac
import re

# A carrier event signed further than this from our clock, either way, is refused. Within it a
# replayed event is harmless: tracking events are stored once however often they arrive.
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def sign_body(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, signature: str, secret: str) -> bool:
    return hmac.compare_digest(sign_body(body, secret), signature.strip())


def sign_timestamped(body: bytes, timestamp: int, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``; ``timestamp`` in unix seconds."""
    return sign_body(f"{timestamp}.".encode() + body, secret)


def timestamped_signature_refusal(
    body: bytes, signature: str, timestamp: str | None, secret: str, *, now: float
) -> str | None:
    """Why a carrier signature is refused (one sentence), or None when it holds: the timestamp
    must be unix seconds within :data:`TIMESTAMP_TOLERANCE_SECONDS` of ``now``, and the
    signature must cover that timestamp and the body."""
    if timestamp is None or not _UNIX_SECONDS.fullmatch(timestamp.strip()):
        return "the carrier timestamp is missing or not unix seconds"
    seconds = int(timestamp.strip())
    if abs(now - seconds) > TIMESTAMP_TOLERANCE_SECONDS:
        minutes = TIMESTAMP_TOLERANCE_SECONDS // 60
        return f"the carrier timestamp is more than {minutes} minutes away from now"
    expected = sign_timestamped(body, seconds, secret)
    if not hmac.compare_digest(expected, signature.strip()):
        return "the carrier signature does not match the timestamp and body"
    return None
