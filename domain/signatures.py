"""HMAC-SHA256 body signatures: how the carrier signs tracking events to us, and how we sign
webhooks to subscribers (``sha256=<hex digest of the raw body>``)."""

from __future__ import annotations

import hashlib
import hmac


def sign_body(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(body: bytes, signature: str, secret: str) -> bool:
    return hmac.compare_digest(sign_body(body, secret), signature.strip())
