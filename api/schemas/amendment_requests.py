"""Amendment requests: a customer asks for a change to its order, sales accept or refuse it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.types import SingleLine

_REQUEST_EXAMPLE: dict[str, Any] = {
    "id": 7,
    "order_no": "SO-2026-000123",
    "status": "accepted",
    "requested_by": "acme",
    "changes": {
        "reason": "our project needs twice the pumps",
        "change_lines": [{"line_no": 1, "quantity": 100}],
    },
    "requested_at": "2026-12-02T08:10:00Z",
    "decided_by": "sales1",
    "decided_at": "2026-12-02T09:30:00Z",
    "decision_reason": "agreed on the phone",
    "version": 2,
}


class AmendmentRequestPublic(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_REQUEST_EXAMPLE]})

    id: int
    order_no: str
    status: Literal["open", "accepted", "refused", "withdrawn"] = Field(
        description="`open` until sales accept it (it made `version`) or refuse it, or the "
        "customer withdraws it."
    )
    requested_by: str
    # Kept as sent rather than validated again: a delivery date asked for last week is no
    # longer one that could be asked for, but it is still what was asked.
    changes: dict[str, Any] = Field(
        description="What the customer asks to change: an `AmendmentCreate` body, as sent."
    )
    requested_at: datetime
    decided_by: str | None = Field(
        description="Who accepted, refused or withdrew it; a customer sees only its own people."
    )
    decided_at: datetime | None
    decision_reason: str | None
    version: int | None = Field(description="The order version the accepted request made.")


class AmendmentRequestAccept(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "agreed on the phone"}, {}]},
    )

    reason: SingleLine | None = Field(
        default=None,
        max_length=500,
        description="Why sales accept, added to the amendment's reason; leave out if none.",
    )


class AmendmentRequestRefuse(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "the pumps are allocated to another project until March"}]
        },
    )

    reason: SingleLine = Field(
        min_length=1, max_length=500, description="Why not; the customer is told."
    )


class AmendmentRequestWithdraw(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "we found the pumps elsewhere"}, {}]},
    )

    reason: SingleLine | None = Field(default=None, max_length=500)
