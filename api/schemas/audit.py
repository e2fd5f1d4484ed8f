"""The audit log as stored, and the answer of its verification."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryPublic(BaseModel):
    """One audit row as stored, hashes included, so anyone can recompute the chain."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 5120,
                    "at": "2026-11-30T09:02:00Z",
                    "actor": "mgr1",
                    "kind": "decision",
                    "order_no": "SO-2026-000123",
                    "payload": {"level": 2, "decision": "approve", "acting_role": "manager"},
                    "prev_hash": "9b0c4f3e1d2a6b8c7e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
                    "hash": "2f6e1a9c8b7d4e3f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f",
                }
            ]
        },
    )

    id: int
    at: datetime
    actor: str
    kind: str
    order_no: str | None
    payload: dict[str, object]
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": True,
                    "rows_checked": 5120,
                    "first_bad_id": None,
                    "detail": "all 5120 rows are intact and linked in order",
                }
            ]
        }
    )

    ok: bool
    rows_checked: int
    first_bad_id: int | None = Field(
        description="The first row whose link or content does not match; null when ok."
    )
    detail: str
