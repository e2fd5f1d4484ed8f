"""The audit log as stored, and the answer of its verification."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryPublic(BaseModel):
    """One audit row as stored, hashes included, so anyone can recompute the chain."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    kind: str
    order_no: str | None
    payload: dict[str, object]
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    ok: bool
    rows_checked: int
    first_bad_id: int | None = Field(
        description="The first row whose link or content does not match; null when ok."
    )
    detail: str
