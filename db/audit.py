"""The audit log: one hash-chained row per decision, transition, hold, delegation or policy
change, appended inside the transaction that makes the change, so the two commit together.

Each row's ``hash`` is ``sha256(prev_hash + canonical content)``, the content being the JSON
text, keys sorted, of its ``at``, ``actor``, ``kind``, ``order_no`` and ``payload``. Any
change to a stored row, or its removal, therefore breaks the chain at that row or the next one.
The database refuses updates and deletes of ``audit_log`` (migration 0004); the chain catches
whoever gets around that.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry
from domain.statuses import OrderStatus

# The prev_hash of the first row.
GENESIS_HASH = "0" * 64
# Key of the transaction-scoped advisory lock that makes appends take turns: "auditlog".
AUDIT_LOCK_KEY = int.from_bytes(b"auditlog", "big")


def transition_kind(from_status: str | None, to_status: str) -> str:
    """``hold`` and ``resume`` stand out from ordinary transitions; cancelling an order on hold
    is a cancellation, not a resume."""
    if to_status == OrderStatus.ON_HOLD:
        return "hold"
    if from_status == OrderStatus.ON_HOLD and to_status != OrderStatus.CANCELLED:
        return "resume"
    return "transition"


def entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    kind: str,
    order_no: str | None,
    payload: dict[str, Any],
) -> str:
    """The hash of one row, computed the same way when appending and when verifying."""
    if at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    content = json.dumps(
        {
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "kind": kind,
            "order_no": order_no,
            "payload": _canonical_numbers(payload),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


async def append_audit(
    session: AsyncSession,
    *,
    kind: str,
    actor: str,
    order_no: str | None,
    payload: dict[str, Any],
    at: datetime,
) -> int:
    """Append one row to the chain in the caller's transaction and answer its id; the caller
    commits.

    Appends take turns on a lock held until the caller's transaction ends, so call this last,
    after every row lock the transaction needs: that keeps the wait short and rules out
    deadlocks. Decimals, datetimes and UUIDs in ``payload`` are stored as strings.
    """
    stored = json.loads(json.dumps(payload, default=_as_text, allow_nan=False))
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    # Read after taking the lock, so the previous holder's row is committed and visible.
    prev_hash = await session.scalar(
        select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    )
    prev_hash = prev_hash or GENESIS_HASH
    entry_id = await session.scalar(
        insert(AuditEntry)
        .values(
            at=at,
            actor=actor,
            kind=kind,
            order_no=order_no,
            payload=stored,
            prev_hash=prev_hash,
            hash=entry_hash(prev_hash, at, actor, kind, order_no, stored),
        )
        .returning(AuditEntry.id)
    )
    assert entry_id is not None
    return entry_id


async def append_transition_audit(
    session: AsyncSession,
    *,
    order_no: str,
    seq: int,
    from_status: str | None,
    to_status: str,
    actor: str,
    reason: str | None,
    at: datetime,
) -> int:
    """Audit one status transition of an order (holds and resumes stand out by kind)."""
    return await append_audit(
        session,
        kind=transition_kind(from_status, to_status),
        actor=actor,
        order_no=order_no,
        payload={"from": from_status, "to": to_status, "reason": reason, "seq": seq},
        at=at,
    )


def _as_text(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot go into an audit payload")


def _canonical_numbers(value: Any) -> Any:
    """Whole floats as ints: PostgreSQL's jsonb gives ``1e16`` back as ``10000000000000000``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _canonical_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical_numbers(item) for item in value]
    return value
